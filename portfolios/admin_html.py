"""Small HTML pieces of the workspace's portfolio pages: money, percentages and tables, every
cell escaped."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


def money_cell(value: Decimal | str | None, currency: str, places: int = 2) -> str:
    if value is None:
        return "—"
    amount = f"{Decimal(str(value)):,.{places}f}"
    return f"${amount}" if currency == "USD" else f"{amount} {currency}"


def percent_cell(value: Decimal | float | str | None) -> str:
    """A weight or drift (a fraction) as a percentage, one decimal: 0.4067 → 40.7%."""
    return "—" if value is None else f"{Decimal(str(value)):.1%}"


def cells(values: Iterable[Any], cell: str = "<td>{}</td>") -> SafeString:
    return format_html_join("", cell, ((v,) for v in values))


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]], empty: str) -> SafeString:
    """An admin-styled table; every cell escaped."""
    body = format_html_join("", "<tr>{}</tr>", ((cells(row),) for row in rows))
    if not body:
        return format_html('<p class="quiet">{}</p>', empty)
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        cells(headers, "<th>{}</th>"),
        body,
    )
