"""The compliance check every reply passes before a client sees it.

Three rules for a regulated adviser's assistant:
1. No recommendation to buy, sell, short or hold an individual security.
2. No promise of returns ("guaranteed", "you will earn 8%", "can't lose").
3. The standard disclaimer wherever advice is touched (projections, performance, risk…).

A reply that breaks rule 1 or 2 is replaced, not edited: the safe reply says what Meridian
does instead and offers the advisor. Pure functions: no Django, no torch."""

import re
from dataclasses import dataclass, field

DISCLAIMER = (
    "Meridian provides this information for your accounts and goals; it is not a "
    "recommendation to buy or sell any security. Investing involves risk, including loss of "
    "principal, and past performance does not guarantee future results."
)
SAFE_REPLY = (
    "I can't recommend buying or selling individual securities or promise any return. "
    "Meridian invests your goals in diversified, low-cost ETF portfolios matched to your risk "
    "level. If you'd like to discuss a specific investment, I can connect you with your advisor."
)
# Intents whose answers touch advice: they always carry the disclaimer.
ADVICE_INTENTS = frozenset(
    {
        "performance",
        "holdings",
        "goal_progress",
        "risk_profile",
        "change_risk",
        "rebalancing",
        "market_sentiment",
        "education",
        "security_recommendation",
    }
)

_ACTION = (
    r"(?:buy(?:ing)?|sell(?:ing)?|short(?:ing)?|purchas(?:e|ing)|dump(?:ing)?|"
    r"load(?:ing)? up on|get(?:ting)? (?:in|into|out of))"
)
_RECOMMEND = re.compile(
    rf"\b(?:you should|i(?: would|'d|’d) (?:recommend|suggest)|i recommend|i suggest|we recommend|"
    rf"my (?:advice|recommendation) is to|it(?:'s| is) (?:a good|the right) time to|"
    rf"now is (?:a good|the) time to|go ahead and|consider)\s+(?:\w+\s+){{0,3}}{_ACTION}\b",
    re.IGNORECASE,
)
_RATING = re.compile(
    r"\b(?:strong\s+)?(?:buy|sell)\s+(?:rating|signal|now)\b|\bis a (?:strong )?(?:buy|sell)\b",
    re.IGNORECASE,
)
_PROMISE = re.compile(
    r"\b(?:guarantee[sd]?|risk[- ]free return|can(?:no|')t lose|cannot lose|sure thing|"
    r"will (?:definitely|certainly|surely) (?:grow|rise|go up|earn|make|return|double)|"
    r"you will (?:earn|make|get) \d|(?:returns?|earn) of \d+(?:\.\d+)?% (?:a|per) year guaranteed)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Checked:
    text: str
    findings: list[str] = field(default_factory=list)  # codes of what the check changed


_NEGATION = re.compile(
    r"\b(?:not|no|never|nor|without|cannot|can't|don't|doesn't|isn't|won't)\b|n't\b", re.IGNORECASE
)


def _affirmed(pattern: re.Pattern[str], text: str, *, inside: bool = True) -> bool:
    """A match not negated just before it ("does not guarantee") or, with `inside`, within
    its own words ("you should not buy"); "can't lose" is itself the promise."""
    for match in pattern.finditer(text):
        before = text[max(0, match.start() - 24) : match.start()]
        if _NEGATION.search(before) or (inside and _NEGATION.search(match.group(0))):
            continue
        return True
    return False


def findings_of(text: str) -> list[str]:
    found = []
    if _affirmed(_RECOMMEND, text) or _affirmed(_RATING, text):
        found.append("security_recommendation")
    if _affirmed(_PROMISE, text, inside=False):
        found.append("return_promise")
    return found


def reply_check(text: str, *, intent: str | None) -> Checked:
    """The reply as it may be sent, and what had to change."""
    findings = findings_of(text)
    if findings:
        text = SAFE_REPLY
    advice = intent in ADVICE_INTENTS or bool(findings)
    if advice and DISCLAIMER not in text:
        text = f"{text}\n\n{DISCLAIMER}"
        findings.append("disclaimer_added")
    return Checked(text=text, findings=findings)
