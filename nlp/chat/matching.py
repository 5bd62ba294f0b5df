"""What the client asked for, read from their words: the period, the goals they name, the
asset classes a "why do I hold …?" question is about. Matching only: nothing the client typed is
executed or treated as an instruction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from advisor.models import Client

_PERIOD_PATTERNS = (
    (
        "ITD",
        r"since (?:the )?(?:start|beginning|inception|i (?:started|joined|opened|began))|"
        r"all[- ]time|overall|ever|in total|since day one|lifetime",
    ),
    ("1M", r"last month|past month|this month|1 ?month|30 days|four weeks|mtd"),
    ("3M", r"quarter|3 ?months|three months|90 days"),
    ("1Y", r"last year|past year|12 months|twelve months|1 ?year|one year|a year"),
    ("YTD", r"ytd|year to date|this year|so far this year|since january"),
)


def period_parse(text: str) -> str:
    """The reporting period a question asks for (default YTD)."""
    lowered = text.lower()
    for period, pattern in _PERIOD_PATTERNS:
        if re.search(pattern, lowered):
            return period
    return "YTD"


# Words that say nothing about which goal is meant, in a question or in a goal's name: without
# them "everything I'm saving for" would pick the goal called "Saving for Leo's college".
_STOP_TEXT = (
    "a about account accounts all am an and any are as at be been both by can could did do does "
    "doing each enough every for from fund funds get go goal goals going got had has have how i "
    "if im in into is it its just me money much my of on or our plan plans portfolio reach s "
    "save saved saving savings so that the their them there these this to track up us was we "
    "what when where which will with worth would you your"
)
_STOP_WORDS = frozenset(_STOP_TEXT.split())
_GOAL_TYPE_WORDS = {
    "retirement": "retirement retire retiring pension",
    "home_purchase": "house home apartment flat condo property mortgage",
    "education": "college education university school tuition kids",
    "emergency_fund": "emergency rainy safety cushion",
    "major_purchase": "car wedding purchase boat trip",
    "general_wealth": "wealth general",
}
_ALL_GOALS = re.compile(
    r"\b(?:everything|altogether|all of (?:them|it)|"
    r"(?:all|each|every|both|across)(?: of)?(?: (?:my|our|the|your))? "
    r"(?:goals?|accounts?|plans?|pots?))\b"
)
WORD_MATCH = 0.85  # difflib ratio: one typo in a word of 7+ letters still matches


def _words(text: str) -> set[str]:
    """Lower-case whole words without stop words, plural "s" dropped ("flats" → "flat")."""
    words = set()
    for raw in re.findall(r"[a-z0-9]+", text.lower()):
        word = raw[:-1] if len(raw) > 3 and raw[-1] == "s" and raw[-2] not in "siu" else raw
        if len(word) > 1 and raw not in _STOP_WORDS and word not in _STOP_WORDS:
            words.add(word)
    return words


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    if min(len(a), len(b)) < 5:  # short words must match exactly: "car" is not "card"
        return False
    return SequenceMatcher(None, a, b).ratio() >= WORD_MATCH


@dataclass(frozen=True)
class GoalMatch:
    goals: list[Any]
    named: bool  # the text named these goals; otherwise they are all the client's goals


def goals_match(client: Client, text: str) -> GoalMatch:
    """The goals a question names: whole words of their names (or their type), fuzzy but
    thresholded. "All my goals", "everything", or no goal named: all of them."""
    goals = list(client.goals.exclude(status="closed").order_by("target_date"))
    if not goals or _ALL_GOALS.search(text.lower()):
        return GoalMatch(goals, named=False)
    asked = _words(text)
    found: dict[int, frozenset[str]] = {}
    for goal in goals:
        names = _words(goal.name) | _words(_GOAL_TYPE_WORDS.get(goal.goal_type, ""))
        words = frozenset(w for w in asked if any(_same_word(w, n) for n in names))
        if words:
            found[goal.pk] = words
    # A goal matched by a strict subset of another's words is the weaker reading: "Emma's
    # college" names the goal "Emma's college fund", not also "Leo's college fund".
    named = [
        g
        for g in goals
        if g.pk in found and not any(found[g.pk] < other for other in found.values())
    ]
    return GoalMatch(named, named=True) if named else GoalMatch(goals, named=False)


def goals_named(client: Client, text: str) -> list[Any]:
    """The client's goals the text names; all goals when it names none."""
    return goals_match(client, text).goals


# --- "Why do I hold …?" -----------------------------------------------------------------------

_WHY = re.compile(
    r"\bwhy\b|\bhow come\b|\bwhat(?:'s|’s| is)(?: the)? (?:point|reason|purpose|role)\b"
)
# The question is about what the client holds ("why do bond prices fall?" is not).
_HELD = re.compile(
    r"\b(?:hold|holds|holding|held|own|owns|owning|have|has|having|got|includes?|included|"
    r"including|there|invest|invested|investing)\b|\bin (?:my|our|the) (?:portfolio|account|mix)"
)
# Most specific first: "inflation-protected Treasuries" is TIPS, "corporate bonds" not bonds.
_CLASS_WORDS: tuple[tuple[str, str], ...] = (
    (
        "tips",
        r"\btips?\b|\binflation[- ](?:protected|linked|indexed)"
        r"(?: (?:treasur(?:y|ies)|bonds?|securities))?",
    ),
    (
        "emerging_equity",
        r"\bemerging(?:[- ]markets?)?(?: (?:stocks?|equit(?:y|ies)|funds?))?|\beem\b",
    ),
    (
        "intl_developed_equity",
        r"\b(?:international|developed(?:[- ]markets?)?|foreign|overseas|non[- ]us)"
        r"(?: (?:stocks?|equit(?:y|ies)|funds?|markets?))?|\befa\b",
    ),
    ("real_estate", r"\breits?\b|\breal[- ]estate(?: funds?)?|\bpropert(?:y|ies)\b|\bvnq\b"),
    ("gold", r"\bgold\b|\bgld\b|\bprecious metals?\b"),
    ("corporate_bonds", r"\bcorporate(?: bonds?)?|\blqd\b"),
    ("cash", r"\bcash\b|\bt-?bills?\b|\btreasury bills?\b|\bmoney[- ]market(?: funds?)?|\bbil\b"),
    ("treasuries", r"\btreasur(?:y|ies)\b|\bgovernment bonds?\b|\bshy\b|\bief\b"),
    ("us_aggregate_bonds", r"\bbonds?\b|\bfixed[- ]income\b|\bagg\b"),
    ("us_equity", r"\b(?:(?:us|u\.s\.|american|domestic) )?(?:stocks?|equit(?:y|ies))\b|\bvti\b"),
)


def classes_mentioned(text: str) -> list[str]:
    """The asset classes a text names, in the order it names them."""
    lowered = text.lower()
    found: list[tuple[int, str]] = []
    for asset_class, pattern in _CLASS_WORDS:
        for m in re.finditer(pattern, lowered):
            found.append((m.start(), asset_class))
            lowered = lowered[: m.start()] + " " * (m.end() - m.start()) + lowered[m.end() :]
    return list(dict.fromkeys(c for _, c in sorted(found)))


def holding_why_classes(text: str) -> list[str]:
    """The asset classes a "why do I hold …?" question asks about; [] for any other question."""
    lowered = text.lower()
    if not (_WHY.search(lowered) and _HELD.search(lowered)):
        return []
    return classes_mentioned(text)
