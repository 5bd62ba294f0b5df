"""Run every model on CUDA and on the CPU: do the outputs agree, and how much faster is CUDA?

For a machine with a GPU and a CUDA build of torch. Without model folders it trains the
--quick models into a temporary folder first (a minute or two; the architecture, not the
weights, decides the speed). No database is needed.

Run: python -m benchmarks.gpu_check [--sentiment DIR] [--risk-profile DIR] [--chat-intent DIR]
Exit status 1 when CUDA is missing or an output disagrees beyond its tolerance.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from nlp.inference.projection import ProjectionInput, project  # noqa: E402

HEADLINES = [
    "Stocks rally as inflation cools more than expected",
    "Bond yields jump after hawkish Fed minutes",
    "Gold little changed ahead of the jobs report",
    "Emerging-market shares slide on a stronger dollar",
    "Real estate funds post their best month since 2020",
    "Corporate defaults rise for a third straight quarter",
    "Treasury auction draws solid demand",
    "Oil prices fall as supply concerns ease",
] * 64
QUESTIONS = [
    "how much money do i have",
    "should I buy Tesla stock?",
    "what is an index fund",
    "am I on track for my house goal",
    "I want to talk to a person",
    "what are your fees",
] * 64
CASE = ProjectionInput(
    initial_value=50_000.0,
    monthly_contribution=500.0,
    months=360,
    target_amount=400_000.0,
    weights=(0.6, 0.3, 0.1),
    monthly_mean=(0.0065, 0.003, 0.0015),
    monthly_cov=((0.0020, 0.0003, 0.0), (0.0003, 0.0004, 0.00001), (0.0, 0.00001, 0.00001)),
    paths=100_000,
    # The last ten years glide towards bonds, as a goal's account does; fee and fund expenses.
    glide=((240, (0.5, 0.4, 0.1)), (300, (0.3, 0.55, 0.15))),
    monthly_fee=0.0025 / 12,
    monthly_expense=(0.0003 / 12, 0.0005 / 12, 0.001 / 12),
)


def timed(run: Callable[[], object], device: torch.device, rounds: int = 5) -> float:
    """Median seconds of `rounds` calls after a warm-up, synchronising CUDA around each."""
    run()
    times = []
    for _ in range(rounds):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def quick_models(root: Path) -> dict[str, Path]:
    from nlp.training import chat_intent, risk_profile, sentiment

    folders = {}
    for name, trainer in (
        ("sentiment", sentiment),
        ("risk_profile", risk_profile),
        ("chat_intent", chat_intent),
    ):
        print(f"training {name} --quick …", flush=True)
        trainer.train(out_dir=root / name, quick=True, progress=False)
        folders[name] = root / name
    return folders


def compare_classifier(name: str, cls: Any, folder: Path, texts: list[str]) -> bool:
    """Label agreement and max probability gap between bf16 CUDA and fp32 CPU."""
    cpu, cuda = torch.device("cpu"), torch.device("cuda", 0)
    on_cpu, on_cuda = cls.load(folder, cpu), cls.load(folder, cuda)
    batch = texts[:64]
    a, b = on_cpu.predict(batch), on_cuda.predict(batch)
    agree = sum(x.label == y.label for x, y in zip(a, b, strict=True)) / len(a)
    gap = max(abs(x.scores[k] - y.scores[k]) for x, y in zip(a, b, strict=True) for k in x.scores)
    rates = {}
    for device, predictor in ((cpu, on_cpu), (cuda, on_cuda)):

        def run(predictor=predictor) -> None:
            for offset in range(0, len(texts), 64):
                predictor.predict(texts[offset : offset + 64])

        rates[device.type] = len(texts) / timed(run, device)
    ok = agree >= 0.97 and gap <= 0.05
    print(
        f"{name:13s} labels agree {agree:.1%}, max prob gap {gap:.4f} (bf16 vs fp32); "
        f"cpu {rates['cpu']:,.0f}/s, cuda {rates['cuda']:,.0f}/s "
        f"({rates['cuda'] / rates['cpu']:.1f}x) {'OK' if ok else 'MISMATCH'}"
    )
    return ok


def compare_risk(folder: Path) -> bool:
    from nlp.inference.risk_profile import RiskFeatures, RiskProfilePredictor, life_cycle_code

    clients = [
        RiskFeatures(
            age=age,
            education=1 + age % 4,
            married=1 + age % 2,
            kids=age % 4,
            life_cycle=life_cycle_code(age=age, married=age % 2 == 0, kids=age % 4, working=True),
            occupation=1,
            income=20_000.0 + 3_000 * age,
            willingness=1 + age % 4,
            net_worth=10_000.0 * age,
        )
        for age in range(22, 54)
    ] * 32
    cpu, cuda = torch.device("cpu"), torch.device("cuda", 0)
    on_cpu, on_cuda = (
        RiskProfilePredictor.load(folder, cpu),
        RiskProfilePredictor.load(folder, cuda),
    )
    a, b = on_cpu.predict(clients), on_cuda.predict(clients)
    gap = max(abs(x.tolerance - y.tolerance) for x, y in zip(a, b, strict=True))
    levels = sum(x.level == y.level for x, y in zip(a, b, strict=True)) / len(a)
    rates = {}
    for device, predictor in ((cpu, on_cpu), (cuda, on_cuda)):

        def run(predictor: Any = predictor) -> None:
            predictor.predict(clients)

        rates[device.type] = len(clients) / timed(run, device)
    ok = gap <= 1e-4 and levels >= 0.99
    print(
        f"{'risk_profile':13s} levels agree {levels:.1%}, max tolerance gap {gap:.2e}; "
        f"cpu {rates['cpu']:,.0f}/s, cuda {rates['cuda']:,.0f}/s {'OK' if ok else 'MISMATCH'}"
    )
    return ok


def compare_projection() -> bool:
    """Different draws on each device: compare the statistics, not the paths."""
    cpu, cuda = torch.device("cpu"), torch.device("cuda", 0)
    a, b = project(CASE, device=cpu), project(CASE, device=cuda)
    gap = abs(a.probability - b.probability)
    median_gap = abs(a.percentiles["p50"][-1] / b.percentiles["p50"][-1] - 1)
    seconds = {}
    for device in (cpu, cuda):

        def run(device: torch.device = device) -> None:
            project(CASE, device=device)

        seconds[device.type] = timed(run, device, rounds=3)
    ok = gap <= 0.01 and median_gap <= 0.02
    print(
        f"{'projection':13s} P(success) {a.probability:.3f} vs {b.probability:.3f}, "
        f"median final off by {median_gap:.2%}; {CASE.paths:,} paths x {CASE.months} months: "
        f"cpu {seconds['cpu'] * 1000:.0f} ms, cuda {seconds['cuda'] * 1000:.0f} ms "
        f"{'OK' if ok else 'MISMATCH'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentiment", type=Path)
    parser.add_argument("--risk-profile", type=Path)
    parser.add_argument("--chat-intent", type=Path)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(f"CUDA is not available to torch {torch.__version__}: nothing to compare.")
        return 1
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    folders = {"sentiment": args.sentiment, "risk_profile": args.risk_profile}
    folders["chat_intent"] = args.chat_intent
    with tempfile.TemporaryDirectory() as scratch:
        if not all(folders.values()):
            folders = {**quick_models(Path(scratch)), **{k: v for k, v in folders.items() if v}}
        from nlp.inference.chat_intent import IntentPredictor
        from nlp.inference.sentiment import SentimentPredictor

        results = [
            compare_classifier("sentiment", SentimentPredictor, folders["sentiment"], HEADLINES),
            compare_classifier("chat_intent", IntentPredictor, folders["chat_intent"], QUESTIONS),
            compare_risk(folders["risk_profile"]),
            compare_projection(),
        ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
