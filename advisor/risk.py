"""The versioned risk questionnaire and its deterministic scoring; the level itself is decided
by the one suitability policy (advisor.suitability), which also weighs the risk model's level.

Pure Python on purpose: the web layer, workers and the ML training code all import it, and a
published version must score the same answers the same way forever. Never edit a published
QuestionSet; add a new version and point CURRENT_VERSION at it.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from . import suitability

Dimension = Literal["willingness", "capacity"]
DIMENSIONS: tuple[Dimension, ...] = ("willingness", "capacity")

# Generous bounds on untrusted input: far above any real questionnaire, low enough that a
# hostile payload cannot make validation or error messages expensive.
MAX_ANSWERS = 100
MAX_TEXT_LENGTH = 100

# A client who wants this many more levels of risk than they can bear needs an advisor's look.
WILLINGNESS_CAPACITY_GAP = 5


@dataclass(frozen=True)
class Choice:
    """One answer the client may pick; more points means more tolerance for risk."""

    value: str
    label: str
    points: int


@dataclass(frozen=True)
class Question:
    """One question, scored on a single dimension."""

    key: str
    text: str
    dimension: Dimension
    choices: tuple[Choice, ...]
    help_text: str = ""

    def choice(self, value: str) -> Choice | None:
        """Return the choice with this machine value, or None."""
        return next((c for c in self.choices if c.value == value), None)

    @property
    def max_points(self) -> int:
        """Points of the most risk-tolerant choice."""
        return max(c.points for c in self.choices)


@dataclass(frozen=True)
class QuestionSet:
    """One published version of the questionnaire."""

    version: str
    title: str
    questions: tuple[Question, ...]

    def question(self, key: str) -> Question | None:
        """Return the question with this key, or None."""
        return next((q for q in self.questions if q.key == key), None)


class UnknownQuestionnaireVersion(ValueError):
    """Raised for a version that was never published."""

    def __init__(self, version: str, known: Iterable[str]) -> None:
        self.version = version
        self.known = tuple(known)
        super().__init__(
            f"Unknown questionnaire version {version!r}; known versions: {', '.join(self.known)}."
        )


class AnswersInvalid(ValueError):
    """Raised with every problem found in a set of answers, keyed by question (or "answers")."""

    def __init__(self, field_errors: dict[str, list[str]]) -> None:
        self.field_errors = field_errors
        super().__init__(f"Invalid answers: {', '.join(field_errors)}.")


# A reason the answers contradict each other, in words an advisor can act on.
InconsistencyFlag = suitability.Flag


@dataclass(frozen=True)
class RiskScore:
    """The deterministic scoring of one set of answers."""

    willingness_score: int
    capacity_score: int
    willingness_level: int
    capacity_level: int
    risk_level: int
    inconsistent: bool
    flags: tuple[InconsistencyFlag, ...]
    decision: suitability.Decision  # the policy's record: risk_level is its level

    def as_details(self) -> dict[str, Any]:
        """Everything above as a JSON-ready dict."""
        return {
            "willingness_score": self.willingness_score,
            "capacity_score": self.capacity_score,
            "willingness_level": self.willingness_level,
            "capacity_level": self.capacity_level,
            "risk_level": self.risk_level,
            "inconsistent": self.inconsistent,
            "flags": [{"code": f.code, "message": f.message} for f in self.flags],
            "decision": self.decision.as_details(),
        }


def _choices(*items: tuple[str, str, int]) -> tuple[Choice, ...]:
    return tuple(Choice(value=value, label=label, points=points) for value, label, points in items)


_V2026_1 = QuestionSet(
    version="2026.1",
    title="Your attitude to risk and your ability to bear losses",
    questions=(
        # --- Willingness: attitude and likely behaviour ---
        Question(
            key="scf_willingness",
            text=(
                "Which of the following statements comes closest to the amount of financial "
                "risk that you are willing to take when you save or make investments?"
            ),
            dimension="willingness",
            # Worded and ordered as in the Federal Reserve's Survey of Consumer Finances.
            choices=_choices(
                (
                    "substantial",
                    "Take substantial financial risks expecting to earn substantial returns",
                    3,
                ),
                (
                    "above_average",
                    "Take above average financial risks expecting to earn above average returns",
                    2,
                ),
                ("average", "Take average financial risks expecting to earn average returns", 1),
                ("none", "Not willing to take any financial risks", 0),
            ),
        ),
        Question(
            key="loss_reaction",
            text=(
                "Imagine that, in line with the wider market, your investments fell by 20% in a "
                "single month. What would you most likely do?"
            ),
            dimension="willingness",
            help_text="Answer with what you would actually do, not what you think you should do.",
            choices=_choices(
                ("sell_all", "Sell all of my investments to avoid further losses", 0),
                ("sell_some", "Sell some of my investments", 1),
                ("hold", "Do nothing and wait for prices to recover", 2),
                ("buy_more", "Invest more while prices are lower", 3),
            ),
        ),
        Question(
            key="portfolio_choice",
            text=(
                "The portfolios below show a plausible best and worst result over one year. "
                "Which one would you choose to hold?"
            ),
            dimension="willingness",
            help_text="Higher possible returns come with larger possible losses.",
            choices=_choices(
                ("capital_stable", "Best year +4%, worst year 0%", 0),
                ("moderate", "Best year +10%, worst year -8%", 1),
                ("growth", "Best year +20%, worst year -18%", 2),
                ("high_growth", "Best year +30%, worst year -28%", 3),
            ),
        ),
        Question(
            key="risk_attitude",
            text="When you think of the word “risk” in a financial context, which word comes "
            "to mind first?",
            dimension="willingness",
            choices=_choices(
                ("loss", "Loss", 0),
                ("uncertainty", "Uncertainty", 1),
                ("opportunity", "Opportunity", 2),
                ("thrill", "Thrill", 3),
            ),
        ),
        Question(
            key="prize_choice",
            text="You are offered a one-off prize and may choose how to take it. Which would "
            "you pick?",
            dimension="willingness",
            choices=_choices(
                ("sure_1000", "$1,000 in cash, guaranteed", 0),
                ("chance_50_5000", "A 50% chance of winning $5,000", 1),
                ("chance_25_10000", "A 25% chance of winning $10,000", 2),
                ("chance_5_100000", "A 5% chance of winning $100,000", 3),
            ),
        ),
        # --- Capacity: ability to bear losses, whatever the client's attitude ---
        Question(
            key="time_horizon",
            text="When do you expect to need most of the money you are investing?",
            dimension="capacity",
            choices=_choices(
                ("under_3", "In less than 3 years", 0),
                ("3_to_5", "In 3 to 5 years", 1),
                ("6_to_10", "In 6 to 10 years", 2),
                ("11_to_20", "In 11 to 20 years", 3),
                ("over_20", "In more than 20 years", 4),
            ),
        ),
        Question(
            key="income_stability",
            text="How secure do you expect your income to be over the next five years?",
            dimension="capacity",
            help_text="Include pensions and benefits as well as earnings.",
            choices=_choices(
                ("very_uncertain", "Very uncertain: it could stop or fall sharply", 0),
                ("somewhat_uncertain", "Somewhat uncertain: it varies from year to year", 1),
                ("fairly_stable", "Fairly stable", 2),
                ("very_stable", "Very stable and likely to grow", 3),
            ),
        ),
        Question(
            key="emergency_reserves",
            text=(
                "For how many months could you cover your essential expenses from cash savings, "
                "without selling any investments?"
            ),
            dimension="capacity",
            choices=_choices(
                ("under_1", "Less than 1 month", 0),
                ("1_to_2", "1 to 2 months", 1),
                ("3_to_5", "3 to 5 months", 2),
                ("6_or_more", "6 months or more", 3),
            ),
        ),
        Question(
            key="dependents",
            text="How many people depend on you financially?",
            dimension="capacity",
            help_text="For example children, a partner without income, or relatives you support.",
            choices=_choices(
                ("three_or_more", "Three or more", 0),
                ("two", "Two", 1),
                ("one", "One", 2),
                ("none", "None", 3),
            ),
        ),
        Question(
            key="loss_impact",
            text=(
                "If the investments in this plan lost a third of their value and took several "
                "years to recover, how would your standard of living be affected?"
            ),
            dimension="capacity",
            choices=_choices(
                ("severe", "Severely: I could not meet essential expenses", 0),
                ("significant", "Significantly: I would have to cut back a lot", 1),
                ("minor", "A little: I would postpone some plans", 2),
                ("none", "Not at all", 3),
            ),
        ),
        Question(
            key="debt_burden",
            text=(
                "Roughly what share of your monthly take-home income goes on debt repayments, "
                "including any mortgage, loans and credit cards?"
            ),
            dimension="capacity",
            choices=_choices(
                ("over_40", "More than 40%", 0),
                ("20_to_40", "20% to 40%", 1),
                ("under_20", "Less than 20%", 2),
                ("none", "I have no debt repayments", 3),
            ),
        ),
    ),
)

QUESTION_SETS: dict[str, QuestionSet] = {_V2026_1.version: _V2026_1}
CURRENT_VERSION = "2026.1"


def question_set_check(question_set: QuestionSet) -> None:
    """Raise ValueError if a question set could not be scored reliably; run on every import."""
    keys = [q.key for q in question_set.questions]
    if len(set(keys)) != len(keys):
        raise ValueError(f"{question_set.version}: duplicate question keys.")
    for question in question_set.questions:
        values = [c.value for c in question.choices]
        if not 3 <= len(values) <= 5 or len(set(values)) != len(values):
            raise ValueError(f"{question_set.version}/{question.key}: need 3-5 distinct choices.")
        if min(c.points for c in question.choices) != 0 or question.max_points <= 0:
            raise ValueError(f"{question_set.version}/{question.key}: points must start at 0.")
        if any(len(v) > MAX_TEXT_LENGTH for v in [question.key, *values]):
            raise ValueError(f"{question_set.version}/{question.key}: key or value too long.")
    for dimension in DIMENSIONS:
        if not any(q.dimension == dimension for q in question_set.questions):
            raise ValueError(f"{question_set.version}: no {dimension} questions.")


for _question_set in QUESTION_SETS.values():
    question_set_check(_question_set)
if CURRENT_VERSION not in QUESTION_SETS:
    raise ValueError(f"CURRENT_VERSION {CURRENT_VERSION!r} is not published.")


def question_set_get(version: str | None = None) -> QuestionSet:
    """Return a published question set; the current one when no version is given."""
    key = CURRENT_VERSION if version is None else version
    try:
        return QUESTION_SETS[key]
    except (KeyError, TypeError):
        raise UnknownQuestionnaireVersion(str(key), QUESTION_SETS) from None


def answers_validate(question_set: QuestionSet, answers: object) -> dict[str, str]:
    """Check untrusted answers against a question set, reporting every problem at once.

    Returns a new dict of the answers in question order.
    """
    if not isinstance(answers, dict):
        raise AnswersInvalid(
            {"answers": ["Must be an object mapping question keys to choice values."]}
        )
    if len(answers) > MAX_ANSWERS:
        # Checked before looking at any key, so a huge payload costs nothing more.
        raise AnswersInvalid({"answers": [f"Too many answers: at most {MAX_ANSWERS} allowed."]})

    errors: dict[str, list[str]] = {}
    for key in answers:
        if not isinstance(key, str) or len(key) > MAX_TEXT_LENGTH:
            # Not usable as a field key; reported once for the whole object.
            message = f"Question keys must be strings of at most {MAX_TEXT_LENGTH} characters."
            if message not in errors.setdefault("answers", []):
                errors["answers"].append(message)
        elif question_set.question(key) is None:
            errors[key] = ["Unknown question."]

    cleaned: dict[str, str] = {}
    for question in question_set.questions:
        if question.key not in answers:
            errors[question.key] = ["This question must be answered."]
            continue
        value = answers[question.key]
        if not isinstance(value, str):
            errors[question.key] = ["Must be a string."]
        elif len(value) > MAX_TEXT_LENGTH:
            errors[question.key] = [f"Must be at most {MAX_TEXT_LENGTH} characters."]
        elif question.choice(value) is None:
            allowed = ", ".join(c.value for c in question.choices)
            errors[question.key] = [f"Not one of the allowed choices: {allowed}."]
        else:
            cleaned[question.key] = value

    if errors:
        raise AnswersInvalid(errors)
    return cleaned


def level_from_score(score: int) -> int:
    """Map a 0..100 score onto a 1..10 level: 1 + round(score * 9 / 100), halves rounding up.

    Integer arithmetic keeps it exact; 0 → 1, 50 → 6, 100 → 10.
    """
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise ValueError(f"Score must be an integer from 0 to 100, got {score!r}.")
    return 1 + (score * 9 + 50) // 100


def _dimension_score(question_set: QuestionSet, answers: dict[str, str], dim: Dimension) -> int:
    """round(100 * points / max points) over the dimension's questions, halves rounding up."""
    questions = [q for q in question_set.questions if q.dimension == dim]
    earned = sum(_points(q, answers[q.key]) for q in questions)
    possible = sum(q.max_points for q in questions)
    return (200 * earned + possible) // (2 * possible)


def _points(question: Question, value: str) -> int:
    choice = question.choice(value)
    if choice is None:  # pragma: no cover - answers are validated first
        raise ValueError(f"{question.key}: unknown choice.")
    return choice.points


def _flags(
    question_set: QuestionSet, answers: dict[str, str], willingness_level: int, capacity_level: int
) -> tuple[InconsistencyFlag, ...]:
    """Apply the inconsistency rules; rules whose questions a version lacks are skipped."""
    stated = answers.get("scf_willingness")
    reaction = answers.get("loss_reaction")
    portfolio = answers.get("portfolio_choice")
    flags: list[InconsistencyFlag] = []

    if stated in ("substantial", "above_average") and reaction == "sell_all":
        flags.append(
            InconsistencyFlag(
                code="stated_vs_loss_reaction",
                message=(
                    "The client says they will take above-average or substantial risk, but "
                    "would sell everything after a 20% fall. Discuss how they would really "
                    "react to losses."
                ),
            )
        )
    if stated == "none" and (portfolio == "high_growth" or reaction == "buy_more"):
        flags.append(
            InconsistencyFlag(
                code="stated_none_vs_aggressive_choice",
                message=(
                    "The client says they are not willing to take any financial risk, but chose "
                    "the most aggressive portfolio or would invest more after a 20% fall. "
                    "Check which describes them."
                ),
            )
        )
    if willingness_level - capacity_level >= WILLINGNESS_CAPACITY_GAP:
        flags.append(
            InconsistencyFlag(
                code="willingness_exceeds_capacity",
                message=(
                    f"The client wants far more risk (level {willingness_level}) than their "
                    f"finances can bear (level {capacity_level}). The recommendation is capped "
                    "at their capacity; explain why."
                ),
            )
        )
    if reaction is not None and portfolio is not None:
        reaction_q = question_set.question("loss_reaction")
        portfolio_q = question_set.question("portfolio_choice")
        if reaction_q is not None and portfolio_q is not None:
            # Both are 0..3 scales; two steps apart means the scenarios point opposite ways.
            gap = _points(reaction_q, reaction) - _points(portfolio_q, portfolio)
            if abs(gap) >= 2:
                flags.append(
                    InconsistencyFlag(
                        code="scenarios_disagree",
                        message=(
                            "The client's reaction to a 20% fall and their choice of portfolio "
                            "point in opposite directions. Go through both scenarios with them."
                        ),
                    )
                )
    return tuple(flags)


def answers_score(question_set: QuestionSet, answers: dict[str, str]) -> RiskScore:
    """Validate and score answers; the suitability policy decides the level from the two
    dimensions' levels (the lower of willingness and capacity)."""
    cleaned = answers_validate(question_set, answers)
    willingness_score = _dimension_score(question_set, cleaned, "willingness")
    capacity_score = _dimension_score(question_set, cleaned, "capacity")
    willingness_level = level_from_score(willingness_score)
    capacity_level = level_from_score(capacity_score)
    flags = _flags(question_set, cleaned, willingness_level, capacity_level)
    decision = suitability.decide(
        willingness_level=willingness_level, capacity_level=capacity_level, flags=flags
    )
    return RiskScore(
        willingness_score=willingness_score,
        capacity_score=capacity_score,
        willingness_level=willingness_level,
        capacity_level=capacity_level,
        risk_level=decision.level,
        inconsistent=bool(flags),
        flags=flags,
        decision=decision,
    )
