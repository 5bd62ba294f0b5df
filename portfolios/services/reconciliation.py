"""The daily ledger reconciliation: every materialised balance must equal the sum of its
ledger (Account.cash = Σ cash entries, Position.quantity = Σ unit entries = Σ open lots). A
balance that does not is recorded as a LedgerBreak for an advisor or admin to investigate."""

import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Abs, Coalesce
from django.utils import timezone

from ..models import Account, Entry, LedgerBreak, Lot, Position

logger = logging.getLogger(__name__)

_SUM: DecimalField = DecimalField(max_digits=28, decimal_places=8)
# Balances have 8 places, so on PostgreSQL (exact numeric) any real difference is ≥ 1e-8; the
# half-step tolerance only absorbs SQLite's float sums of decimals (a development database).
_TOLERANCE = Decimal("0.000000005")


def _summed(queryset: QuerySet, field: str, *group: str) -> Coalesce:
    total = queryset.order_by().values(*group).annotate(total=Sum(field)).values("total")
    return Coalesce(Subquery(total, output_field=_SUM), Value(Decimal(0)), output_field=_SUM)


def _differs(a: str, b: str) -> Q:
    return Q(**{f"diff_{a}_{b}__gt": _TOLERANCE})


def _diff(a: str, b: str) -> Abs:
    return Abs(ExpressionWrapper(F(a) - F(b), output_field=_SUM))


def ledger_breaks_find() -> list[LedgerBreak]:
    """Every balance that does not add up, unsaved. Three statements for the whole book, each
    comparing a balance with its ledger inside one statement (one snapshot on PostgreSQL, so a
    deposit committing meanwhile cannot look like a break)."""
    found: list[LedgerBreak] = []
    cash_entries = Entry.objects.filter(account=OuterRef("pk"), asset__isnull=True)
    accounts = (
        Account.objects.order_by("pk")
        .annotate(ledger=_summed(cash_entries, "quantity", "account"))
        .annotate(diff_cash_ledger=_diff("cash", "ledger"))
        .filter(_differs("cash", "ledger"))
        .values_list("pk", "ledger", "cash")
    )
    found += [
        LedgerBreak(account_id=pk, kind=LedgerBreak.Kind.CASH, expected=ledger, found=cash)
        for pk, ledger, cash in accounts
    ]
    unit_entries = Entry.objects.filter(account=OuterRef("account"), asset=OuterRef("asset"))
    open_lots = Lot.objects.filter(
        account=OuterRef("account"), asset=OuterRef("asset"), remaining__gt=0
    )
    positions = (
        Position.objects.order_by("account", "asset")
        .annotate(
            ledger=_summed(unit_entries, "quantity", "account", "asset"),
            lots=_summed(open_lots, "remaining", "account", "asset"),
        )
        .annotate(
            diff_quantity_ledger=_diff("quantity", "ledger"),
            diff_quantity_lots=_diff("quantity", "lots"),
        )
        .filter(_differs("quantity", "ledger") | _differs("quantity", "lots"))
        .values_list("account_id", "asset_id", "quantity", "ledger", "lots")
    )
    for account_id, asset_id, quantity, ledger, lots in positions:
        for kind, expected in ((LedgerBreak.Kind.UNITS, ledger), (LedgerBreak.Kind.LOTS, lots)):
            if abs(quantity - expected) > _TOLERANCE:
                found.append(
                    LedgerBreak(
                        account_id=account_id,
                        kind=kind,
                        asset_id=asset_id,
                        expected=expected,
                        found=quantity,
                    )
                )
    # Units booked with no position row at all (the position was deleted or never written).
    orphan = (
        Entry.objects.filter(asset__isnull=False)
        .exclude(
            Exists(Position.objects.filter(account=OuterRef("account"), asset=OuterRef("asset")))
        )
        .order_by()
        .values("account_id", "asset_id")
        .annotate(total=Sum("quantity"))
        .filter(Q(total__gt=_TOLERANCE) | Q(total__lt=-_TOLERANCE))
        .values_list("account_id", "asset_id", "total")
    )
    found += [
        LedgerBreak(
            account_id=account_id,
            kind=LedgerBreak.Kind.UNITS,
            asset_id=asset_id,
            expected=total,
            found=Decimal(0),
        )
        for account_id, asset_id, total in orphan
    ]
    return found


@transaction.atomic
def ledger_reconcile() -> int:
    """Check every account's balances against its ledger; record each new break (one open per
    account and kind, so a rerun adds nothing) with an error log of ids, and close the open
    breaks that add up again. Returns the breaks newly found."""
    found = ledger_breaks_find()
    broken = {(b.account_id, b.kind) for b in found}
    open_breaks = LedgerBreak.objects.select_for_update().filter(resolved_at__isnull=True)
    already = set(open_breaks.values_list("account_id", "kind"))
    new: dict[tuple[int, str], LedgerBreak] = {}
    for b in found:
        new.setdefault((b.account_id, b.kind), b)  # the first asset of a kind stands for it
    created = [b for key, b in new.items() if key not in already]
    LedgerBreak.objects.bulk_create(created, ignore_conflicts=True)
    for b in created:
        logger.error(
            "ledger break",
            extra={"account_id": b.account_id, "kind": b.kind, "asset_id": b.asset_id},
        )
    healed = [
        pk
        for pk, *key in open_breaks.values_list("pk", "account_id", "kind")
        if tuple(key) not in broken
    ]
    LedgerBreak.objects.filter(pk__in=healed).update(resolved_at=timezone.now())
    logger.info("ledger reconciled", extra={"new_breaks": len(created), "resolved": len(healed)})
    return len(created)
