"""`manage.py ingest_news [FILE]`: import news from a CSV or JSON file (default: the demo file)."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from nlp import news
from nlp.exceptions import NewsFileInvalid
from nlp.tasks import sentiment_score_pending_task


class Command(BaseCommand):
    help = "Import news items (CSV or JSON), skipping ones already imported; queue scoring."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?", default=str(news.DEMO_NEWS))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            created, skipped = news.news_import(news.news_read(path.name, path.read_bytes()))
        except NewsFileInvalid as exc:
            raise CommandError("; ".join(exc.errors[:20])) from exc
        sentiment_score_pending_task.delay()
        self.stdout.write(
            f"{created} news items imported, {skipped} already there; scoring queued."
        )
