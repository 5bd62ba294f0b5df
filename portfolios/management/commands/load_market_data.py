"""`manage.py load_market_data [FILE]`: the fund universe and daily prices (idempotent upsert)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from portfolios import market


class Command(BaseCommand):
    help = "Import the fund universe and daily prices; a newer CSV in the same format adds days."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default=str(market.PRICES_FILE))
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument(
            "--no-refresh",
            action="store_true",
            help="do not recompute market assumptions and model portfolios afterwards",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            assets = market.assets_sync()
            written = market.prices_load(
                path=path,
                progress=lambda rows: tqdm(
                    rows, desc="prices", unit="day", disable=options["no_progress"]
                ),
            )
        except market.MarketDataFileInvalid as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{assets} assets, {written} prices; market date {market.market_date_get()}"
        )
        if not options["no_refresh"]:
            from portfolios.tasks import allocation_refresh_task

            allocation_refresh_task.delay()
            self.stdout.write("Queued: market assumptions and model portfolios refresh.")
