"""Risk control for money movement: rules as data, their evaluation, an anomaly score, and the
scenario generator that measures both.

A rule (`RiskRule`, one row per version) names a *check* (a function below), the event it runs
on (withdrawal, recurring-deposit change, login), its parameters and its action:

- **hold**: a withdrawal waits for an advisor (`portfolios.services.holds`);
- **flag**: recorded for review; `FLAGS_TO_HOLD` (2) flags together hold a withdrawal;
- **allow**: recorded only (a rule being tried out).

The built-in rules (seeded by migration 0008, defaults documented in `BUILTIN_RULES`):

(a) `amount-vs-history` flag: a withdrawal > 3x the client's largest in the last 12 months and
    > $10,000 (a client with no withdrawal in the window has no history to compare with: the
    identity rules and the model cover a first withdrawal);
(b) `velocity` hold: more than 5 withdrawals in 24 h once they add up to $2,500, or more than
    $50,000 in 24 h (this one included; held attempts count too);
(c) `new-device-large-withdrawal` hold: a device first seen in the last 48 h (not the user's
    first device: that is the sign-up) and a withdrawal over $5,000;
(d) `after-credential-reset` hold: any withdrawal within 72 h of a password reset or change or
    two-factor authentication turned off (`SecurityEvent`);
(e) `drain` flag: a withdrawal over $1,000 leaving under 10% of the account's value, or of the
    client's total, counting the withdrawals of the last 30 days as part of what is drained;
(f) `recurring-after-identity-change` flag, (g) `recurring-large` flag,
(h) `login-new-device-after-reset` flag: see their descriptions.

The evaluation is a functional core: plain facts in (`WithdrawalFacts`, built from the database
by `portfolios.services.holds` and from synthetic histories by the scenario generator: the same
code measures both), an `Evaluation` out. Every evaluation is stored as a `RiskEvent`.

The anomaly model is an isolation forest (scikit-learn) on five features per withdrawal
(`features`); it only ever flags. `python manage.py risk_control_scenarios` trains it on the
generator's normal clients, compares it with a small autoencoder, and saves it with joblib under
`NLP_MODEL_DIR/risk_control/` (no download). No saved model: no score, rules only.
"""

import functools
import logging
import math
import random
import statistics
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from auditlog.context import auditlog_value, set_actor
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from .models import (
    Client,
    Goal,
    KnownDevice,
    RiskEvent,
    RiskOverrideRequest,
    RiskRule,
    SecurityEvent,
    User,
    WithdrawalHold,
)

logger = logging.getLogger(__name__)

Event = RiskRule.Event
Action = RiskRule.Action

FLAGS_TO_HOLD = 2  # flags from this many rules together hold a withdrawal
HISTORY_DAYS = 400  # how far back facts are read: the longest window a parameter may ask for
NO_SIGNAL_HOURS = 720.0  # "hours since" when there is no such event (capped: 30 days)
DEFAULT_TYPICAL = Decimal("1000.00")  # a client's typical withdrawal before they have one
COMPLIANCE_GROUP = "Compliance"
ANOMALY_CODE = "anomaly-model"
MODEL_FILE = "iforest.joblib"


# --- Rules as data ---------------------------------------------------------------------------

BUILTIN_RULES: tuple[dict[str, Any], ...] = (
    {
        "code": "amount-vs-history",
        "event": "withdrawal",
        "check_name": "amount_vs_history",
        "action": "flag",
        "parameters": {"multiple": "3", "min_amount": "10000.00", "lookback_days": 365},
        "description": "A withdrawal more than `multiple` times the client's largest in the "
        "last `lookback_days` days and above `min_amount`.",
    },
    {
        "code": "velocity",
        "event": "withdrawal",
        "check_name": "velocity",
        "action": "hold",
        "parameters": {
            "window_hours": 24,
            "max_count": 5,
            "count_min_total": "2500.00",
            "max_total": "50000.00",
        },
        "description": "More than `max_count` withdrawals in `window_hours` once they add up "
        "to `count_min_total`, or more than `max_total` in that window (this one included).",
    },
    {
        "code": "new-device-large-withdrawal",
        "event": "withdrawal",
        "check_name": "new_device",
        "action": "hold",
        "parameters": {"device_hours": 48, "min_amount": "5000.00"},
        "description": "A device first seen in the last `device_hours` hours (not the first "
        "device, the sign-up one) followed by a withdrawal above `min_amount`.",
    },
    {
        "code": "after-credential-reset",
        "event": "withdrawal",
        "check_name": "after_reset",
        "action": "hold",
        "parameters": {"hours": 72, "min_amount": "0.00"},
        "description": "A withdrawal above `min_amount` within `hours` hours of a password "
        "reset or change, or of two-factor authentication being turned off.",
    },
    {
        "code": "drain",
        "event": "withdrawal",
        "check_name": "drain",
        "action": "flag",
        "parameters": {"left_share": "0.10", "min_amount": "1000.00", "window_days": 30},
        "description": "A withdrawal above `min_amount` leaving less than `left_share` of the "
        "account's value or of the client's total, the withdrawals of the last `window_days` "
        "days counted as drained too.",
    },
    {
        "code": "slow-drain",
        "event": "withdrawal",
        "check_name": "cumulative_outflow",
        "action": "flag",
        "parameters": {"window_days": 30, "min_count": 4, "max_share": "0.50"},
        "description": "At least `min_count` withdrawals in `window_days` days (this one "
        "included) taking out more than `max_share` of what the account held before them.",
    },
    {
        "code": "recurring-after-identity-change",
        "event": "recurring_change",
        "check_name": "recurring_after_identity_change",
        "action": "flag",
        "parameters": {"hours": 72},
        "description": "A recurring deposit created, changed, paused or cancelled within "
        "`hours` hours of a credential reset or a new device.",
    },
    {
        "code": "recurring-large",
        "event": "recurring_change",
        "check_name": "recurring_large",
        "action": "flag",
        "parameters": {"min_amount": "10000.00"},
        "description": "A recurring deposit of more than `min_amount` a month.",
    },
    {
        "code": "login-new-device-after-reset",
        "event": "login",
        "check_name": "login_new_device_after_reset",
        "action": "flag",
        "parameters": {"hours": 72},
        "description": "A sign-in from a new device within `hours` hours of a credential reset.",
    },
)


# --- Facts -----------------------------------------------------------------------------------


def _hours_since(at: datetime, moments: Iterable[datetime]) -> float:
    """Hours from the latest of `moments` up to `at` to `at`, capped at NO_SIGNAL_HOURS."""
    before = [m for m in moments if m <= at]
    if not before:
        return NO_SIGNAL_HOURS
    return min(NO_SIGNAL_HOURS, (at - max(before)).total_seconds() / 3600)


@dataclass(frozen=True)
class WithdrawalFacts:
    """What the rules may know about one withdrawal, read before it is made."""

    at: datetime
    amount: Decimal
    account_value: Decimal  # before this withdrawal
    client_total: Decimal  # every account of the client, before this withdrawal
    withdrawals: tuple[tuple[datetime, Decimal], ...] = ()  # earlier ones (and held attempts)
    new_devices: tuple[datetime, ...] = ()  # first_seen of the devices other than the first
    resets: tuple[datetime, ...] = ()  # password reset/change, MFA off

    def hours_since(self, moments: Iterable[datetime]) -> float:
        return _hours_since(self.at, moments)

    def within(self, hours: float) -> list[Decimal]:
        since = self.at - timedelta(hours=hours)
        return [amount for at, amount in self.withdrawals if since < at <= self.at]

    def drained_share(self, days: int) -> Decimal:
        """The share of what the account held `days` ago (plus since) that withdrawals in the
        window, this one included, take out."""
        earlier = sum(self.within(days * 24), Decimal(0))
        before = self.account_value + earlier
        return (earlier + self.amount) / before if before > 0 else Decimal(1)

    def typical(self) -> Decimal:
        """The median of the client's withdrawals of the last 12 months (a default before any)."""
        amounts = self.within(365 * 24)
        return Decimal(statistics.median(amounts)) if amounts else DEFAULT_TYPICAL

    def summary(self) -> dict[str, Any]:
        """The facts as stored with the evaluation (JSON): the features, not the history."""
        return {
            "amount": str(self.amount),
            "account_value": str(self.account_value),
            "client_total": str(self.client_total),
            "withdrawals_24h": len(self.within(24)),
            "withdrawn_24h": str(sum(self.within(24), Decimal(0))),
            "largest_12m": str(max(self.within(365 * 24), default=Decimal(0))),
            "typical": str(self.typical()),
            "hours_since_new_device": round(self.hours_since(self.new_devices), 2),
            "hours_since_reset": round(self.hours_since(self.resets), 2),
            "drained_30d": f"{self.drained_share(30):.4f}",
        }


@dataclass(frozen=True)
class EventFacts:
    """What the rules may know about a login or a recurring-deposit change."""

    at: datetime
    new_device: bool = False  # this login is from a device not seen before
    amount: Decimal | None = None  # a recurring deposit's monthly amount
    change: str = ""  # create, pause, resume, cancel
    new_devices: tuple[datetime, ...] = ()
    resets: tuple[datetime, ...] = ()

    def hours_since(self, moments: Iterable[datetime]) -> float:
        return _hours_since(self.at, moments)

    def summary(self) -> dict[str, Any]:
        return {
            "new_device": self.new_device,
            "amount": None if self.amount is None else str(self.amount),
            "change": self.change,
            "hours_since_new_device": round(self.hours_since(self.new_devices), 2),
            "hours_since_reset": round(self.hours_since(self.resets), 2),
        }


# --- Checks: one function per kind of rule, parameters from the rule's row -------------------

_DEC = Decimal
PARAMETER_TYPES: dict[str, dict[str, type]] = {
    "amount_vs_history": {"multiple": _DEC, "min_amount": _DEC, "lookback_days": int},
    "velocity": {
        "window_hours": int,
        "max_count": int,
        "count_min_total": _DEC,
        "max_total": _DEC,
    },
    "new_device": {"device_hours": int, "min_amount": _DEC},
    "after_reset": {"hours": int, "min_amount": _DEC},
    "drain": {"left_share": _DEC, "min_amount": _DEC, "window_days": int},
    "cumulative_outflow": {"window_days": int, "min_count": int, "max_share": _DEC},
    "recurring_after_identity_change": {"hours": int},
    "recurring_large": {"min_amount": _DEC},
    "login_new_device_after_reset": {"hours": int},
}
CHECK_EVENTS = {
    "amount_vs_history": Event.WITHDRAWAL,
    "velocity": Event.WITHDRAWAL,
    "new_device": Event.WITHDRAWAL,
    "after_reset": Event.WITHDRAWAL,
    "drain": Event.WITHDRAWAL,
    "cumulative_outflow": Event.WITHDRAWAL,
    "recurring_after_identity_change": Event.RECURRING_CHANGE,
    "recurring_large": Event.RECURRING_CHANGE,
    "login_new_device_after_reset": Event.LOGIN,
}


def parameters_clean(check_name: str, parameters: object) -> dict[str, Any]:
    """A rule's parameters checked against its check: every one present, of the right type, not
    negative; stored as JSON (amounts as strings). Raises ValidationError on `parameters`."""
    if check_name not in PARAMETER_TYPES:
        raise ValidationError({"check_name": [f"Unknown check {check_name!r}."]})
    types = PARAMETER_TYPES[check_name]
    if not isinstance(parameters, dict):
        raise ValidationError({"parameters": ["Give the parameters as a JSON object."]})
    errors = []
    unknown = sorted(set(parameters) - set(types))
    if unknown:
        errors.append(f"Unknown parameter(s): {', '.join(unknown)}.")
    cleaned: dict[str, Any] = {}
    for name, kind in types.items():
        if name not in parameters:
            errors.append(f"`{name}` is missing.")
            continue
        raw = parameters[name]
        try:
            if isinstance(raw, bool):
                raise ValueError
            value = Decimal(str(raw)) if kind is Decimal else int(str(raw))
        except (ValueError, InvalidOperation):
            errors.append(f"`{name}` must be a {'number' if kind is Decimal else 'whole number'}.")
            continue
        if value < 0 or (isinstance(value, Decimal) and not value.is_finite()):
            errors.append(f"`{name}` must not be negative.")
            continue
        cleaned[name] = str(value) if kind is Decimal else value
    if errors:
        raise ValidationError({"parameters": errors})
    return cleaned


def _p(parameters: dict[str, Any], name: str) -> Decimal:
    return Decimal(str(parameters[name]))


def _amount_vs_history(f: WithdrawalFacts, p: dict[str, Any]) -> str | None:
    earlier = f.within(int(p["lookback_days"]) * 24)
    if not earlier:
        return None
    largest = max(earlier)
    if f.amount > _p(p, "multiple") * largest and f.amount > _p(p, "min_amount"):
        return (
            f"{f.amount} is over {p['multiple']}x the largest withdrawal of the window ({largest})"
        )
    return None


def _velocity(f: WithdrawalFacts, p: dict[str, Any]) -> str | None:
    window = f.within(int(p["window_hours"]))
    count, total = len(window) + 1, sum(window, Decimal(0)) + f.amount
    if count > int(p["max_count"]) and total >= _p(p, "count_min_total"):
        return f"{count} withdrawals totalling {total} in {p['window_hours']} h"
    if total > _p(p, "max_total"):
        return f"{total} withdrawn in {p['window_hours']} h"
    return None


def _new_device(f: WithdrawalFacts, p: dict[str, Any]) -> str | None:
    hours = f.hours_since(f.new_devices)
    if hours < int(p["device_hours"]) and f.amount > _p(p, "min_amount"):
        return f"a new device first seen {hours:.0f} h ago, then {f.amount}"
    return None


def _after_reset(f: WithdrawalFacts, p: dict[str, Any]) -> str | None:
    hours = f.hours_since(f.resets)
    if hours < int(p["hours"]) and f.amount > _p(p, "min_amount"):
        return f"a credential reset {hours:.0f} h ago"
    return None


def _drain(f: WithdrawalFacts, p: dict[str, Any]) -> str | None:
    if f.amount <= _p(p, "min_amount"):
        return None
    drained = sum(f.within(int(p["window_days"]) * 24), Decimal(0))
    share = _p(p, "left_share")
    for what, value in (("account", f.account_value), ("client's total", f.client_total)):
        if value <= 0:
            continue
        left = max(value - f.amount, Decimal(0)) / (value + drained)
        if left < share:
            return f"leaves {left:.0%} of the {what}"
    return None


def _cumulative_outflow(f: WithdrawalFacts, p: dict[str, Any]) -> str | None:
    window = f.within(int(p["window_days"]) * 24)
    share = f.drained_share(int(p["window_days"]))
    if len(window) + 1 >= int(p["min_count"]) and share > _p(p, "max_share"):
        return f"{len(window) + 1} withdrawals in {p['window_days']} days took {share:.0%} out"
    return None


def _recurring_after_identity_change(f: EventFacts, p: dict[str, Any]) -> str | None:
    hours = min(f.hours_since(f.resets), f.hours_since(f.new_devices))
    if hours < int(p["hours"]):
        return f"a recurring deposit {f.change or 'change'} {hours:.0f} h after an identity change"
    return None


def _recurring_large(f: EventFacts, p: dict[str, Any]) -> str | None:
    if f.change in {"create", "resume"} and f.amount is not None and f.amount > _p(p, "min_amount"):
        return f"a recurring deposit of {f.amount} a month"
    return None


def _login_new_device_after_reset(f: EventFacts, p: dict[str, Any]) -> str | None:
    hours = f.hours_since(f.resets)
    if f.new_device and hours < int(p["hours"]):
        return f"a new device signing in {hours:.0f} h after a credential reset"
    return None


CHECKS: dict[str, Any] = {
    "amount_vs_history": _amount_vs_history,
    "velocity": _velocity,
    "new_device": _new_device,
    "after_reset": _after_reset,
    "drain": _drain,
    "cumulative_outflow": _cumulative_outflow,
    "recurring_after_identity_change": _recurring_after_identity_change,
    "recurring_large": _recurring_large,
    "login_new_device_after_reset": _login_new_device_after_reset,
}


@dataclass(frozen=True)
class RuleSpec:
    """A rule version as the evaluation reads it (a `RiskRule` row, or a built-in's defaults)."""

    code: str
    version: int
    event: str
    check_name: str
    action: str
    parameters: dict[str, Any]

    @classmethod
    def of(cls, rule: RiskRule) -> "RuleSpec":
        return cls(
            code=rule.code,
            version=rule.version,
            event=rule.event,
            check_name=rule.check_name,
            action=rule.action,
            parameters=dict(rule.parameters),
        )


def builtin_specs(event: str | None = None) -> list[RuleSpec]:
    """The built-in rules at their defaults (the scenario generator measures these)."""
    return [
        RuleSpec(version=1, **{k: v for k, v in r.items() if k != "description"})
        for r in BUILTIN_RULES
        if event is None or r["event"] == event
    ]


@dataclass(frozen=True)
class Fired:
    code: str
    version: int
    action: str
    reason: str


@dataclass(frozen=True)
class Evaluation:
    decision: str  # RiskEvent.Decision
    fired: tuple[Fired, ...] = ()
    score: float | None = None
    model_version: str = ""

    @property
    def held(self) -> bool:
        return self.decision == RiskEvent.Decision.HOLD

    def reasons(self) -> list[str]:
        return [f.reason for f in self.fired if f.action in {Action.HOLD, Action.FLAG}]


def evaluate(
    facts: WithdrawalFacts | EventFacts,
    rules: Sequence[RuleSpec],
    *,
    score: float | None = None,
    threshold: float | None = None,
    model_version: str = "",
) -> Evaluation:
    """Run each rule's check on the facts: hold if a hold rule fired or FLAGS_TO_HOLD flag rules
    did; a score at or above the model's threshold adds a flag that never holds by itself."""
    fired = []
    for rule in rules:
        reason = CHECKS[rule.check_name](facts, rule.parameters)
        if reason is not None:
            fired.append(Fired(rule.code, rule.version, rule.action, reason))
    holds = any(f.action == Action.HOLD for f in fired)
    flags = sum(f.action == Action.FLAG for f in fired)
    anomalous = score is not None and threshold is not None and score >= threshold
    if anomalous:
        fired.append(Fired(ANOMALY_CODE, 0, Action.FLAG, f"anomaly score {score:.2f}"))
    if isinstance(facts, WithdrawalFacts) and (holds or flags >= FLAGS_TO_HOLD):
        decision = RiskEvent.Decision.HOLD
    elif holds or flags or anomalous:
        decision = RiskEvent.Decision.FLAG
    else:
        decision = RiskEvent.Decision.ALLOW
    return Evaluation(
        decision=decision, fired=tuple(fired), score=score, model_version=model_version
    )


# --- The anomaly model -----------------------------------------------------------------------

FEATURES = (
    "log10_amount_over_typical",
    "new_device_recency",  # exp(-hours since a new device / 48): 1 just now, 0 long ago
    "reset_recency",  # the same for a credential reset
    "withdrawals_24h",
    "share_of_balance",
    "share_drained_30d",
    "withdrawals_30d",
)
RECENCY_HOURS = 48.0


def features(f: WithdrawalFacts) -> list[float]:
    """The model's inputs for one withdrawal (FEATURES, in order)."""
    typical = max(f.typical(), Decimal("1.00"))
    share = f.amount / f.account_value if f.account_value > 0 else Decimal(1)
    return [
        math.log10(float(max(f.amount, Decimal("0.01")) / typical)),
        math.exp(-f.hours_since(f.new_devices) / RECENCY_HOURS),
        math.exp(-f.hours_since(f.resets) / RECENCY_HOURS),
        float(len(f.within(24)) + 1),
        float(min(share, Decimal(1))),
        float(min(f.drained_share(30), Decimal(1))),
        float(len(f.within(30 * 24)) + 1),
    ]


@dataclass
class AnomalyModel:
    """An isolation forest on FEATURES with the score threshold chosen on normal clients:
    `score` is the forest's anomaly score (0–1, higher is stranger)."""

    forest: Any
    threshold: float
    version: str
    trained_on: int = 0
    metrics: dict[str, Any] = field(default_factory=dict)

    def score(self, rows: Sequence[Sequence[float]]) -> list[float]:
        import numpy as np

        return [float(-s) for s in self.forest.score_samples(np.asarray(rows, dtype=float))]


def anomaly_model_fit(
    rows: Sequence[Sequence[float]], *, seed: int, quantile: float = 0.98
) -> AnomalyModel:
    """Fit the forest on normal withdrawals; the threshold flags the top 1 − `quantile` of them."""
    import numpy as np
    from sklearn.ensemble import IsolationForest

    x = np.asarray(rows, dtype=float)
    forest = IsolationForest(n_estimators=100, max_samples=min(256, len(x)), random_state=seed).fit(
        x
    )
    scores = -forest.score_samples(x)
    threshold = float(np.quantile(scores, quantile))
    return AnomalyModel(
        forest=forest,
        threshold=threshold,
        version=f"iforest-s{seed}-n{len(rows)}",
        trained_on=len(rows),
    )


def model_path() -> Path:
    return Path(getattr(settings, "RISK_CONTROL_MODEL_DIR", "") or settings.NLP_MODEL_DIR) / (
        "risk_control/" + MODEL_FILE
    )


def anomaly_model_save(model: AnomalyModel, path: Path | None = None) -> Path:
    import joblib

    path = path or model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    anomaly_model_load.cache_clear()
    return path


@functools.cache
def anomaly_model_load(path: str | None = None) -> AnomalyModel | None:
    """The saved model, loaded once per process; None when none was trained (rules only)."""
    target = Path(path) if path else model_path()
    if not target.exists():
        return None
    import joblib

    try:
        model = joblib.load(target)
    except Exception:  # noqa: BLE001 - a stale or corrupt file must not stop withdrawals
        logger.warning("risk control model unreadable", exc_info=True)
        return None
    return model if isinstance(model, AnomalyModel) else None


def withdrawal_evaluate(facts: WithdrawalFacts, rules: Sequence[RuleSpec]) -> Evaluation:
    """The rules and, when a model is saved, its score."""
    model = anomaly_model_load()
    if model is None:
        return evaluate(facts, rules)
    score = model.score([features(facts)])[0]
    return evaluate(
        facts, rules, score=score, threshold=model.threshold, model_version=model.version
    )


# --- Services --------------------------------------------------------------------------------


def rules_in_force(*, event: str) -> list[RuleSpec]:
    """The current, enabled version of every rule of this event. A built-in rule with no row at
    all (a database flushed, or seeded before a rule was added) applies at its defaults, as
    version 1: the controls never silently switch off. Disabling one takes a version."""
    rows = list(RiskRule.objects.filter(event=event))
    stored = {rule.code for rule in rows}
    specs = [RuleSpec.of(rule) for rule in rows if rule.current and rule.enabled]
    specs += [spec for spec in builtin_specs(event) if spec.code not in stored]
    return sorted(specs, key=lambda spec: spec.code)


def risk_rules_seed() -> int:
    """Store version 1 of every built-in rule that has no row yet (migration 0008 did it once).
    Safe to run twice. Returns how many were added."""
    added = 0
    for rule in BUILTIN_RULES:
        _, created = RiskRule.objects.get_or_create(
            code=rule["code"], version=1, defaults={**rule, "current": True}
        )
        added += created
    return added


def risk_event_record(
    *,
    client: Client,
    event: str,
    facts: WithdrawalFacts | EventFacts,
    evaluation: Evaluation,
    goal: Goal | None = None,
) -> RiskEvent:
    """Store one evaluation: the facts' summary, the rule versions fired, score and decision."""
    record = RiskEvent(
        client=client,
        event=event,
        amount=facts.amount,
        goal=goal,
        context=facts.summary(),
        fired=[asdict(f) for f in evaluation.fired],
        score=evaluation.score,
        model_version=evaluation.model_version,
        decision=evaluation.decision,
    )
    record.full_clean()
    record.save()
    if evaluation.decision != RiskEvent.Decision.ALLOW:
        logger.info(
            "risk rules fired",
            extra={
                "client_id": client.pk,
                "risk_event_id": record.pk,
                "decision": evaluation.decision,
                "rules": [f.code for f in evaluation.fired],
            },
        )
    return record


def identity_signals(
    *, user: User, since: datetime
) -> tuple[tuple[datetime, ...], tuple[datetime, ...]]:
    """(new devices' first sightings, credential resets) of the user since `since`. The user's
    first device ever is the sign-up one, not a new device."""
    devices = KnownDevice.objects.filter(user=user).order_by("first_seen", "pk")
    first = devices.values_list("pk", flat=True).first()
    recent = devices.filter(first_seen__gte=since)
    if first is not None:
        recent = recent.exclude(pk=first)
    new_devices = tuple(recent.values_list("first_seen", flat=True))
    resets = tuple(
        SecurityEvent.objects.filter(
            user=user,
            created_at__gte=since,
            kind__in=[
                SecurityEvent.Kind.PASSWORD_RESET,
                SecurityEvent.Kind.PASSWORD_CHANGE,
                SecurityEvent.Kind.MFA_DISABLED,
            ],
        ).values_list("created_at", flat=True)
    )
    return new_devices, resets


def security_event_record(*, user: User, kind: str) -> SecurityEvent:
    """Remember a change to how the user signs in: the withdrawal rules look for money moving
    soon after one. Called by identity (password reset/change) and mfa (on, off)."""
    event = SecurityEvent(user=user, kind=kind)
    event.full_clean()
    event.save()
    return event


def event_evaluate(
    *,
    client: Client,
    event: str,
    at: datetime | None = None,
    new_device: bool = False,
    amount: Decimal | None = None,
    change: str = "",
    goal: Goal | None = None,
) -> RiskEvent:
    """Evaluate the login or recurring-change rules and record the evaluation. These flag for
    review; they stop nothing."""
    at = at or timezone.now()
    new_devices, resets = identity_signals(
        user=client.user, since=at - timedelta(days=HISTORY_DAYS)
    )
    facts = EventFacts(
        at=at,
        new_device=new_device,
        amount=amount,
        change=change,
        new_devices=new_devices,
        resets=resets,
    )
    evaluation = evaluate(facts, rules_in_force(event=event))
    return risk_event_record(
        client=client, event=event, facts=facts, evaluation=evaluation, goal=goal
    )


def login_evaluate(*, user: User, new_device: bool) -> RiskEvent | None:
    """A client signed in: the login rules run and are recorded (staff logins are not)."""
    client = Client.objects.filter(user=user).select_related("user").first()
    if client is None:
        return None
    return event_evaluate(client=client, event=Event.LOGIN, new_device=new_device)


@contextmanager
def audit_actor(actor: User) -> Iterator[None]:
    """Attribute audit log entries to `actor`, also outside a request (shell, tasks); the
    enclosing context (the admin's middleware) is put back on exit, as in services.overrides."""
    enclosing = auditlog_value.get(None)
    try:
        with set_actor(
            actor,
            remote_addr=enclosing.get("remote_addr") if enclosing else None,
            remote_port=enclosing.get("remote_port") if enclosing else None,
        ):
            yield
    finally:
        if enclosing is not None:
            auditlog_value.set(enclosing)


def _rule_editor_check(actor: User) -> None:
    if not (actor.is_superuser or (actor.is_staff and actor.has_perm(RiskRule.MANAGE_PERMISSION))):
        raise PermissionDenied("Editing risk-control rules needs the compliance permission.")


@transaction.atomic
def risk_rule_revise(
    *,
    rule: RiskRule,
    actor: User,
    parameters: object | None = None,
    action: str | None = None,
    enabled: bool | None = None,
    description: str | None = None,
) -> RiskRule:
    """Compliance edits a rule: a new version becomes current, the old one is kept (each past
    evaluation names the version it ran). Audited (django-auditlog, attributed to `actor`)."""
    _rule_editor_check(actor)
    current = RiskRule.objects.select_for_update().get(code=rule.code, current=True)
    if action is not None and action not in Action.values:
        raise ValidationError({"action": [f"Choose one of {', '.join(Action.values)}."]})
    cleaned = parameters_clean(
        current.check_name, current.parameters if parameters is None else parameters
    )
    latest = RiskRule.objects.filter(code=current.code).order_by("-version").first()
    assert latest is not None  # noqa: S101 - `current` is one of them
    with audit_actor(actor):
        current.current = False
        current.save(update_fields=["current"])
        revised = RiskRule(
            code=current.code,
            version=latest.version + 1,
            current=True,
            event=current.event,
            check_name=current.check_name,
            description=current.description if description is None else description,
            parameters=cleaned,
            action=current.action if action is None else action,
            enabled=current.enabled if enabled is None else enabled,
            created_by=actor,
        )
        revised.full_clean()
        revised.save()
    logger.info(
        "risk rule revised",
        extra={"rule": revised.code, "version": revised.version, "actor_id": actor.pk},
    )
    return revised


@transaction.atomic
def risk_rule_create(
    *,
    code: str,
    check_name: str,
    parameters: object,
    action: str,
    actor: User,
    description: str = "",
    enabled: bool = True,
) -> RiskRule:
    """Compliance adds a rule: one of the checks with its own parameters (version 1). Audited."""
    _rule_editor_check(actor)
    cleaned = parameters_clean(check_name, parameters)
    if RiskRule.objects.filter(code=code).exists():
        raise ValidationError({"code": ["A rule with this code exists: edit it instead."]})
    with audit_actor(actor):
        rule = RiskRule(
            code=code,
            version=1,
            current=True,
            event=CHECK_EVENTS[check_name],
            check_name=check_name,
            description=description,
            parameters=cleaned,
            action=action,
            enabled=enabled,
            created_by=actor,
        )
        rule.full_clean()
        rule.save()
    return rule


def compliance_group_ensure() -> Group:
    """The `Compliance` group: edits the risk rules, gives any client's held withdrawal its
    (second) approval, approves risk overrides above capacity (four-eyes), and reads risk
    events and holds. Safe to run twice."""
    group, _ = Group.objects.get_or_create(name=COMPLIANCE_GROUP)
    wanted = [
        ("advisor", "manage_risk_rules"),
        ("advisor", "view_riskrule"),
        ("advisor", "view_riskevent"),
        ("advisor", "view_withdrawalhold"),
        ("advisor", WithdrawalHold.APPROVE_LARGE_PERMISSION.split(".", 1)[1]),
        ("advisor", RiskOverrideRequest.APPROVE_PERMISSION.split(".", 1)[1]),
    ]
    permissions = Permission.objects.filter(
        content_type__app_label="advisor", codename__in=[c for _, c in wanted]
    )
    group.permissions.add(*permissions)
    return group


def risk_control_audit_register() -> None:
    """Audit the rules and the holds with django-auditlog (as advisor.apps does for its
    models). Safe to call twice."""
    from auditlog.registry import auditlog

    for model in (RiskRule, WithdrawalHold):
        if not auditlog.contains(model):
            auditlog.register(model)


# --- The scenario generator ------------------------------------------------------------------

PATTERNS = ("account_takeover", "reset_drain", "velocity_burst", "slow_drain")


@dataclass
class SyntheticClient:
    """One client's synthetic history: money events with balances, devices and resets. Only
    `withdrawal_facts` reads it, as holds.py reads the database."""

    label: str  # "normal" or one of PATTERNS
    start: datetime
    balance: Decimal = Decimal(0)
    withdrawals: list[tuple[datetime, Decimal]] = field(default_factory=list)
    new_devices: list[datetime] = field(default_factory=list)
    resets: list[datetime] = field(default_factory=list)
    # Each withdrawal attempt as the rules saw it, with whether it is part of an attack.
    cases: list[tuple[WithdrawalFacts, bool]] = field(default_factory=list)

    def withdraw(self, at: datetime, amount: Decimal, *, attack: bool = False) -> None:
        amount = min(amount.quantize(Decimal("0.01")), self.balance)
        if amount <= 0:
            return
        facts = WithdrawalFacts(
            at=at,
            amount=amount,
            account_value=self.balance,
            client_total=self.balance,
            withdrawals=tuple(
                w for w in self.withdrawals if w[0] > at - timedelta(days=HISTORY_DAYS)
            ),
            new_devices=tuple(self.new_devices),
            resets=tuple(self.resets),
        )
        self.cases.append((facts, attack))
        self.withdrawals.append((at, amount))
        self.balance -= amount


def _money(rng: random.Random, median: float, sigma: float) -> Decimal:
    return Decimal(str(round(rng.lognormvariate(math.log(median), sigma), 2)))


def normal_client(rng: random.Random, start: datetime, days: int = 180) -> SyntheticClient:
    """A client living a normal life over `days`: an opening deposit, monthly deposits, a
    withdrawal about every seven weeks; and, at the rates below over the period, legitimate
    events that look like an attack: a new device (15%) or a password change (5%), each
    followed within 72 h by a withdrawal in a third of cases (the owner signing in to take
    money out); a large withdrawal of 30–60% (5%); closing the account (3%)."""
    c = SyntheticClient(label="normal", start=start)
    c.balance = _money(rng, 20000, 1.0)
    monthly = _money(rng, 400, 0.8)
    per_day = 1 / days
    for day in range(days):
        at = start + timedelta(days=day, hours=rng.uniform(8, 22))
        if day % 30 == 15:
            c.balance += monthly
        for happens, signals in ((0.15, c.new_devices), (0.05, c.resets)):
            if rng.random() < happens * per_day:
                signals.append(at)
                if rng.random() < 1 / 3:
                    later = at + timedelta(hours=rng.uniform(0.2, 72))
                    c.withdraw(later, min(_money(rng, 1500, 1.0), c.balance * Decimal("0.6")))
        if rng.random() < 0.6 / 30:  # a withdrawal about every seven weeks
            c.withdraw(at, min(_money(rng, 800, 0.9), c.balance * Decimal("0.5")))
        if rng.random() < 0.05 * per_day:  # a big one: a car, a deposit on a house
            c.withdraw(at, c.balance * Decimal(str(rng.uniform(0.3, 0.6))))
    if rng.random() < 0.03:  # moving the money elsewhere: everything out
        c.withdraw(start + timedelta(days=days, hours=12), c.balance)
    return c


def attack_client(
    rng: random.Random, start: datetime, pattern: str, days: int = 180
) -> SyntheticClient:
    """A normal history, then one attack at its end:

    - account_takeover: a new device 1–24 h before a withdrawal of 50–95% of the balance;
    - reset_drain: a password reset 1–48 h before withdrawing 90–100% of the balance;
    - velocity_burst: 6–10 withdrawals of 5–15% of the balance within a few hours;
    - slow_drain: 5–8 withdrawals of 10–20% of the balance, spread over 2–4 weeks, no
      identity change (the hardest: each step looks like an ordinary withdrawal)."""
    c = normal_client(rng, start, days)
    c.label = pattern
    c.balance = max(c.balance, _money(rng, 20000, 1.0))  # something left to steal
    at = start + timedelta(days=days + 1, hours=rng.uniform(0, 23))
    if pattern == "account_takeover":
        c.new_devices.append(at - timedelta(hours=rng.uniform(1, 24)))
        c.withdraw(at, c.balance * Decimal(str(rng.uniform(0.5, 0.95))), attack=True)
    elif pattern == "reset_drain":
        c.resets.append(at - timedelta(hours=rng.uniform(1, 48)))
        c.withdraw(at, c.balance * Decimal(str(rng.uniform(0.9, 1.0))), attack=True)
    elif pattern == "velocity_burst":
        for _ in range(rng.randint(6, 10)):
            at += timedelta(minutes=rng.uniform(5, 40))
            c.withdraw(at, c.balance * Decimal(str(rng.uniform(0.05, 0.15))), attack=True)
    elif pattern == "slow_drain":
        for _ in range(rng.randint(5, 8)):
            at += timedelta(days=rng.uniform(2, 5))
            c.withdraw(at, c.balance * Decimal(str(rng.uniform(0.1, 0.2))), attack=True)
    else:
        raise ValueError(f"unknown pattern {pattern!r}")
    return c


def scenario_clients(
    *, normal: int, per_pattern: int, seed: int, start: datetime
) -> Iterator[SyntheticClient]:
    """`normal` normal clients, then `per_pattern` of each attack pattern, reproducible by seed."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    for _ in range(normal):
        yield normal_client(rng, start)
    for pattern in PATTERNS:
        for _ in range(per_pattern):
            yield attack_client(rng, start, pattern)
