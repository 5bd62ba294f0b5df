"""`manage.py risk_control_scenarios --clients 500 --seed 1`: measure the risk controls on the
documented scenario generator (`advisor.risk_control`), train the anomaly model, report rates.

The generator (`risk_control.scenario_clients`): `--clients` normal clients, each 180 days of
life: an opening deposit (lognormal, median $20,000), a monthly deposit (median $400), a
withdrawal about every seven weeks (median $800, at most half the balance); and, at these rates
over the period, legitimate events that look like an attack: a new device (15%) or a password
change (5%), each followed within 72 h by a withdrawal (median $1,500) in a third of cases; a
large withdrawal of 30–60% of the balance (5%); closing the account (3%). Then `--attacks`
clients per attack pattern (default clients/10), each a normal history followed by one attack:

- account_takeover: a new device 1–24 h before a withdrawal of 50–95% of the balance;
- reset_drain: a password reset 1–48 h before withdrawing 90–100%;
- velocity_burst: 6–10 withdrawals of 5–15% of the balance within a few hours;
- slow_drain: 5–8 withdrawals of 10–20% of the balance over 2–4 weeks, no identity change.

Half of the normal clients train the anomaly model (an isolation forest on
`risk_control.FEATURES`, threshold at the 98th percentile of their scores); the other half
measure the false-positive rate. Reported, for the rules alone, the model alone and both:

- detection per pattern: the share of attacks with at least one of their withdrawals caught
  (rules: held, and held or flagged; model: scored at or above the threshold; both: held or
  flagged by either);
- false positives: the share of held-out normal clients with at least one withdrawal caught,
  and the share of their withdrawals caught.

`--compare` also fits a small autoencoder (scikit-learn MLPRegressor 5-3-5 on standardised
features, score = reconstruction error, same threshold rule) and reports both models' ROC AUC,
detection, false positives and fit/score times: the measured reason for the isolation forest.
`--save` stores the fitted forest with joblib under NLP_MODEL_DIR/risk_control/ (the path the
withdrawal screen loads). `--json` prints the report as JSON. No network, no download.
"""

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from advisor import risk_control as rc
from advisor.models import RiskEvent

START = datetime(2025, 1, 1, tzinfo=UTC)


def _auc(negatives: list[float], positives: list[float]) -> float:
    """ROC AUC by ranks (Mann–Whitney U), ties counted half."""
    if not negatives or not positives:
        return float("nan")
    ranked = sorted([(s, 0) for s in negatives] + [(s, 1) for s in positives])
    ranks: list[float] = [0.0] * len(ranked)
    i = 0
    while i < len(ranked):
        j = i
        while j + 1 < len(ranked) and ranked[j + 1][0] == ranked[i][0]:
            j += 1
        for k in range(i, j + 1):
            ranks[k] = (i + j) / 2 + 1
        i = j + 1
    positive_ranks = sum(r for r, (_, label) in zip(ranks, ranked, strict=True) if label)
    n_pos, n_neg = len(positives), len(negatives)
    return (positive_ranks - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


class _Autoencoder:
    """A 5-3-5 MLP trained to reproduce standardised features; score = squared error."""

    def __init__(self, rows: list[list[float]], seed: int, quantile: float) -> None:
        import numpy as np
        from sklearn.neural_network import MLPRegressor
        from sklearn.preprocessing import StandardScaler

        x = np.asarray(rows, dtype=float)
        self.scaler = StandardScaler().fit(x)
        z = self.scaler.transform(x)
        self.net = MLPRegressor(
            hidden_layer_sizes=(3,), max_iter=2000, random_state=seed, activation="tanh"
        ).fit(z, z)
        self.threshold = float(np.quantile(self.score(rows), quantile))

    def score(self, rows: Sequence[Sequence[float]]) -> list[float]:
        import numpy as np

        z = self.scaler.transform(np.asarray(rows, dtype=float))
        return [float(e) for e in ((self.net.predict(z) - z) ** 2).mean(axis=1)]


class Command(BaseCommand):
    help = "Measure the risk rules and the anomaly model on generated normal and attack clients."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=500, help="normal clients")
        parser.add_argument(
            "--attacks", type=int, default=None, help="clients per attack pattern (clients/10)"
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--compare", action="store_true", help="also fit an autoencoder")
        parser.add_argument("--save", action="store_true", help="save the fitted model")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        clients, seed = options["clients"], options["seed"]
        attacks = options["attacks"] if options["attacks"] is not None else max(clients // 10, 1)
        if clients < 4 or attacks < 1:
            raise CommandError("Give at least 4 normal clients and 1 attack per pattern.")
        report = scenario_report(
            clients=clients, attacks=attacks, seed=seed, compare=options["compare"]
        )
        model = report.pop("_model")
        if options["save"]:
            report["saved_to"] = str(rc.anomaly_model_save(model))
        if options["json"]:
            self.stdout.write(json.dumps(report, indent=2))
            return
        self.stdout.write(_text(report))


def scenario_report(*, clients: int, attacks: int, seed: int, compare: bool) -> dict[str, Any]:
    """Generate, evaluate the built-in rules, train the model on half the normal clients, and
    measure every configuration (see the module docstring)."""
    population = list(
        rc.scenario_clients(normal=clients, per_pattern=attacks, seed=seed, start=START)
    )
    normal = [c for c in population if c.label == "normal"]
    train, test = normal[::2], normal[1::2]
    rules = rc.builtin_specs(rc.Event.WITHDRAWAL)
    train_rows = [rc.features(f) for c in train for f, _ in c.cases]
    if len(train_rows) < 10:
        raise CommandError("Too few withdrawals to train on: give more clients.")
    started = time.perf_counter()
    model = rc.anomaly_model_fit(train_rows, seed=seed)
    fit_s = time.perf_counter() - started

    judged = [c for c in [*test, *(c for c in population if c.label != "normal")]]
    caught: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    per_withdrawal: dict[str, list[bool]] = defaultdict(list)
    scores: dict[str, list[float]] = {"normal": [], "attack": []}
    score_s = 0.0
    for c in judged:
        cases = [(f, attack) for f, attack in c.cases if attack or c.label == "normal"]
        if not cases:
            continue
        started = time.perf_counter()
        case_scores = model.score([rc.features(f) for f, _ in cases])
        score_s += time.perf_counter() - started
        flags: dict[str, list[bool]] = {"rules_hold": [], "rules_any": [], "model": [], "both": []}
        for (facts, attack), score in zip(cases, case_scores, strict=True):
            ruled = rc.evaluate(facts, rules)
            by_model = score >= model.threshold
            flags["rules_hold"].append(ruled.decision == RiskEvent.Decision.HOLD)
            flags["rules_any"].append(ruled.decision != RiskEvent.Decision.ALLOW)
            flags["model"].append(by_model)
            flags["both"].append(ruled.decision != RiskEvent.Decision.ALLOW or by_model)
            scores["attack" if attack else "normal"].append(score)
        for name, hits in flags.items():
            caught[c.label][name].append(any(hits))
            if c.label == "normal":
                per_withdrawal[name].extend(hits)

    def share(values: list[bool]) -> float:
        return round(sum(values) / len(values), 4) if values else 0.0

    configurations = ("rules_hold", "rules_any", "model", "both")
    report: dict[str, Any] = {
        "seed": seed,
        "normal_clients": clients,
        "train_clients": len(train),
        "test_clients": len(test),
        "attacks_per_pattern": attacks,
        "train_withdrawals": len(train_rows),
        "model": {
            "kind": "isolation forest (scikit-learn, 100 trees, 256 samples)",
            "version": model.version,
            "threshold": round(model.threshold, 4),
            "fit_seconds": round(fit_s, 3),
            "roc_auc": round(_auc(scores["normal"], scores["attack"]), 4),
            "ms_per_1000_scores": round(
                1000 * score_s / max(len(scores["normal"]) + len(scores["attack"]), 1) * 1000, 2
            ),
        },
        "detection": {
            pattern: {name: share(caught[pattern][name]) for name in configurations}
            for pattern in rc.PATTERNS
        },
        "false_positive_clients": {name: share(caught["normal"][name]) for name in configurations},
        "false_positive_withdrawals": {
            name: share(per_withdrawal[name]) for name in configurations
        },
        "normal_withdrawals_judged": len(per_withdrawal["both"]),
    }
    model.metrics = {k: report[k] for k in ("detection", "false_positive_clients")}
    if compare:
        report["comparison"] = _compare(train_rows, judged, seed=seed)
    report["_model"] = model
    return report


def _compare(train_rows: list[list[float]], judged: list[rc.SyntheticClient], *, seed: int) -> Any:
    """The isolation forest against a small autoencoder, on the same split and threshold rule."""
    out = {}
    normal_rows = [rc.features(f) for c in judged if c.label == "normal" for f, _ in c.cases]
    attacks: dict[str, list[list[list[float]]]] = defaultdict(list)
    for c in judged:
        if c.label != "normal":
            attacks[c.label].append([rc.features(f) for f, attack in c.cases if attack])
    for name in ("isolation_forest", "autoencoder"):
        started = time.perf_counter()
        if name == "isolation_forest":
            forest = rc.anomaly_model_fit(train_rows, seed=seed)
            score, threshold = forest.score, forest.threshold
        else:
            auto = _Autoencoder(train_rows, seed=seed, quantile=0.98)
            score, threshold = auto.score, auto.threshold
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        normal_scores = score(normal_rows)
        attack_scores = {p: [score(rows) for rows in cs if rows] for p, cs in attacks.items()}
        score_s = time.perf_counter() - started
        flat = [s for per in attack_scores.values() for one in per for s in one]
        out[name] = {
            "roc_auc": round(_auc(normal_scores, flat), 4),
            "false_positive_withdrawals": round(
                sum(s >= threshold for s in normal_scores) / max(len(normal_scores), 1), 4
            ),
            "detection": {
                p: round(sum(max(one) >= threshold for one in per) / max(len(per), 1), 4)
                for p, per in sorted(attack_scores.items())
            },
            "fit_seconds": round(fit_s, 3),
            "score_seconds": round(score_s, 3),
        }
    return out


def _text(report: dict[str, Any]) -> str:
    lines = [
        f"Scenario: {report['normal_clients']} normal clients (train {report['train_clients']}, "
        f"test {report['test_clients']}), {report['attacks_per_pattern']} per attack pattern, "
        f"seed {report['seed']}.",
        f"Model: {report['model']['kind']}, threshold {report['model']['threshold']}, "
        f"ROC AUC {report['model']['roc_auc']}, fit {report['model']['fit_seconds']} s.",
        "",
        f"{'':20}{'rules hold':>12}{'rules any':>12}{'model':>12}{'both':>12}",
    ]
    columns = ("rules_hold", "rules_any", "model", "both")
    for pattern, rates in report["detection"].items():
        lines.append(f"{pattern:20}" + "".join(f"{rates[c]:>12.1%}" for c in columns))
    fp = report["false_positive_clients"]
    lines.append(f"{'FP (clients)':20}" + "".join(f"{fp[c]:>12.1%}" for c in columns))
    fpw = report["false_positive_withdrawals"]
    lines.append(f"{'FP (withdrawals)':20}" + "".join(f"{fpw[c]:>12.1%}" for c in columns))
    if "comparison" in report:
        lines.append("")
        for name, result in report["comparison"].items():
            lines.append(f"{name}: {json.dumps(result)}")
    if "saved_to" in report:
        lines.append(f"Saved the model to {report['saved_to']}.")
    return "\n".join(lines) + "\n"
