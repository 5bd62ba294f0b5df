"""Assets and prices, market assumptions, model portfolios, accounts and the ledger.

Data and invariants only; workflows live in the services modules. Every balance is derived from
ledger entries; the materialised balances (Account.cash, Position.quantity) are kept in step
in the same transaction and guarded by check constraints, so nothing can go negative.
"""

from collections.abc import Collection
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from advisor.models import Client, Goal

MONEY: dict[str, Any] = {"max_digits": 16, "decimal_places": 2}
QUANTITY: dict[str, Any] = {"max_digits": 20, "decimal_places": 8}
PRICE: dict[str, Any] = {"max_digits": 16, "decimal_places": 4}


class Asset(models.Model):
    class AssetClass(models.TextChoices):
        US_EQUITY = "us_equity", "US equity"
        INTL_DEVELOPED_EQUITY = "intl_developed_equity", "Developed markets equity"
        EMERGING_EQUITY = "emerging_equity", "Emerging markets equity"
        US_AGGREGATE_BONDS = "us_aggregate_bonds", "US aggregate bonds"
        TREASURIES = "treasuries", "US Treasuries"
        TIPS = "tips", "Inflation-protected bonds (TIPS)"
        CORPORATE_BONDS = "corporate_bonds", "Investment-grade corporate bonds"
        REAL_ESTATE = "real_estate", "Real estate (REITs)"
        GOLD = "gold", "Gold"
        CASH = "cash", "Cash (T-bills)"

    ticker = models.CharField(max_length=10, unique=True)
    name = models.CharField(max_length=120)
    asset_class = models.CharField(max_length=30, choices=AssetClass)
    expense_ratio = models.DecimalField(max_digits=6, decimal_places=4, default=Decimal("0"))
    index_name = models.CharField(max_length=120, blank=True, help_text="the index it tracks")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("ticker",)

    def __str__(self) -> str:
        return self.ticker


TOTAL_RETURN: dict[str, Any] = {"max_digits": 20, "decimal_places": 6}
PER_UNIT: dict[str, Any] = {"max_digits": 16, "decimal_places": 6}


class Price(models.Model):
    """A fund's day: its actual close, what trades fill at and holdings are valued at, and its
    total-return index level (distributions reinvested), what return statistics, market
    assumptions and benchmarks use. The two are kept apart: the difference is the distributions,
    which are paid to holders as cash (`Distribution`). A loaded day is never silently rewritten
    (`MarketDataRevision`)."""

    asset = models.ForeignKey(Asset, on_delete=models.CASCADE, related_name="prices")
    date = models.DateField(db_index=True)
    close = models.DecimalField(**PRICE)
    total_return = models.DecimalField(
        **TOTAL_RETURN, help_text="total-return index level: its own base, distributions reinvested"
    )

    class Meta:
        ordering = ("asset", "date")
        constraints = [
            models.UniqueConstraint(fields=["asset", "date"], name="price_one_per_asset_day"),
            models.CheckConstraint(condition=Q(close__gt=0), name="price_positive"),
            models.CheckConstraint(
                condition=Q(total_return__gt=0), name="price_total_return_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.date} {self.close}"


class Distribution(models.Model):
    """A cash distribution (dividend, interest, capital gain) of `amount` per unit: whoever
    holds units at the close before `ex_date` is paid on `pay_date`."""

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="distributions")
    ex_date = models.DateField()
    pay_date = models.DateField(db_index=True)
    amount = models.DecimalField(**PER_UNIT, help_text="cash per unit")

    class Meta:
        ordering = ("asset", "ex_date")
        constraints = [
            models.UniqueConstraint(
                fields=["asset", "ex_date"], name="distribution_one_per_asset_ex_date"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="distribution_positive"),
            models.CheckConstraint(
                condition=Q(pay_date__gte=models.F("ex_date")),
                name="distribution_paid_on_or_after_ex_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.amount}/unit ex {self.ex_date} paid {self.pay_date}"


class MarketDataRevision(models.Model):
    """A loaded figure that a later load changed, accepted with `--allow-revisions`: the old
    and the new value, kept so the past is never rewritten silently."""

    class Field(models.TextChoices):
        CLOSE = "close", "Close"
        TOTAL_RETURN = "total_return", "Total-return level"
        DISTRIBUTION = "distribution", "Distribution per unit"

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="revisions")
    date = models.DateField(help_text="the price day, or a distribution's ex-date")
    field = models.CharField(max_length=14, choices=Field)
    old = models.DecimalField(**TOTAL_RETURN, null=True, blank=True)
    new = models.DecimalField(**TOTAL_RETURN, null=True, blank=True)
    source = models.CharField(max_length=255, help_text="the file or feed that brought it")
    revised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-revised_at", "-id")

    def __str__(self) -> str:
        return f"{self.asset_id} {self.date} {self.field}: {self.old} → {self.new}"


class MarketDataAlert(models.Model):
    """A price-feed day that could not be imported whole (missing, partial or invalid): the
    market date stays where it was, and an advisor or admin sees it until it is resolved."""

    class Kind(models.TextChoices):
        MISSING = "missing", "Day missing from the feed"
        PARTIAL = "partial", "Day incomplete (funds without a close)"
        INVALID = "invalid", "Feed file refused"

    kind = models.CharField(max_length=8, choices=Kind)
    day = models.DateField()
    detail = models.TextField()
    source = models.CharField(max_length=255)
    detected_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-detected_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "day"],
                condition=Q(resolved_at__isnull=True),
                name="marketdataalert_one_open_per_kind_day",
            )
        ]

    def __str__(self) -> str:
        return f"Market data {self.kind} on {self.day}"


class MarketAssumptions(models.Model):
    """Expected returns and covariance estimated from prices up to `prices_through`."""

    version = models.PositiveIntegerField(unique=True)
    prices_through = models.DateField()
    method = models.CharField(max_length=60)
    data = models.JSONField(help_text="tickers, expected_returns, covariance, window")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-version",)
        verbose_name_plural = "market assumptions"

    def __str__(self) -> str:
        return f"Assumptions v{self.version} (prices to {self.prices_through})"


class ModelPortfolioSet(models.Model):
    """Ten model portfolios from one set of assumptions; used only once approved."""

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "Candidate"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        RETIRED = "retired", "Retired"

    version = models.PositiveIntegerField(unique=True)
    assumptions = models.ForeignKey(MarketAssumptions, on_delete=models.PROTECT)
    status = models.CharField(max_length=10, choices=Status, default=Status.CANDIDATE)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="the first of the two committee approvals (four eyes)",
    )
    first_approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-version",)
        permissions = [
            (
                "approve_modelportfolioset",
                "Approve firm-wide model portfolios (investment committee)",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="approved"),
                name="modelportfolioset_one_approved",
            )
        ]

    def __str__(self) -> str:
        return f"Model portfolios v{self.version} ({self.status})"


class ModelPortfolio(models.Model):
    portfolio_set = models.ForeignKey(
        ModelPortfolioSet, on_delete=models.CASCADE, related_name="portfolios"
    )
    level = models.PositiveSmallIntegerField()
    weights = models.JSONField(help_text="{ticker: weight as a decimal string}, summing to 1")
    expected_return = models.FloatField(help_text="annualised, from the assumptions")
    volatility = models.FloatField(help_text="annualised, from the assumptions")

    class Meta:
        ordering = ("portfolio_set", "level")
        constraints = [
            models.UniqueConstraint(fields=["portfolio_set", "level"], name="modelportfolio_level"),
            models.CheckConstraint(
                condition=Q(level__gte=1) & Q(level__lte=10), name="modelportfolio_level_1_10"
            ),
        ]

    def __str__(self) -> str:
        return f"Level {self.level} (v{self.portfolio_set_id})"


class LotMethod(models.TextChoices):
    FIFO = "fifo", "First in, first out"
    HIFO = "hifo", "Highest cost first"
    TAX_MIN = "tax_min", "Tax-minimising"


class Account(models.Model):
    """One investment account per goal, Betterment-style: each goal's money is invested to
    that goal's own target, and its value and performance are simply the account's."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="accounts")
    goal = models.OneToOneField(Goal, on_delete=models.PROTECT, related_name="account")
    currency = models.CharField(max_length=3, default="USD")
    cash = models.DecimalField(**MONEY, default=Decimal("0.00"))
    lot_method = models.CharField(
        max_length=8,
        choices=LotMethod,
        default=LotMethod.TAX_MIN,
        help_text="which lots a sale consumes: first in first out, highest cost first, or "
        "tax-minimising (losses first, then long-term gains, then short-term gains)",
    )
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(condition=Q(cash__gte=0), name="account_cash_non_negative")
        ]

    def __str__(self) -> str:
        return f"Account {self.pk} ({self.goal})"


class Position(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="positions")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT)
    quantity = models.DecimalField(**QUANTITY, default=Decimal("0"))

    class Meta:
        ordering = ("account", "asset")
        constraints = [
            models.UniqueConstraint(fields=["account", "asset"], name="position_one_per_asset"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="position_quantity_non_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.asset_id}"


class Transaction(models.Model):
    """One money movement or trade batch; its entries are the ledger."""

    class Kind(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        WITHDRAWAL = "withdrawal", "Withdrawal"
        TRADE = "trade", "Trades"
        FEE = "fee", "Advisory fee"
        DIVIDEND = "dividend", "Dividend"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=12, choices=Kind)
    amount = models.DecimalField(**MONEY, help_text="cash in (+) or out (−) of the account")
    market_date = models.DateField()
    fee_period = models.DateField(
        null=True, blank=True, help_text="advisory fees only: the first day of the month billed"
    )
    distribution = models.ForeignKey(
        Distribution,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
        help_text="dividends only: the distribution paid",
    )
    description = models.CharField(max_length=255, blank=True)
    tax_note = models.CharField(
        max_length=255,
        blank=True,
        help_text="withdrawals from IRAs: their tax treatment, as told to the client",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            # One payment per account and distribution, whatever reruns or concurrent workers do.
            models.UniqueConstraint(
                fields=["account", "distribution"],
                condition=Q(distribution__isnull=False),
                name="transaction_one_payment_per_account_distribution",
            ),
            # A dividend names its distribution and brings money in; nothing else names one.
            models.CheckConstraint(
                condition=(Q(kind="dividend") & Q(distribution__isnull=False) & Q(amount__gt=0))
                | (~Q(kind="dividend") & Q(distribution__isnull=True)),
                name="transaction_distribution_iff_dividend",
            ),
            # One fee per account and month, whatever reruns or concurrent workers do.
            models.UniqueConstraint(
                fields=["account", "fee_period"],
                condition=Q(kind="fee"),
                name="transaction_one_fee_per_account_month",
            ),
            # A fee names its month and takes money out; nothing else names a month.
            models.CheckConstraint(
                condition=(Q(kind="fee") & Q(fee_period__isnull=False) & Q(amount__lt=0))
                | (~Q(kind="fee") & Q(fee_period__isnull=True)),
                name="transaction_fee_period_iff_fee",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class FeeOwed(models.Model):
    """A month's advisory fee that the account could not pay when it was billed (too little in
    it). Kept, not dropped: the fee transaction for that month is made from the account's next
    inflow (a deposit or a dividend), which sets `collected_by`."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="fees_owed")
    period = models.DateField(help_text="the first day of the month billed")
    amount = models.DecimalField(**MONEY)
    billed_on = models.DateField(help_text="the market date of the failed billing")
    collected_by = models.OneToOneField(
        Transaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fee_owed",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("account", "period")
        verbose_name_plural = "fees owed"
        constraints = [
            models.UniqueConstraint(
                fields=["account", "period"], name="feeowed_one_per_account_month"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="feeowed_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} owed by account {self.account_id} for {self.period:%Y-%m}"


class EntryQuerySet(models.QuerySet["Entry"]):
    def of_accounts(
        self, ids: Collection[int] | None = None, *, account_range: tuple[int, int] | None = None
    ) -> "EntryQuerySet":
        """The entries of the accounts `ids`, or of those with lo <= id < hi (`account_range`;
        neither: every account), for a read that joins their transactions (for the market
        date): the same condition is put on the transactions' account. An entry's account is
        its transaction's, but the planner does not know it: without it, PostgreSQL reads every
        transaction of the book on or before the date to join a chunk's entries, a read that
        grows with the book instead of with the chunk."""
        if ids is not None:
            return self.filter(account_id__in=ids, transaction__account_id__in=ids)
        if account_range is not None:
            lo, hi = account_range
            return self.filter(
                account_id__gte=lo,
                account_id__lt=hi,
                transaction__account_id__gte=lo,
                transaction__account_id__lt=hi,
            )
        return self


class Entry(models.Model):
    """A ledger line: cash (asset null) or units of an asset, signed."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True)
    quantity = models.DecimalField(**QUANTITY, help_text="units, or currency for cash")
    price = models.DecimalField(**PRICE, null=True, blank=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        ordering = ("id",)
        indexes = [models.Index(fields=["account", "asset"])]
        verbose_name_plural = "entries"

    def __str__(self) -> str:
        return f"{self.quantity} {self.asset_id or 'cash'}"


class AccountDailyValue(models.Model):
    """What an account held at the close of a day its ledger changed: its cash and units after
    every entry dated on or before that day (a row per day with entries; the holdings stand
    until the next row). With the closes, they give the account's value on any day (cash + Σ
    units × close, exact), which the advisory fee accrues on, without replaying the ledger.

    Kept by the fee job (`services.fees.daily_values_store`), under the accounts' locks: rows
    are added for the entries since `entry_mark` (the account's latest entry id when stored),
    and rebuilt from the first day an entry was booked back to (a fee is dated at its month's
    last close). Units are stored as exact decimal strings."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="daily_values")
    day = models.DateField(help_text="a day with ledger entries (their market date)")
    cash = models.DecimalField(**MONEY)
    units = models.JSONField(default=dict, help_text="asset id → units held (exact, as text)")
    entry_mark = models.BigIntegerField(help_text="the account's latest entry id when stored")

    class Meta:
        ordering = ("account", "day")
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="account_daily_value_one_a_day")
        ]

    def __str__(self) -> str:
        return f"Account {self.account_id} on {self.day}"


class Lot(models.Model):
    """A purchase of units at a cost; sales consume lots in the account's lot method's order.

    The lot's cost basis is quantity × unit_cost + basis_adjustment, the adjustment being the
    losses disallowed by wash sales that this lot replaced (added to basis, IRS Pub. 550);
    its holding period then starts on `holding_from`, the washed lot's acquisition date."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lots")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT)
    opened_by = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="lots")
    acquired_on = models.DateField()
    holding_from = models.DateField(
        null=True,
        blank=True,
        help_text="where a wash sale carried a holding period over: the date it counts from "
        "(default: acquired_on)",
    )
    quantity = models.DecimalField(**QUANTITY)
    remaining = models.DecimalField(**QUANTITY)
    unit_cost = models.DecimalField(**PRICE)
    basis_adjustment = models.DecimalField(
        **MONEY,
        default=Decimal("0.00"),
        help_text="disallowed wash-sale losses added to this lot's basis (for all its units)",
    )
    washed_units = models.DecimalField(
        **QUANTITY,
        default=Decimal("0"),
        help_text="units of this lot already matched as a wash sale's replacement",
    )
    realised_gain = models.DecimalField(**MONEY, default=Decimal("0.00"))

    class Meta:
        ordering = ("acquired_on", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(remaining__gte=0) & Q(remaining__lte=models.F("quantity")),
                name="lot_remaining_within_quantity",
            ),
            models.CheckConstraint(
                condition=Q(washed_units__gte=0) & Q(washed_units__lte=models.F("quantity")),
                name="lot_washed_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.remaining}/{self.quantity} {self.asset_id} @ {self.unit_cost}"


class LotSale(models.Model):
    """Units of one lot sold by one transaction: the realised gain or loss, its term and the
    tax year. `gain` is proceeds − cost basis before any wash sale; `wash_disallowed` is the
    part of a loss that a wash sale disallowed (≥ 0), so the reportable gain is
    gain + wash_disallowed. Sales in IRAs are recorded too; tax reports read taxable ones."""

    class Term(models.TextChoices):
        SHORT = "short", "Short-term (held one year or less)"
        LONG = "long", "Long-term (held more than one year)"

    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="sales")
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="lot_sales")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lot_sales")
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT)
    sold_on = models.DateField()
    quantity = models.DecimalField(**QUANTITY)
    proceeds = models.DecimalField(**MONEY)
    cost_basis = models.DecimalField(**MONEY)
    gain = models.DecimalField(**MONEY, help_text="proceeds − cost basis (negative: a loss)")
    term = models.CharField(max_length=5, choices=Term)
    wash_disallowed = models.DecimalField(**MONEY, default=Decimal("0.00"))
    washed_units = models.DecimalField(
        **QUANTITY, default=Decimal("0"), help_text="units of this loss already matched"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("sold_on", "id")
        indexes = [models.Index(fields=["account", "sold_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="lotsale_quantity_positive"),
            models.CheckConstraint(
                condition=Q(wash_disallowed__gte=0), name="lotsale_wash_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(washed_units__gte=0) & Q(washed_units__lte=models.F("quantity")),
                name="lotsale_washed_within_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.asset_id} sold {self.sold_on}: {self.gain}"


class WashSale(models.Model):
    """A loss disallowed because substantially identical units were bought within 30 days
    before or after the sale, in any of the client's accounts. The disallowed loss is added to
    the replacement lot's basis, except where the replacement is in an IRA, where it is lost
    (Rev. Rul. 2008-5)."""

    sale = models.ForeignKey(LotSale, on_delete=models.PROTECT, related_name="wash_sales")
    replacement = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="wash_sales")
    units = models.DecimalField(**QUANTITY)
    disallowed = models.DecimalField(**MONEY)
    basis_added = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(condition=Q(units__gt=0), name="washsale_units_positive"),
            models.CheckConstraint(
                condition=Q(disallowed__gt=0) & Q(basis_added__gte=0),
                name="washsale_amounts",
            ),
        ]

    def __str__(self) -> str:
        return f"Wash sale of {self.units} ({self.disallowed} disallowed)"


class IdempotencyKey(models.Model):
    """Stripe-style idempotency: the first response to a key is replayed for the same body."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    key = models.CharField(max_length=255)
    scope = models.CharField(max_length=40, help_text="the operation, e.g. deposit")
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotencykey_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class RebalanceProposal(models.Model):
    """Trades that bring an account back to target, proposed when drift passes the threshold.

    Approval executes exactly `trades` (units at the prices shown) while the state they were
    computed from (`state`, hashed in `fingerprint`) is unchanged; otherwise the proposal is
    stale. Rows from before fingerprints have neither, and are always stale."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        EXECUTED = "executed", "Executed"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="rebalances")
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    market_date = models.DateField()
    drift = models.DecimalField(
        "drift when proposed",
        max_digits=6,
        decimal_places=4,
        help_text="a fraction (0.0412 is 4.1%); the account's live drift may differ since",
    )
    threshold = models.DecimalField(max_digits=6, decimal_places=4)
    reason = models.TextField()
    trades = models.JSONField(
        help_text="[{ticker, side, units, price, value}] in execution order, sells first, at "
        "the proposal's closes (older rows: [{ticker, side, value}])"
    )
    before_weights = models.JSONField()
    after_weights = models.JSONField()
    state = models.JSONField(
        null=True,
        blank=True,
        help_text="what the trades were computed from: market date, prices, cash, units held, "
        "the approved model-portfolio set, the goal's level and target weights",
    )
    fingerprint = models.CharField(
        max_length=64, blank=True, default="", help_text="sha256 of `state`"
    )
    superseded_reason = models.TextField(
        blank=True, default="", help_text="why a superseded proposal was not executed"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    executed_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="pending"),
                name="rebalanceproposal_one_pending_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"Rebalance {self.pk} of account {self.account_id} ({self.status})"


class RecurringDeposit(models.Model):
    """A monthly deposit into an account, run by Celery beat on `day_of_month`."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="recurring")
    amount = models.DecimalField(**MONEY)
    day_of_month = models.PositiveSmallIntegerField(help_text="1–28, so every month has it")
    next_run = models.DateField()
    active = models.BooleanField(default=True, help_text="False while paused (or once cancelled)")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="recurring_amount_positive"),
            models.CheckConstraint(
                condition=Q(day_of_month__gte=1) & Q(day_of_month__lte=28),
                name="recurring_day_1_28",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount} monthly on day {self.day_of_month}"


class GoalProjection(models.Model):
    """A Monte Carlo projection of a goal for one set of inputs (what-ifs included).

    Keyed by the inputs' hash, so a repeated question is answered from the table and a rerun
    of the task writes nothing new."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="projections")
    inputs_hash = models.CharField(max_length=64)
    inputs = models.JSONField()
    status = models.CharField(max_length=8, choices=Status, default=Status.PENDING)
    result = models.JSONField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=["goal", "inputs_hash"], name="goalprojection_inputs")
        ]

    def __str__(self) -> str:
        return f"Projection of goal {self.goal_id} ({self.status})"


class LedgerBreak(models.Model):
    """A materialised balance that its ledger entries do not add up to, found by the daily
    reconciliation (services.reconciliation). One open break per account and kind; an advisor
    or admin investigates and sets `resolved_at`."""

    class Kind(models.TextChoices):
        CASH = "cash", "Cash ≠ Σ cash entries"
        UNITS = "units", "Position ≠ Σ unit entries"
        LOTS = "lots", "Position ≠ Σ open lots"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="ledger_breaks")
    kind = models.CharField(max_length=8, choices=Kind)
    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, null=True, blank=True)
    expected = models.DecimalField(**QUANTITY, help_text="the sum of the ledger")
    found = models.DecimalField(**QUANTITY, help_text="the materialised balance")
    detected_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-detected_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="ledgerbreak_one_open_per_account_kind",
            )
        ]

    def __str__(self) -> str:
        return f"Ledger break ({self.kind}) in account {self.account_id}"


class TaxHarvest(models.Model):
    """A tax-loss harvest (sell a fund's lots at a loss, buy its alternate) or a switch back
    (sell the alternate, buy the primary once the wash-sale window has passed), previewed before
    it happens. Like a rebalance, approval executes exactly the trades shown while the state
    they were computed from (`fingerprint`) holds; it executes at once where the client opted
    in (Client.harvest_auto)."""

    class Kind(models.TextChoices):
        HARVEST = "harvest", "Harvest a loss"
        SWITCH_BACK = "switch_back", "Switch back to the primary fund"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending approval"
        EXECUTED = "executed", "Executed"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="harvests")
    kind = models.CharField(max_length=12, choices=Kind, default=Kind.HARVEST)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    market_date = models.DateField()
    sell_asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    buy_asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="+")
    units = models.DecimalField(**QUANTITY, help_text="units sold")
    price = models.DecimalField(**PRICE, help_text="the close the sale fills at")
    proceeds = models.DecimalField(**MONEY)
    buy_units = models.DecimalField(**QUANTITY)
    buy_price = models.DecimalField(**PRICE)
    lots = models.JSONField(
        help_text="[{lot, acquired_on, units, unit_cost, cost_basis, proceeds, gain, term}]"
    )
    short_term_gain = models.DecimalField(**MONEY, default=Decimal("0.00"))
    long_term_gain = models.DecimalField(**MONEY, default=Decimal("0.00"))
    tax_rate_short = models.DecimalField(max_digits=5, decimal_places=4)
    tax_rate_long = models.DecimalField(max_digits=5, decimal_places=4)
    tax_saved = models.DecimalField(
        **MONEY,
        help_text="estimated: −(short-term gain × short rate + long-term gain × long rate) at "
        "the client's federal bracket; negative for a switch back that realises a gain",
    )
    reason = models.TextField()
    state = models.JSONField()
    fingerprint = models.CharField(max_length=64)
    superseded_reason = models.TextField(blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    executed_transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="harvest"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "sell_asset"],
                condition=Q(status="pending"),
                name="taxharvest_one_pending_per_account_fund",
            ),
            models.UniqueConstraint(
                fields=["account", "sell_asset", "market_date"],
                condition=Q(status="executed"),
                name="taxharvest_one_executed_per_account_fund_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.sell_asset_id}→{self.buy_asset_id} ({self.status})"


class Document(models.Model):
    """A generated client document, stored: a monthly statement of one account, or an annual
    tax report of a client. One per (client, account, kind, period); regenerating replaces the
    files in place."""

    class Kind(models.TextChoices):
        STATEMENT = "statement", "Monthly statement"
        TAX_REPORT = "tax_report", "Annual tax report"

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="documents")
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    kind = models.CharField(max_length=12, choices=Kind)
    period_start = models.DateField()
    period_end = models.DateField()
    title = models.CharField(max_length=200)
    pdf = models.BinaryField()
    csv = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("-period_start", "kind", "account_id")
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "period_start"],
                condition=Q(account__isnull=False),
                name="document_one_per_account_period",
            ),
            models.UniqueConstraint(
                fields=["client", "kind", "period_start"],
                condition=Q(account__isnull=True),
                name="document_one_per_client_period",
            ),
            models.CheckConstraint(
                condition=(Q(kind="statement") & Q(account__isnull=False))
                | (Q(kind="tax_report") & Q(account__isnull=True)),
                name="document_statement_has_account",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RiskFigures(models.Model):
    """Risk figures and stress tests of one account, or one model portfolio, at one market date
    (portfolios.services.risk computes them; portfolios.risk and portfolios.stress say how).

    `figures`: the value, weights and history span they were read from, volatility, VaR and
    expected shortfall (historical and normal, 95%, one month and one year), maximum drawdown,
    beta to VTI, and each stress scenario's result. `paths`: the historical scenarios' daily
    values for a chart, kept on a subject's latest row only (older rows drop them when a newer
    one is stored), so the history of figures stays small."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="risk_figures"
    )
    model_portfolio = models.ForeignKey(
        ModelPortfolio,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="risk_figures",
    )
    market_date = models.DateField()
    figures = models.JSONField()
    paths = models.JSONField(
        null=True, blank=True, help_text="{scenario: {dates, path}}; latest row only"
    )
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ("-market_date", "id")
        verbose_name_plural = "risk figures"
        indexes = [models.Index(fields=["market_date"], name="riskfigures_market_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "market_date"], name="riskfigures_one_per_account_day"
            ),
            models.UniqueConstraint(
                fields=["model_portfolio", "market_date"],
                name="riskfigures_one_per_model_portfolio_day",
            ),
            models.CheckConstraint(
                condition=Q(account__isnull=False, model_portfolio__isnull=True)
                | Q(account__isnull=True, model_portfolio__isnull=False),
                name="riskfigures_one_subject",
            ),
        ]

    def __str__(self) -> str:
        subject = (
            f"account {self.account_id}"
            if self.account_id
            else f"model portfolio {self.model_portfolio_id}"
        )
        return f"Risk figures of {subject} on {self.market_date}"


class GovernanceReport(models.Model):
    """The investment committee's evidence on one model-portfolio set (issue #16): walk-forward
    figures of the set's method out of sample, and the set's own weights over the whole history
    (in sample), per level, with a plain-language verdict (portfolios.services.governance
    computes it; portfolios.walkforward says how). One per set; approval waits for it."""

    portfolio_set = models.OneToOneField(
        ModelPortfolioSet, on_delete=models.CASCADE, related_name="governance_report"
    )
    method = models.CharField(
        max_length=60, help_text="the backtest's version, e.g. walk-forward/1"
    )
    prices_through = models.DateField(help_text="the last close of the history it read")
    figures = models.JSONField(help_text="settings, out_of_sample, in_sample, verdict")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ("-portfolio_set__version",)

    def __str__(self) -> str:
        return f"Governance report of model portfolios v{self.portfolio_set.version}"
