"""`manage.py synth_book --accounts N [--seed S] [--history-months M] [--clear]`: a synthetic
book of N accounts with their clients, risk questionnaires and ledger histories, written in bulk
for load tests and `benchmarks.daily_batch` (issue #18). Runs after `load_market_data` (prices
and approved model portfolios). Marked synthetic (emails @synth.meridian.example) and removed
by `--clear`; like `seed_demo`, it refuses to run where demo data is not allowed (production).
The distributions it draws from are in `portfolios.synth`'s docstring."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portfolios import synth


class Command(BaseCommand):
    help = "Write (or with --clear, remove) a synthetic book of accounts for load tests."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=0, help="accounts (goals) to write")
        parser.add_argument("--seed", type=int, default=0, help="the same seed, the same book")
        parser.add_argument(
            "--history-months", type=int, default=24, help="months of ledger history (default 24)"
        )
        parser.add_argument(
            "--clear",
            action="store_true",
            help="remove every synthetic client first (alone: just remove them)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_DATA_ALLOWED:
            raise CommandError(
                "synth_book writes synthetic clients: it refuses to run with these settings "
                "(DEMO_DATA_ALLOWED is off, as in production)."
            )
        if options["clear"]:
            removed = synth.book_clear()
            self.stdout.write(f"Removed {removed} synthetic clients.")
        if options["accounts"] <= 0:
            if not options["clear"]:
                raise CommandError("Give --accounts N (N ≥ 1), or --clear.")
            return
        if options["history_months"] < 1:
            raise CommandError("--history-months must be at least 1.")
        started = time.perf_counter()
        try:
            result = synth.book_synthesize(
                accounts=options["accounts"],
                seed=options["seed"],
                history_months=options["history_months"],
            )
        except synth.SynthUnavailable as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        levels = ", ".join(f"{level}: {n}" for level, n in result.levels.items())
        self.stdout.write(
            f"Wrote {result.accounts} synthetic accounts of {result.clients} clients in "
            f"{elapsed:.1f} s: {result.transactions} transactions, {result.entries} entries, "
            f"{result.lots} lots, {result.recurring} recurring deposits; clients by risk level "
            f"{{{levels}}}."
        )
