"""Run every model on CUDA and on the CPU: do the outputs agree, and how much faster is CUDA?

For a machine with a GPU and a CUDA build of torch. Without model folders it trains the
--quick models into a temporary folder first (a minute or two; the architecture, not the
weights, decides the speed). No database is needed, nor Django's apps: the model layer imports
Django, DRF and Celery modules but needs no settings.

Checked: the two classifiers (bf16 autocast on CUDA against fp32 on the CPU), the risk model,
the knowledge-base embedder (the chat's retrieval: an index built on the CPU, searched with
queries embedded on CUDA), one goal's projection, and the daily batch's `project_batch` over a
book of goals in many families (per goal, CUDA's and the CPU's probabilities of success within
five standard errors; on CUDA, each goal's batch result is the one it gets alone, bit for bit,
and a rerun repeats it), with the speed of each on both.

Run: python -m benchmarks.gpu_check [--sentiment DIR] [--risk-profile DIR] [--chat-intent DIR]
          [--full chat_intent]
Exit status 1 when CUDA is missing or an output disagrees beyond its tolerance.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
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

from nlp.inference.projection import ProjectionInput, project, project_batch  # noqa: E402

TEXTS = 512  # held-out texts per classifier: the tweets' validation split, the chat's test set


def held_out(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return [row["text"] for row in csv.DictReader(f)][:TEXTS]


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


# The daily batch's case: a book's goals in ten risk levels, each gliding towards bonds over its
# last ten years, horizons of 1 to 40 years, the plan's 10,000 paths and one seed.
BOOK_GOALS = 2_000
BOOK_PATHS = 10_000


def level_mix(equity: float) -> tuple[float, float, float]:
    return (round(equity * 0.85, 6), round(1 - equity, 6), round(equity * 0.15, 6))


def book_goals(count: int = BOOK_GOALS, paths: int = BOOK_PATHS) -> list[ProjectionInput]:
    """`count` goals: level g % 10 (equity 10% to 100%), horizon 12 to 480 months; the mix steps
    down to the level below at 120 months left and two below at 60 (a family per level)."""
    goals = []
    for g in range(count):
        level = 2 + g % 9  # 2..10: two levels below each stay within 0..10
        mixes = [level_mix(level / 10), level_mix((level - 1) / 10), level_mix((level - 2) / 10)]
        months = 12 * (1 + (g * 7) % 40)
        steps = [(months - 120, mixes[1]), (months - 60, mixes[2])]
        live = [step for step in steps if step[0] > 0]
        first = mixes[len(steps) - len(live)]
        goals.append(
            dataclasses.replace(
                CASE,
                initial_value=1_000.0 * (1 + g % 97),
                monthly_contribution=50.0 * (g % 13),
                months=months,
                target_amount=5_000.0 * (1 + g % 89) * (1 + months / 120),
                weights=first,
                glide=tuple(live),
                paths=paths,
            )
        )
    return goals


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


def quick_models(root: Path, *, full: tuple[str, ...] = ()) -> dict[str, Path]:
    """Train each model into root/name: --quick, or in full for those named in `full`."""
    from nlp.training import chat_intent, risk_profile, sentiment

    folders = {}
    for name, trainer in (
        ("sentiment", sentiment),
        ("risk_profile", risk_profile),
        ("chat_intent", chat_intent),
    ):
        quick = name not in full
        print(f"training {name}{' --quick' if quick else ''} …", flush=True)
        started = time.perf_counter()
        trainer.train(out_dir=root / name, quick=quick, progress=False)
        print(f"  {time.perf_counter() - started:.0f} s", flush=True)
        folders[name] = root / name
    return folders


PROB_GAP = 0.05  # the most bf16 autocast may move a class probability


def compare_classifier(name: str, cls: Any, folder: Path, texts: list[str]) -> bool:
    """Probabilities within PROB_GAP between bf16 CUDA and fp32 CPU, and the same label wherever
    the CPU's top two are more than 2 x PROB_GAP apart (a nearer tie bf16 may break either way:
    a --quick model, barely trained, has many)."""
    cpu, cuda = torch.device("cpu"), torch.device("cuda", 0)
    on_cpu, on_cuda = cls.load(folder, cpu), cls.load(folder, cuda)
    batch = list(dict.fromkeys(texts))
    a, b = on_cpu.predict(batch), on_cuda.predict(batch)
    agree = sum(x.label == y.label for x, y in zip(a, b, strict=True))
    gap = max(abs(x.scores[k] - y.scores[k]) for x, y in zip(a, b, strict=True) for k in x.scores)

    def margin(scores: dict[str, float]) -> float:
        first, second = sorted(scores.values(), reverse=True)[:2]
        return first - second

    decisive = [(x, y) for x, y in zip(a, b, strict=True) if margin(x.scores) > 2 * PROB_GAP]
    decisive_agree = all(x.label == y.label for x, y in decisive)
    rates = {}
    for where, device, predictor in (("cpu", cpu, on_cpu), ("cuda", cuda, on_cuda)):

        def run(predictor=predictor) -> None:
            for offset in range(0, len(texts), 64):
                predictor.predict(texts[offset : offset + 64])

        rates[where] = len(texts) / timed(run, device)
    ok = decisive_agree and gap <= PROB_GAP
    print(
        f"{name:13s} labels agree {agree}/{len(batch)} ({len(decisive)} decisive: "
        f"{'all agree' if decisive_agree else 'DISAGREE'}), max prob gap {gap:.4f} (bf16 vs "
        f"fp32); cpu {rates['cpu']:,.0f}/s, cuda {rates['cuda']:,.0f}/s "
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
    for where, device, predictor in (("cpu", cpu, on_cpu), ("cuda", cuda, on_cuda)):

        def run(predictor: Any = predictor) -> None:
            predictor.predict(clients)

        rates[where] = len(clients) / timed(run, device)
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
    for where, device in (("cpu", cpu), ("cuda", cuda)):

        def run(device: torch.device = device) -> None:
            project(CASE, device=device)

        seconds[where] = timed(run, device, rounds=3)
    ok = gap <= 0.01 and median_gap <= 0.02
    print(
        f"{'projection':13s} P(success) {a.probability:.3f} vs {b.probability:.3f}, "
        f"median final off by {median_gap:.2%}; {CASE.paths:,} paths x {CASE.months} months: "
        f"cpu {seconds['cpu'] * 1000:.0f} ms, cuda {seconds['cuda'] * 1000:.0f} ms "
        f"{'OK' if ok else 'MISMATCH'}"
    )
    return ok


def compare_projection_batch() -> bool:
    """The daily batch on both devices: statistics within Monte Carlo error, goals per second."""
    cpu, cuda = torch.device("cpu"), torch.device("cuda", 0)
    goals = book_goals()
    seconds, results = {}, {}
    for where, device in (("cpu", cpu), ("cuda", cuda)):
        results[where] = project_batch(goals, device=device)  # also the warm-up
        start = time.perf_counter()  # project_batch returns host numbers: CUDA is done
        again = project_batch(goals, device=device)
        seconds[where] = time.perf_counter() - start
        if where == "cuda":
            repeats = all(
                x.probability == y.probability and x.knot_percentiles == y.knot_percentiles
                for x, y in zip(results["cuda"], again, strict=True)
            )
    n = BOOK_PATHS
    outside, gaps = 0, []
    for a, b in zip(results["cpu"], results["cuda"], strict=True):
        gap = abs(a.probability - b.probability)
        gaps.append(gap)
        pa, pb = a.probability, b.probability
        error = math.sqrt((pa * (1 - pa) + pb * (1 - pb)) / n)
        outside += gap > 5 * error + 2 / n
    sample = range(0, len(goals), 97)
    alone = [project(goals[i], device=cuda) for i in sample]
    alone_equal = all(
        x.probability == results["cuda"][i].probability
        and x.knot_percentiles == results["cuda"][i].knot_percentiles
        for i, x in zip(sample, alone, strict=True)
    )
    ok = outside == 0 and repeats and alone_equal
    print(
        f"{'batch':13s} {len(goals):,} goals x {n:,} paths: P(success) cpu vs cuda mean gap "
        f"{statistics.mean(gaps):.4f}, max {max(gaps):.4f}, {outside} beyond 5 s.e.; cuda batch = "
        f"alone {alone_equal}, rerun identical {repeats}; cpu {len(goals) / seconds['cpu']:,.0f} "
        f"goals/s, cuda {len(goals) / seconds['cuda']:,.0f} goals/s "
        f"({seconds['cpu'] / seconds['cuda']:.1f}x) {'OK' if ok else 'MISMATCH'}"
    )
    return ok


def compare_embedder(questions: list[str]) -> bool:
    """The knowledge index built on the CPU, searched with queries embedded on CUDA."""
    from nlp.chat import knowledge
    from nlp.inference.retrieval import Embedder

    cpu, cuda = torch.device("cpu"), torch.device("cuda", 0)
    on_cpu, on_cuda = Embedder(cpu), Embedder(cuda)
    passages = [f"{p.title}. {p.text}" for p in knowledge.passages()]  # as index_build embeds
    a, b = on_cpu.encode(passages), on_cuda.encode(passages)
    cosine = float((a * b).sum(-1).min())
    top_cpu = (on_cpu.encode(questions) @ a.T).argmax(-1).tolist()
    top_cuda = (on_cuda.encode(questions) @ a.T).argmax(-1).tolist()
    rates = {}
    for where, device, embedder in (("cpu", cpu, on_cpu), ("cuda", cuda, on_cuda)):

        def run(embedder: Any = embedder) -> None:
            embedder.encode(passages)

        rates[where] = len(passages) / timed(run, device, rounds=3)
    ok = cosine >= 0.9999 and top_cpu == top_cuda
    print(
        f"{'embedder':13s} {len(passages)} passages: min cosine cpu vs cuda {cosine:.6f}, top "
        f"passage of {len(questions)} questions agrees {top_cpu == top_cuda}; cpu "
        f"{rates['cpu']:,.0f}/s, cuda {rates['cuda']:,.0f}/s {'OK' if ok else 'MISMATCH'}"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentiment", type=Path)
    parser.add_argument("--risk-profile", type=Path)
    parser.add_argument("--chat-intent", type=Path)
    parser.add_argument(
        "--full",
        nargs="*",
        default=[],
        choices=["sentiment", "risk_profile", "chat_intent"],
        help="models to train in full rather than --quick, when no folder is given "
        "(a --quick chat_intent is too flat for its labels to be compared: no decisive ones)",
    )
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(f"CUDA is not available to torch {torch.__version__}: nothing to compare.")
        return 1
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}")
    folders = {"sentiment": args.sentiment, "risk_profile": args.risk_profile}
    folders["chat_intent"] = args.chat_intent
    with tempfile.TemporaryDirectory() as scratch:
        if not all(folders.values()):
            trained = quick_models(Path(scratch), full=tuple(args.full))
            folders = {**trained, **{k: v for k, v in folders.items() if v}}
        from nlp.inference.chat_intent import IntentPredictor
        from nlp.inference.sentiment import SentimentPredictor
        from nlp.training import chat_intent, sentiment

        headlines, questions = held_out(sentiment.VALID_CSV), held_out(chat_intent.TEST_CSV)
        results = [
            compare_classifier("sentiment", SentimentPredictor, folders["sentiment"], headlines),
            compare_classifier("chat_intent", IntentPredictor, folders["chat_intent"], questions),
            compare_risk(folders["risk_profile"]),
            compare_embedder(questions[:50]),
            compare_projection(),
            compare_projection_batch(),
        ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
