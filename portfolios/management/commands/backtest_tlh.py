"""`manage.py backtest_tlh [--start 2008-01-02] [--end 2023-06-09] [--json]`: tax-loss
harvesting backtested over the shipped market data for the demo clients' goals, harvested and
unharvested side by side (see `portfolios.tlh_backtest`). Reads the CSVs, not the database;
the approved model portfolios are used when the database has them, else a documented mix."""

import json
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from portfolios import tlh_backtest
from portfolios.models import ModelPortfolio, ModelPortfolioSet


def _approved_weights() -> dict[int, dict[str, Decimal]] | None:
    """Level → weights of the approved model-portfolio set, or None without one (or without a
    database)."""
    try:
        portfolios = list(
            ModelPortfolio.objects.filter(portfolio_set__status=ModelPortfolioSet.Status.APPROVED)
        )
    except DatabaseError:
        return None
    if len(portfolios) < 10:
        return None
    return {p.level: {t: Decimal(str(w)) for t, w in p.weights.items()} for p in portfolios}


class Command(BaseCommand):
    help = "Backtest tax-loss harvesting on the shipped prices for the demo clients' deposits."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", default="2008-01-02", help="first day (YYYY-MM-DD)")
        parser.add_argument("--end", default="2023-06-09", help="last day (YYYY-MM-DD)")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--fixed-weights",
            action="store_true",
            help="use the documented fixed mix even if the database has model portfolios",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start, end = date.fromisoformat(options["start"]), date.fromisoformat(options["end"])
        except ValueError as exc:
            raise CommandError(f"Dates are YYYY-MM-DD: {exc}") from exc
        if start >= end:
            raise CommandError("--start must be before --end.")
        approved = None if options["fixed_weights"] else _approved_weights()
        if approved is not None:
            weights, source = approved, "weights: the approved model portfolios"
        else:
            weights = {level: tlh_backtest.fixed_weights(level) for level in range(1, 11)}
            source = "weights: the fixed stock/bond mix per level (tlh_backtest.fixed_weights)"
        rules = tlh_backtest.Rules(
            min_loss=Decimal(str(settings.TLH_MIN_LOSS)),
            min_fraction=Decimal(str(settings.TLH_MIN_LOSS_FRACTION)),
            max_switch_back_gain=Decimal(str(settings.TLH_SWITCH_BACK_MAX_GAIN)),
        )
        try:
            report = tlh_backtest.backtest_run(
                market=tlh_backtest.market_data_read(),
                plans=tlh_backtest.demo_plans(),
                weights_by_level=weights,
                rules=rules,
                start=start,
                end=end,
                weights_source=source,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), indent=2))
        else:
            self.stdout.write(report.table())
