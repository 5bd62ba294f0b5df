"""`manage.py build_knowledge_index [--missing]`: embed the knowledge base for the assistant."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Embed every paragraph of nlp/knowledge/*.md with MiniLM into NLP_MODEL_DIR/knowledge/."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--missing", action="store_true", help="only when there is no index or it is stale"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from nlp.chat import knowledge
        from nlp.inference.registry import knowledge_folder
        from nlp.inference.retrieval import corpus_of, index_build

        folder = knowledge_folder()
        if options["missing"] and corpus_of(folder) == knowledge.corpus_hash():
            self.stdout.write("The knowledge index is up to date: nothing to build.")
            return
        started = time.perf_counter()
        count = index_build(folder)
        articles = len(knowledge.articles())
        self.stdout.write(
            f"Indexed {count} passages from {articles} articles into {folder} "
            f"in {time.perf_counter() - started:.1f} s."
        )
