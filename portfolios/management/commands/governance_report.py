"""`manage.py governance_report [--version N] [--json]`: print the governance report of a
model-portfolio set (default: the newest), the same figures as its admin page and the API.

A set without a report gets one first (`governance_report_build`, a few seconds; stored once,
as the task after a build would), so the command is also how to backfill the sets built before
reports existed."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.errors import ApplicationError
from portfolios.models import ModelPortfolioSet
from portfolios.services.governance import Table, governance_report_build, report_table


class Command(BaseCommand):
    help = "Print (building it first if missing) a model-portfolio set's governance report."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # `--version N` names the set, so it replaces Django's own --version (its release).
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--version", type=int, help="the set's version (default: newest)")
        parser.add_argument("--json", action="store_true", help="print the stored figures as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        sets = ModelPortfolioSet.objects.select_related("assumptions").order_by("-version")
        if options["version"] is not None:
            sets = sets.filter(version=options["version"])
        portfolio_set = sets.first()
        if portfolio_set is None:
            raise CommandError("No such model-portfolio set.")
        try:
            report = governance_report_build(portfolio_set=portfolio_set)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.figures, indent=2))
            return
        figures = report.figures
        lines = [
            f"Governance report of model portfolios v{portfolio_set.version} "
            f"({portfolio_set.status}): {report.method}, prices through {report.prices_through}",
            f"Risk-free: {figures['risk_free']}. Benchmark: {figures['benchmark']}.",
            "",
            *(f"- {line}" for line in figures["verdict"]["lines"]),
        ]
        for section in ("out_of_sample", "extended", "in_sample", "sensitivity"):
            if figures.get(section, {}).get("levels"):
                lines.extend(["", *_text(report_table(figures, section))])
        self.stdout.write("\n".join(lines))


def _text(table: Table) -> list[str]:
    """A table as aligned plain text."""
    widths = [
        max(len(table.headers[i]), *(len(row[i]) for row in table.rows))
        for i in range(len(table.headers))
    ]
    return [
        f"{table.title}, {table.period}",
        "  ".join(h.rjust(w) for h, w in zip(table.headers, widths, strict=True)),
        *("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in table.rows),
    ]
