"""The suitability policy: the one rule that decides the risk level a client is invested at,
and the words that explain it, generated from the rule's own decision record.

Plain data in, a frozen `Decision` out; no Django, so scoring, the risk model's worker, advisor
overrides, the API, the chat and the workspace all apply and explain the same rule.

The rule (policy "suitability-v1"):

1. The rules' level is the lower of the willingness level and the capacity level: capacity caps
   what a client may take on however willing they are, and we never ask more than they said
   they are willing to take.
2. The risk model's level can only lower it, never raise it. When the model's level is below
   the rules' level the final level is halfway between the two, rounded down (toward caution):
   `(rules + model) // 2`. A model at or above the rules' level changes nothing. Halfway rather
   than `min(...)`: the model is a second opinion on partly proxied inputs, so it pulls the
   level toward its view without taking it over; a model MODEL_DISAGREEMENT_LEVELS or more from
   the stated willingness raises a flag, and an advisor, who can lower the level further, looks.
3. The stress cap can only lower it, never raise it: given the worst stress-scenario loss of
   each level's model portfolio (`StressCap`, plain data computed by portfolios, which sits above
   advisor) and the loss the client said they could bear, a level whose worst loss exceeds that
   tolerance (both as the whole percents the client is shown) comes down to the highest level
   below it whose worst loss does not. When no level is within it (answers that accept no loss
   at all), the level is the lowest, 1, and the advisor is flagged: a client always has a level.
   Without a figure for the level reached by 1-2 there is no evidence, and nothing changes.
4. An advisor may override within 1..capacity, with a reason. Above the capacity level only
   with a second person's approval (four-eyes, `advisor.approve_risk_override_above_capacity`);
   the policy refuses an unapproved one. An override keeps the flags it reviewed; above the
   stress cap it is allowed (the advisor has seen the cap and gives a reason) and said so.

Integer arithmetic only: no float and no `round()`, whose halves go to the even neighbour.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

POLICY = "suitability-v1"
RULE = (
    "min(willingness level, capacity level); a lower model level pulls it halfway down, "
    "rounded down: (rules + model) // 2; the stress cap lowers it to the highest level whose "
    "worst scenario loss is within the stated tolerance (1 when none is); an advisor's override "
    "within 1..capacity, above capacity only with a compliance approval"
)
MIN_LEVEL, MAX_LEVEL = 1, 10
# A model this many levels from the client's stated willingness needs an advisor's look.
MODEL_DISAGREEMENT_LEVELS = 3

DecidedBy = Literal["rules", "model", "advisor"]
Role = Literal["advisor", "staff"]

# Why the level is what it is; the first reason of a decision is the deciding one.
WILLINGNESS_BELOW_CAPACITY = "willingness_below_capacity"
CAPACITY_BELOW_WILLINGNESS = "capacity_below_willingness"
WILLINGNESS_EQUALS_CAPACITY = "willingness_equals_capacity"
MODEL_LOWERS_LEVEL = "model_lowers_level"
MODEL_NOT_LOWER = "model_not_lower"
ADVISOR_OVERRIDE = "advisor_override"
OVERRIDE_ABOVE_WILLINGNESS = "override_above_willingness"
OVERRIDE_ABOVE_CAPACITY_APPROVED = "override_above_capacity_approved"
STRESS_CAP_LOWERS_LEVEL = "stress_cap_lowers_level"
STRESS_FLOOR = "stress_floor"  # no level within the tolerance: the lowest level
OVERRIDE_ABOVE_STRESS_CAP = "override_above_stress_cap"
RECORDED_LEVEL = "recorded_level"  # a row written before this policy, shown as recorded
REASONS = (
    WILLINGNESS_BELOW_CAPACITY,
    CAPACITY_BELOW_WILLINGNESS,
    WILLINGNESS_EQUALS_CAPACITY,
    MODEL_LOWERS_LEVEL,
    MODEL_NOT_LOWER,
    ADVISOR_OVERRIDE,
    OVERRIDE_ABOVE_WILLINGNESS,
    OVERRIDE_ABOVE_CAPACITY_APPROVED,
    STRESS_CAP_LOWERS_LEVEL,
    STRESS_FLOOR,
    OVERRIDE_ABOVE_STRESS_CAP,
    RECORDED_LEVEL,
)
STRESS_REASONS = (STRESS_CAP_LOWERS_LEVEL, STRESS_FLOOR)

# Each deciding reason's phrase in the client's explanation (tests check the text carries it).
CLIENT_REASON_TEXT = {
    WILLINGNESS_BELOW_CAPACITY: "your willingness to take risk is the lower, so it sets the level",
    CAPACITY_BELOW_WILLINGNESS: "your capacity to bear losses is the lower, so it caps the level",
    WILLINGNESS_EQUALS_CAPACITY: "both give the same level",
    MODEL_LOWERS_LEVEL: "halfway between the two, rounded down to the more cautious level",
    ADVISOR_OVERRIDE: "who gave this reason",
    STRESS_CAP_LOWERS_LEVEL: "you said you could bear",
    STRESS_FLOOR: "our most cautious level",
    RECORDED_LEVEL: "as recorded",
}

# What a client reads about a flag; the flags' own messages are written for advisors.
CLIENT_FLAG_TEXT = {
    "stated_vs_loss_reaction": "You said you would take above-average risk, but also that you "
    "would sell everything after a 20% fall.",
    "stated_none_vs_aggressive_choice": "You said you don't want to take any financial risk, "
    "but chose the boldest portfolio or would invest more after a fall.",
    "willingness_exceeds_capacity": "You are willing to take far more risk than your finances "
    "can comfortably bear, so your capacity caps your level.",
    "scenarios_disagree": "Your answers to the two market-fall scenarios point in different "
    "directions.",
    "model_vs_stated": "Our risk model's second opinion differs from your answers by several "
    "levels.",
    "model_low_confidence": "Our risk model is unsure of your level, so your advisor will review "
    "it with you.",
}
CLIENT_FLAG_FALLBACK = "Some of your answers point in different directions."


class OverrideNotAllowed(ValueError):
    """An override the policy refuses: outside 1..10, or above capacity without approval."""


@dataclass(frozen=True)
class Flag:
    """A reason for an advisor to look, in words an advisor can act on (never shown to a client;
    see CLIENT_FLAG_TEXT)."""

    code: str
    message: str


@dataclass(frozen=True)
class Override:
    """An advisor's level for a client, with the reason and, above capacity, the approval."""

    level: int
    reason: str
    set_by: str  # a display name, "Alex M."
    set_by_role: Role = "advisor"  # the client's own advisor, or other staff (an admin)
    set_on: date | None = None
    approved_by: str | None = None  # the second person (compliance), above capacity only
    approved_on: date | None = None
    flags_reviewed: bool = False  # the advisor confirmed they went through the flags


@dataclass(frozen=True)
class LevelLoss:
    """The worst stress-scenario loss of one level's model portfolio, with the scenario."""

    level: int
    loss: float  # a fraction, 0.32 for a 32% fall
    scenario: str  # its name, "2008 financial crisis"
    phrase: str = ""  # how a client's sentence opens, "In a year like 2008"
    historical: bool = True  # replayed ("could have fallen") or a hypothetical shock


@dataclass(frozen=True)
class StressCap:
    """The stress cap's inputs as plain data: the loss the client said they could bear and the
    worst scenario loss of each level's approved model portfolio on `market_date`."""

    tolerance: float  # a fraction
    losses: tuple[LevelLoss, ...]
    market_date: date | None = None

    def loss_at(self, level: int) -> LevelLoss | None:
        return next((item for item in self.losses if item.level == level), None)

    def as_details(self) -> dict[str, Any]:
        return {
            "tolerance": self.tolerance,
            "market_date": _iso(self.market_date),
            "losses": [
                {
                    "level": item.level,
                    "loss": item.loss,
                    "scenario": item.scenario,
                    "phrase": item.phrase,
                    "historical": item.historical,
                }
                for item in self.losses
            ],
        }


def stress_cap_from(details: Mapping[str, Any] | None) -> StressCap | None:
    """Read back `StressCap.as_details()`."""
    if not details:
        return None
    return StressCap(
        tolerance=float(details["tolerance"]),
        losses=tuple(
            LevelLoss(
                level=int(item["level"]),
                loss=float(item["loss"]),
                scenario=str(item.get("scenario", "")),
                phrase=str(item.get("phrase", "")),
                historical=bool(item.get("historical", True)),
            )
            for item in details.get("losses") or ()
        ),
        market_date=_day(details.get("market_date")),
    )


def loss_percent(fraction: float) -> int:
    """A loss as the whole percent a client is shown, halves up (portfolios.stress.percent is
    this function: the stress check and the stress cap compare the same numbers)."""
    return int(math.floor(abs(fraction) * 100 + 0.5))


def loss_within(loss: float, tolerance: float) -> bool:
    """Whether a loss is within the tolerance, both compared as the whole percents shown."""
    return loss_percent(loss) <= loss_percent(tolerance)


def stress_capped_level(level: int, stress: StressCap) -> tuple[int, str | None]:
    """The level the stress cap allows at or below `level`, and why it moved: the level itself
    when its worst loss is within the tolerance or unknown (no evidence, no change); else the
    highest level below it whose worst loss is within (`STRESS_CAP_LOWERS_LEVEL`); else the
    lowest level (`STRESS_FLOOR`)."""
    here = stress.loss_at(level)
    if here is None or loss_within(here.loss, stress.tolerance):
        return level, None
    for lower in range(level - 1, MIN_LEVEL - 1, -1):
        item = stress.loss_at(lower)
        if item is not None and loss_within(item.loss, stress.tolerance):
            return lower, STRESS_CAP_LOWERS_LEVEL
    return MIN_LEVEL, STRESS_FLOOR


@dataclass(frozen=True)
class Decision:
    """The policy's decision record: the level, who decided it and why, and the inputs."""

    level: int
    decided_by: DecidedBy
    reasons: tuple[str, ...]
    willingness_level: int | None
    capacity_level: int | None
    rules_level: int | None
    model_level: int | None = None
    override: Override | None = None
    flags: tuple[Flag, ...] = ()
    decided_on: date | None = None
    policy: str = POLICY
    stress: StressCap | None = None  # the stress cap's inputs, when it was applied
    uncapped_level: int | None = None  # the level before the stress cap (with `stress`)

    @property
    def reason(self) -> str:
        """The deciding reason's code."""
        return self.reasons[0]

    @property
    def flags_reviewed(self) -> bool:
        return self.override is not None and self.override.flags_reviewed

    @property
    def stress_capped(self) -> bool:
        """The stress cap lowered the level (to the lowest one, for `STRESS_FLOOR`)."""
        return any(r in STRESS_REASONS for r in self.reasons)

    @property
    def open_flags(self) -> tuple[Flag, ...]:
        """Flags an advisor has yet to go through with the client."""
        return () if self.flags_reviewed else self.flags

    @property
    def client_flags(self) -> tuple[Flag, ...]:
        """The open flags in the client's words."""
        return client_flags(self.open_flags)

    @property
    def client_explanation(self) -> str:
        return client_explanation(self)

    @property
    def advisor_explanation(self) -> str:
        return advisor_explanation(self)

    def as_details(self) -> dict[str, Any]:
        """A JSON-ready dict, stored with the assessment; `decision_from_details` reads it."""
        override = self.override
        return {
            "policy": self.policy,
            "level": self.level,
            "decided_by": self.decided_by,
            "reasons": list(self.reasons),
            "willingness_level": self.willingness_level,
            "capacity_level": self.capacity_level,
            "rules_level": self.rules_level,
            "model_level": self.model_level,
            "decided_on": _iso(self.decided_on),
            "flags": [{"code": f.code, "message": f.message} for f in self.flags],
            "stress": None if self.stress is None else self.stress.as_details(),
            "uncapped_level": self.uncapped_level,
            "override": None
            if override is None
            else {
                "level": override.level,
                "reason": override.reason,
                "set_by": override.set_by,
                "set_by_role": override.set_by_role,
                "set_on": _iso(override.set_on),
                "approved_by": override.approved_by,
                "approved_on": _iso(override.approved_on),
                "flags_reviewed": override.flags_reviewed,
            },
        }


def client_flags(flags: Iterable[Flag]) -> tuple[Flag, ...]:
    """Flags in the client's words: their codes kept, their messages (an advisor's) replaced."""
    return tuple(Flag(f.code, CLIENT_FLAG_TEXT.get(f.code, CLIENT_FLAG_FALLBACK)) for f in flags)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _day(value: Any) -> date | None:
    return date.fromisoformat(value[:10]) if isinstance(value, str) and value else None


def _level(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if not MIN_LEVEL <= value <= MAX_LEVEL:
        raise ValueError(f"{name} must be from {MIN_LEVEL} to {MAX_LEVEL}, got {value}.")
    return value


def flags_from(items: Iterable[Mapping[str, Any]]) -> tuple[Flag, ...]:
    """Flags from their stored form, [{"code", "message"}]."""
    return tuple(Flag(str(f.get("code", "")), str(f.get("message", ""))) for f in items)


def decide(
    *,
    willingness_level: int,
    capacity_level: int,
    model_level: int | None = None,
    override: Override | None = None,
    flags: Iterable[Flag] = (),
    decided_on: date | None = None,
    stress: StressCap | None = None,
) -> Decision:
    """Apply the policy (see the module docstring) to the questionnaire's two levels, the risk
    model's level, the stress cap's inputs and an advisor's override, each optional but the
    first two."""
    willing = _level("willingness_level", willingness_level)
    able = _level("capacity_level", capacity_level)
    rules_level = min(willing, able)
    if willing < able:
        rules_reason = WILLINGNESS_BELOW_CAPACITY
    elif able < willing:
        rules_reason = CAPACITY_BELOW_WILLINGNESS
    else:
        rules_reason = WILLINGNESS_EQUALS_CAPACITY
    all_flags = list(flags)
    level, decided_by, reasons = rules_level, "rules", [rules_reason]

    if model_level is not None:
        model = _level("model_level", model_level)
        gap = abs(model - willing)
        # Re-deciding a recorded decision (an override on top of it) must not flag twice.
        if gap >= MODEL_DISAGREEMENT_LEVELS and all(f.code != "model_vs_stated" for f in all_flags):
            all_flags.append(
                Flag(
                    code="model_vs_stated",
                    message=f"The risk model puts this client at level {model}, {gap} levels "
                    f"from their stated willingness ({willing}): worth an advisor's review.",
                )
            )
        if model < rules_level:
            level, decided_by = (rules_level + model) // 2, "model"
            reasons = [MODEL_LOWERS_LEVEL, rules_reason]
        else:
            reasons.append(MODEL_NOT_LOWER)

    uncapped_level = None
    if stress is not None:
        uncapped_level = level
        level, stress_reason = stress_capped_level(level, stress)
        if stress_reason is not None:
            reasons = [stress_reason, *reasons]

    if override is not None:
        wanted = override.level
        try:
            _level("override level", wanted)
        except ValueError as exc:
            raise OverrideNotAllowed(str(exc)) from exc
        if not override.reason.strip():
            raise OverrideNotAllowed("An override needs a reason.")
        extra = []
        if wanted > able:
            if not override.approved_by:
                raise OverrideNotAllowed(
                    f"Level {wanted} is above the capacity level ({able}): it needs a second "
                    "person's approval."
                )
            extra.append(OVERRIDE_ABOVE_CAPACITY_APPROVED)
        if wanted > willing:
            extra.append(OVERRIDE_ABOVE_WILLINGNESS)
        if uncapped_level is not None and wanted > level and level < uncapped_level:
            extra.append(OVERRIDE_ABOVE_STRESS_CAP)
        level, decided_by = wanted, "advisor"
        reasons = [ADVISOR_OVERRIDE, *extra, *reasons]

    return Decision(
        level=level,
        decided_by=decided_by,  # type: ignore[arg-type]
        reasons=tuple(reasons),
        willingness_level=willing,
        capacity_level=able,
        rules_level=rules_level,
        model_level=model_level,
        override=override,
        flags=tuple(all_flags),
        decided_on=decided_on,
        stress=stress,
        uncapped_level=uncapped_level,
    )


def recorded(
    *,
    level: int,
    decided_by: DecidedBy,
    willingness_level: int | None = None,
    capacity_level: int | None = None,
    flags: Iterable[Flag] = (),
    decided_on: date | None = None,
) -> Decision:
    """A level stored without a decision record (before this policy): shown as recorded, so
    text and number still agree."""
    rules_level = None
    if willingness_level is not None and capacity_level is not None:
        rules_level = min(willingness_level, capacity_level)
    return Decision(
        level=level,
        decided_by=decided_by,
        reasons=(RECORDED_LEVEL,),
        willingness_level=willingness_level,
        capacity_level=capacity_level,
        rules_level=rules_level,
        flags=tuple(flags),
        decided_on=decided_on,
    )


def decision_from_details(details: Mapping[str, Any]) -> Decision:
    """Read back a stored `Decision.as_details()`."""
    stored = details.get("override")
    override = None
    if stored:
        override = Override(
            level=int(stored["level"]),
            reason=str(stored.get("reason", "")),
            set_by=str(stored.get("set_by", "")),
            set_by_role="staff" if stored.get("set_by_role") == "staff" else "advisor",
            set_on=_day(stored.get("set_on")),
            approved_by=stored.get("approved_by") or None,
            approved_on=_day(stored.get("approved_on")),
            flags_reviewed=bool(stored.get("flags_reviewed")),
        )
    return Decision(
        level=int(details["level"]),
        decided_by=details["decided_by"],
        reasons=tuple(details.get("reasons") or (RECORDED_LEVEL,)),
        willingness_level=details.get("willingness_level"),
        capacity_level=details.get("capacity_level"),
        rules_level=details.get("rules_level"),
        model_level=details.get("model_level"),
        override=override,
        flags=flags_from(details.get("flags") or ()),
        decided_on=_day(details.get("decided_on")),
        policy=str(details.get("policy", POLICY)),
        stress=stress_cap_from(details.get("stress")),
        uncapped_level=details.get("uncapped_level"),
    )


def person_name(first_name: str, last_name: str) -> str:
    """How a person is named to clients: "Alex M." (first name, last initial)."""
    first, last = first_name.strip(), last_name.strip()
    return f"{first} {last[:1]}.".strip() if last else first


def with_flags_reviewed(decision: Decision) -> Decision:
    """The same decision with its override marking the flags as gone through."""
    if decision.override is None:
        return decision
    return replace(decision, override=replace(decision.override, flags_reviewed=True))


# --- Explanations: generated from the decision record only ----------------------------------


def _on(day: date | None) -> str:
    return f" on {day.day} {day:%B %Y}" if day is not None else ""


def client_set_by(decision: Decision) -> str:
    """Who set the level, in the client's words: "your questionnaire answers", "our risk
    model", "your advisor Alex M."."""
    if decision.decided_by == "advisor" and decision.override is not None:
        name = decision.override.set_by
        if decision.override.set_by_role == "advisor":
            return f"your advisor {name}" if name else "your advisor"
        return f"a Meridian advisor, {name}" if name else "a Meridian advisor"
    if decision.decided_by == "model" and decision.reason not in STRESS_REASONS:
        return "our risk model"
    return "your questionnaire answers"


def _rules_sentence(d: Decision) -> str:
    rules_reason = next(
        (r for r in d.reasons if r in (WILLINGNESS_BELOW_CAPACITY, CAPACITY_BELOW_WILLINGNESS)),
        WILLINGNESS_EQUALS_CAPACITY,
    )
    return (
        f"your willingness to take risk gives level {d.willingness_level} and your capacity to "
        f"bear losses level {d.capacity_level}; the lower of the two decides, and "
        f"{CLIENT_REASON_TEXT[rules_reason]}"
    )


def client_explanation(d: Decision) -> str:
    """Why the client's level is what it is, for the client: the level, who set it, when and
    why. Never an advisor's wording."""
    if d.reason == RECORDED_LEVEL:
        as_recorded = CLIENT_REASON_TEXT[RECORDED_LEVEL]
        text = f"Your risk level is {d.level} of 10, {as_recorded}{_on(d.decided_on)}."
        if d.willingness_level is not None and d.capacity_level is not None:
            text += f" Your answers: {_rules_sentence(d)}."
        return text + _client_flags_sentence(d)

    headline = f"Your risk level is {d.level} of 10, set by {client_set_by(d)}{_on(d.decided_on)}."
    if d.decided_by == "advisor" and d.override is not None:
        o = d.override
        parts = [f"{headline[:-1]}, {CLIENT_REASON_TEXT[ADVISOR_OVERRIDE]}: “{o.reason}”."]
        if OVERRIDE_ABOVE_CAPACITY_APPROVED in d.reasons:
            parts.append(
                f"That is above level {d.capacity_level}, what your capacity to bear losses "
                f"supports, so a second person in compliance checked and approved it"
                f"{_on(o.approved_on)}."
            )
        elif OVERRIDE_ABOVE_WILLINGNESS in d.reasons:
            parts.append(
                f"That is above level {d.willingness_level}, what your answers about your "
                "willingness to take risk give, and within what your capacity to bear losses "
                "supports."
            )
        if OVERRIDE_ABOVE_STRESS_CAP in d.reasons and d.stress and d.uncapped_level:
            capped = stress_capped_level(d.uncapped_level, d.stress)[0]
            parts.append(
                f"That is above level {capped}, the highest whose worst stress scenario stayed "
                f"within the {loss_percent(d.stress.tolerance)}% fall you said you could bear."
            )
        parts.append(f"Your answers alone give level {d.rules_level}: {_rules_sentence(d)}.")
    elif d.decided_by == "model":
        parts = [headline, f"Your answers give level {d.rules_level}: {_rules_sentence(d)}."]
        parts.append(
            f"Our risk model, a second opinion, puts you at level {d.model_level}, lower than "
            f"that, so your level is {CLIENT_REASON_TEXT[MODEL_LOWERS_LEVEL]}. The model can "
            "only ever lower your level, never raise it."
        )
    else:
        parts = [headline]
        sentence = _rules_sentence(d)
        parts.append(f"{sentence[0].upper()}{sentence[1:]}.")
        if d.model_level is not None:
            parts.append(
                f"Our risk model's second opinion (level {d.model_level}) is not lower; it can "
                "only ever lower your level, never raise it."
            )
    if d.decided_by != "advisor" and d.stress_capped:
        parts.append(_client_stress_sentence(d))
    return " ".join(parts) + _client_flags_sentence(d)


def _fell(item: LevelLoss) -> str:
    opening = item.phrase or f"In a scenario like the {item.scenario}"
    verb = "could have fallen" if item.historical else "could fall"
    return f"{opening[:1].lower()}{opening[1:]} the level {item.level} portfolio {verb} about " + (
        f"{loss_percent(item.loss)}%"
    )


def _client_stress_sentence(d: Decision) -> str:
    """Why the stress cap lowered the level, for the client."""
    stress, before = d.stress, d.uncapped_level
    item = stress.loss_at(before) if stress is not None and before is not None else None
    if stress is None or item is None:  # pragma: no cover - a capped decision has both
        return ""
    bear = f"the {loss_percent(stress.tolerance)}% you said you could bear"
    if STRESS_FLOOR in d.reasons:
        lowest = stress.loss_at(MIN_LEVEL)
        even = (
            f", and even at level {MIN_LEVEL} its worst scenario ({lowest.scenario}) was a fall "
            f"of about {loss_percent(lowest.loss)}%"
            if lowest
            else ""
        )
        if before == d.level:
            return (
                f"It is already {CLIENT_REASON_TEXT[STRESS_FLOOR]}, yet {_fell(item)}, more than "
                f"{bear}. Your advisor will go through this with you."
            )
        return (
            f"It was lowered from {before} to {d.level}, {CLIENT_REASON_TEXT[STRESS_FLOOR]}: "
            f"{_fell(item)}{even}, more than {bear}. Your advisor will go through this with you."
        )
    after = stress.loss_at(d.level)
    within = f"; at level {d.level} it was about {loss_percent(after.loss)}%" if after else ""
    return f"It was lowered from {before} to {d.level}: {_fell(item)}, more than {bear}{within}."


def _client_flags_sentence(d: Decision) -> str:
    if d.flags and d.flags_reviewed:
        return " Your advisor has gone through the answers that pointed different ways."
    if d.open_flags:
        return (
            " Parts of your profile point in different directions; your advisor will go through "
            "them with you."
        )
    return ""


def advisor_explanation(d: Decision) -> str:
    """The same decision for the advisor: inputs, rule, who decided and the flags."""
    who = {"rules": "the rules", "model": "the risk model lowering the rules' level"}
    decider = who.get(d.decided_by, "an advisor override")
    if d.decided_by != "advisor" and d.stress_capped:
        decider = "the stress cap"
    parts = [f"Level {d.level} of 10, decided by {decider}."]
    if d.reason == RECORDED_LEVEL:
        parts.append("Recorded before the suitability policy; no decision record.")
    if d.willingness_level is not None and d.capacity_level is not None:
        limiter = {
            WILLINGNESS_BELOW_CAPACITY: "willingness is the lower",
            CAPACITY_BELOW_WILLINGNESS: "capacity caps willingness",
        }
        reason = next((limiter[r] for r in d.reasons if r in limiter), "they agree")
        parts.append(
            f"Rules: willingness {d.willingness_level}, capacity {d.capacity_level}, "
            f"level {d.rules_level} ({reason})."
        )
    if d.model_level is not None:
        if MODEL_LOWERS_LEVEL in d.reasons:
            effect = f"below the rules, so ({d.rules_level} + {d.model_level}) // 2"
            parts.append(f"Risk model: level {d.model_level}, {effect}.")
        else:
            parts.append(f"Risk model: level {d.model_level}, not below the rules: no effect.")
    if d.stress is not None and d.uncapped_level is not None:
        parts.append(_advisor_stress_sentence(d))
    if d.override is not None:
        o = d.override
        parts.append(f"Override by {o.set_by or 'an advisor'}{_on(o.set_on)}: “{o.reason}”.")
        if OVERRIDE_ABOVE_CAPACITY_APPROVED in d.reasons:
            parts.append(
                f"Above capacity ({d.capacity_level}): approved by {o.approved_by}"
                f"{_on(o.approved_on)} (four-eyes)."
            )
        if OVERRIDE_ABOVE_WILLINGNESS in d.reasons:
            parts.append(f"Above the stated willingness ({d.willingness_level}).")
        if OVERRIDE_ABOVE_STRESS_CAP in d.reasons:
            parts.append("Above the stress cap.")
    if d.flags:
        state = "reviewed in the override" if d.flags_reviewed else "open"
        parts.append(f"{len(d.flags)} flag(s), {state}: {', '.join(f.code for f in d.flags)}.")
    return " ".join(parts)


def _advisor_stress_sentence(d: Decision) -> str:
    stress, before = d.stress, d.uncapped_level
    if stress is None or before is None:  # pragma: no cover - the caller checked
        return ""
    tolerance = f"stated tolerance {loss_percent(stress.tolerance)}%"
    item = stress.loss_at(before)
    if item is None:
        return f"Stress cap: no worst-loss figure for level {before}: no effect ({tolerance})."
    worst = f"level {before}'s worst scenario ({item.scenario}) −{loss_percent(item.loss)}%"
    capped, why = stress_capped_level(before, stress)
    if why is None:
        return f"Stress cap: {worst}, within the {tolerance}: no effect."
    if why == STRESS_FLOOR:
        lowest = stress.loss_at(MIN_LEVEL)
        at_one = f" (level 1 −{loss_percent(lowest.loss)}%)" if lowest else ""
        if before == capped:
            at_one = ""
        return (
            f"Stress cap: {worst}, over the {tolerance}, and no level is within it{at_one}: "
            f"floored at level {capped}. Go through the client's tolerance with them."
        )
    return (
        f"Stress cap: {worst}, over the {tolerance}: lowered from {before} to {capped}, the "
        "highest level within it."
    )
