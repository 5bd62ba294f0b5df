"""`manage.py load_market_data [FILE]`: the fund universe, daily closes, total-return levels and
distributions, in one transaction. Reloading the same files changes nothing; a load that would
change a stored figure is refused unless `--allow-revisions`."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from portfolios import market

MIGRATED_HINT = (
    " A database loaded before actual closes were shipped (migration 0009 copied the old "
    "back-adjusted closes into total_return) needs this once: "
    "`python manage.py load_market_data --allow-revisions`."
)


class Command(BaseCommand):
    help = (
        "Import the fund universe and market data (default: the shipped prices.csv, "
        "total_returns.csv and distributions.csv); a newer closes CSV in the same format adds "
        "days."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file",
            nargs="?",
            help="a closes CSV (date,TICKER,…); default: the shipped files",
        )
        parser.add_argument("--total-returns", help="total-return levels CSV for FILE's days")
        parser.add_argument("--distributions", help="ticker,ex_date,pay_date,amount CSV")
        parser.add_argument(
            "--allow-revisions",
            action="store_true",
            help="apply changes to figures already loaded, recording each (else: refused)",
        )
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--no-refresh",
            action="store_true",
            help="do not recompute market assumptions and model portfolios afterwards",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["file"] is None:
            prices = market.PRICES_FILE
            total_returns: Path | None = market.TOTAL_RETURNS_FILE
            distributions: Path | None = market.DISTRIBUTIONS_FILE
        else:
            prices, total_returns, distributions = Path(options["file"]), None, None
        if options["total_returns"]:
            total_returns = Path(options["total_returns"])
        if options["distributions"]:
            distributions = Path(options["distributions"])
        for path in (prices, total_returns, distributions):
            if path is not None and not path.is_file():
                raise CommandError(f"No such file: {path}")
        try:
            assets, result = market.market_data_load(
                prices=prices,
                total_returns=total_returns,
                distributions=distributions,
                allow_revisions=options["allow_revisions"],
                progress=lambda funds: tqdm(
                    funds, desc="market data", unit="fund", disable=options["no_progress"]
                ),
            )
        except market.MarketDataRevisionRefused as exc:
            raise CommandError(str(exc) + MIGRATED_HINT) from exc
        except market.MarketDataFileInvalid as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{assets} assets, {result.prices_added} new prices, "
            f"{result.distributions_added} new distributions, "
            f"{len(result.revisions)} revisions recorded; "
            f"market date {market.market_date_get()}"
        )
        if not options["no_refresh"] and not result.revisions:
            # With revisions the loader has queued a forced refresh already.
            from portfolios.tasks import allocation_refresh_task

            allocation_refresh_task.delay()
            self.stdout.write("Queued: market assumptions and model portfolios refresh.")
