"""Recurring deposits: monthly on a chosen day, paused, resumed or cancelled by the client,
paid by beat once per scheduled date. A run into an IRA that would pass the year's
contribution limit is skipped (the schedule moves on) and the client is told. Every change by
the client is evaluated by the recurring-change risk rules (advisor.risk_control): recorded, and
flagged for review where a rule says so; no change is stopped by them."""

import logging
from copy import copy
from datetime import date, timedelta
from decimal import Decimal

from auditlog.models import LogEntry
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from advisor import risk_control
from advisor.models import Client, Goal, Notification, RiskRule, User
from advisor.services.notifications import notify, notify_many
from config.postgres import rows_update

from ..broker import Broker
from ..exceptions import IraLimitExceeded
from ..models import Account, Lot, RecurringDeposit, Transaction
from ..money import money_text
from .cash_flows import (
    CHUNK_ACCOUNTS,
    ChunkContext,
    Losses,
    account_range_filter,
    amount_check,
    cash_invest_batched,
    chunk_context,
    deposit_batched,
    deposits_notify,
    plan_changed,
    plans_changed,
    purchases_in_rounds,
)
from .ira import ira_age, ira_limit, ira_refusal
from .ledger import LedgerBatch, audit_log_write

logger = logging.getLogger(__name__)


def _next_month_day(after: date, day_of_month: int) -> date:
    candidate = after.replace(day=day_of_month)
    if candidate > after:
        return candidate
    year, month = (after.year + 1, 1) if after.month == 12 else (after.year, after.month + 1)
    return date(year, month, day_of_month)


@transaction.atomic
def recurring_deposit_create(
    *, account: Account, amount: Decimal, day_of_month: int
) -> RecurringDeposit:
    amount_check(amount)
    if not 1 <= day_of_month <= 28:
        raise ValidationError(
            {"day_of_month": ["Choose a day from 1 to 28, so every month has it."]}
        )
    recurring = RecurringDeposit(
        account=account,
        amount=amount,
        day_of_month=day_of_month,
        next_run=_next_month_day(timezone.localdate() - timedelta(days=1), day_of_month),
    )
    recurring.full_clean()
    recurring.save()
    plan_changed(account=account)
    _risk_evaluate(recurring=recurring, change="create")
    return recurring


@transaction.atomic
def recurring_deposit_cancel(*, recurring: RecurringDeposit) -> None:
    recurring.active = False
    recurring.cancelled_at = timezone.now()
    recurring.save(update_fields=["active", "cancelled_at"])
    plan_changed(account=recurring.account)
    _risk_evaluate(recurring=recurring, change="cancel")


@transaction.atomic
def recurring_deposit_pause(*, recurring: RecurringDeposit, paused: bool) -> RecurringDeposit:
    """Pause or resume. A resumed deposit pays from its next day of the month after today:
    months missed while paused are not paid in arrears."""
    recurring = RecurringDeposit.objects.select_for_update().get(pk=recurring.pk)
    if recurring.cancelled_at is not None:
        raise ValidationError({"active": ["This recurring deposit was cancelled."]})
    recurring.active = not paused
    if not paused:
        recurring.next_run = max(
            recurring.next_run,
            _next_month_day(timezone.localdate() - timedelta(days=1), recurring.day_of_month),
        )
    recurring.save(update_fields=["active", "next_run"])
    plan_changed(account=recurring.account)
    _risk_evaluate(recurring=recurring, change="pause" if paused else "resume")
    return recurring


def _risk_evaluate(*, recurring: RecurringDeposit, change: str) -> None:
    """Run the recurring-change rules on a client's change and record the evaluation."""
    account = Account.objects.select_related("goal").get(pk=recurring.account_id)
    risk_control.event_evaluate(
        client=Client.objects.select_related("user").get(pk=account.client_id),
        event=RiskRule.Event.RECURRING_CHANGE,
        amount=recurring.amount,
        change=change,
        goal=account.goal,
    )


def recurring_deposits_run(
    *,
    today: date | None = None,
    account_range: tuple[int, int] | None = None,
    replan: bool = True,
) -> int:
    """Run every due recurring deposit once per scheduled date (a rerun pays nothing), of the
    accounts with lo <= id < hi (`account_range`; None: every account), for the daily batch's
    chunks.

    Set-based per `CHUNK_ACCOUNTS` accounts (`_chunk_pay`): the chunk's deposits and the moves
    of their schedules to the next date commit together, under the schedules', clients' and
    accounts' locks, read and written in a constant number of statements. The deposits it
    leaves (an account owing fees, a goal closed since, an amount refused), and the whole chunk
    if its bulk write fails (logged), are paid one by one after it (`_recurring_pay`: each in
    its own transaction; one that fails is logged and stays due for the next run). The goals
    paid into are re-projected by one task per chunk (not with `replan=False`: the daily batch
    projects every plan in its last job, after the day's other money has moved)."""
    today = today or timezone.localdate()
    due = list(
        RecurringDeposit.objects.filter(
            active=True,
            cancelled_at=None,
            next_run__lte=today,
            **account_range_filter(account_range),
        )
        .exclude(account__goal__status=Goal.Status.CLOSED)  # a closed goal takes no new money
        .select_related("account")
        .order_by("account_id", "pk")
    )
    ran = 0
    for start in range(0, len(due), CHUNK_ACCOUNTS):
        chunk = due[start : start + CHUNK_ACCOUNTS]
        context = chunk_context(accounts=[recurring.account for recurring in chunk])
        try:
            with transaction.atomic():
                paid_goals, rest = _chunk_pay(schedules=chunk, today=today, context=context)
        except OperationalError:
            raise  # transient: the task retries, and what was paid stays paid
        except Exception:
            logger.exception(
                "recurring deposits not paid in bulk: paid one by one",
                extra={"first_account_id": chunk[0].account_id},
            )
            paid_goals, rest = [], chunk
        for recurring in rest:
            try:
                if _recurring_pay(recurring=recurring, today=today, context=context):
                    paid_goals.append(recurring.account.goal_id)
            except OperationalError:
                raise
            except Exception:
                logger.exception(
                    "recurring deposit not paid",
                    extra={"recurring_id": recurring.pk, "account_id": recurring.account_id},
                )
        ran += len(paid_goals)
        if replan:
            plans_changed(goal_ids=paid_goals)
    return ran


def _chunk_pay(
    *, schedules: list[RecurringDeposit], today: date, context: ChunkContext
) -> tuple[list[int], list[RecurringDeposit]]:
    """Pay a chunk's due `schedules` in bulk, in the caller's transaction: `deposit_batched`'s
    checks, rows and notices, and each schedule moved to its next date. Returns the goal ids
    paid into (one per deposit), and the schedules left for `_recurring_pay`.

    Locks the schedules, then their clients' rows, then their accounts' (each in id order, in
    one statement): `_recurring_pay`'s order, and `deposit_make`'s (client, then account), so a
    second worker on the chunk waits and then finds every date moved on."""
    if context.market_day is None:
        return [], schedules  # deposit_batched's MarketDataMissing, one by one
    market_date = context.market_day
    locked = list(
        RecurringDeposit.objects.select_for_update()
        .filter(pk__in=[recurring.pk for recurring in schedules])
        .order_by("pk")
    )
    # Re-checked under the lock: a schedule another worker ran has moved on.
    live = {r.pk: r for r in locked if r.active and r.next_run <= today}
    read = {r.pk: r for r in schedules}  # as read before the locks, their accounts loaded
    if not live:
        return [], []
    client_ids = sorted({read[pk].account.client_id for pk in live})
    clients = {
        client.pk: client
        for client in Client.objects.select_for_update(no_key=True)
        .filter(pk__in=client_ids)
        .only("pk", "user_id", "date_of_birth")
        .order_by("pk")
    }
    accounts = {
        account.pk: account
        for account in Account.objects.select_for_update(of=("self",))
        .select_related("goal")
        .filter(pk__in={r.account_id for r in live.values()})
        .order_by("pk")
    }
    todo = sorted(live.values(), key=lambda r: (r.account_id, r.pk))
    ira = _ira_figures(clients=clients, schedules=todo, accounts=accounts, year=market_date.year)
    by_client: dict[int, list[RecurringDeposit]] = {}
    for schedule in todo:
        by_client.setdefault(accounts[schedule.account_id].client_id, []).append(schedule)
    batches = LedgerBatch.read_many(
        accounts=[accounts[a] for a in sorted({r.account_id for r in todo})]
    )
    rest: list[RecurringDeposit] = []
    queues: dict[int, list[RecurringDeposit]] = {}  # client id → its schedules, in order
    for client_id, own in by_client.items():
        if _one_by_one(schedules=own, accounts=accounts, context=context):
            rest += [read[schedule.pk] for schedule in own]
        else:
            queues[client_id] = own
    broker = context.broker(None)
    deposits: list[Transaction] = []
    moved: list[RecurringDeposit] = []
    before: list[RecurringDeposit] = []
    skipped: list[tuple[RecurringDeposit, Notification]] = []

    def pay(
        client_id: int, schedule: RecurringDeposit, losses: Losses
    ) -> tuple[LedgerBatch | None, list[Lot]]:
        batch = batches[schedule.account_id]
        before.append(copy(schedule))
        moved.append(schedule)
        scheduled = schedule.next_run
        schedule.next_run = _next_month_day(scheduled, schedule.day_of_month)
        refusal = _ira_check(
            schedule=schedule, account=batch.account, figures=ira, year=market_date.year
        )
        if refusal:
            # Skipped, not retried: the limit holds all year. The schedule moves on.
            notice = _ira_skip_notice(
                recurring=schedule,
                account=batch.account,
                user_id=clients[client_id].user_id,
                scheduled=scheduled,
                reason=refusal,
            )
            skipped.append((schedule, notice))
            return None, []
        txn, washes = _deposit_book(
            batch=batch,
            amount=schedule.amount,
            market_date=market_date,
            losses=losses.get((client_id, market_date), set()),
            context=context,
            broker=broker,
        )
        deposits.append(txn)
        return batch, washes

    purchases_in_rounds(queues=queues, days=[market_date], book=pay)
    # The deposits and the moves to the next date commit together, under the locks: a rerun
    # (or a second worker) finds the dates already advanced and pays nothing.
    rows_update(moved, ["next_run"])
    audit_log_write(moved, action=LogEntry.Action.UPDATE, before=before, fields=["next_run"])
    deposits_notify(txns=deposits, user_ids={c.pk: c.user_id for c in clients.values()})
    notify_many([notice for _, notice in skipped])
    for schedule, _ in skipped:
        _ira_skip_log(recurring=schedule)
    for txn in deposits:
        logger.info("deposit", extra={"account_id": txn.account_id, "transaction_id": txn.pk})
    return [txn.account.goal_id for txn in deposits], rest


def _deposit_book(
    *,
    batch: LedgerBatch,
    amount: Decimal,
    market_date: date,
    losses: set[str],
    context: ChunkContext,
    broker: Broker,
) -> tuple[Transaction, list[Lot]]:
    """`deposit_batched`'s rows into a batch, not yet written, with the chunk's reads
    (`losses`: the client's on the market date): the deposit, and the lots that wash a loss."""
    account = batch.account
    txn = batch.transaction(
        kind=Transaction.Kind.DEPOSIT,
        amount=amount,
        market_date=market_date,
        description=f"Deposit of {money_text(amount, account.currency)}",
    )
    batch.cash(txn=txn, amount=amount)
    _, washing = cash_invest_batched(
        txn=txn, batch=batch, context=context, broker=broker, losses=losses
    )
    return txn, washing


def _ira_check(
    *, schedule: RecurringDeposit, account: Account, figures: dict[int, list[Decimal]], year: int
) -> str:
    """`ira_contribution_check` on the chunk's figures (`_ira_figures`), counting the deposit
    in them when it passes: its refusal's message, or "" (passed, or not an IRA)."""
    if account.goal.account_type not in Goal.IRA_TYPES:
        return ""
    limit, contributed = figures[account.client_id]
    if contributed + schedule.amount > limit:
        return ira_refusal(
            year=year,
            limit=limit,
            contributed=contributed,
            amount=schedule.amount,
            currency=account.currency,
        )
    figures[account.client_id][1] += schedule.amount
    return ""


def _ira_figures(
    *,
    clients: dict[int, Client],
    schedules: list[RecurringDeposit],
    accounts: dict[int, Account],
    year: int,
) -> dict[int, list[Decimal]]:
    """Client id → [its IRA limit for `year`, what it contributed in `year`], for the clients
    with an IRA among `schedules`' accounts (`ira_contribution_check`'s figures, the clients'
    rows locked): one query."""
    ira_clients = {
        accounts[r.account_id].client_id
        for r in schedules
        if accounts[r.account_id].goal.account_type in Goal.IRA_TYPES
    }
    if not ira_clients:
        return {}
    figures = {
        client_id: [
            ira_limit(year=year, age=ira_age(client=clients[client_id], year=year)),
            Decimal("0.00"),
        ]
        for client_id in ira_clients
    }
    rows = Transaction.objects.filter(
        account__client_id__in=ira_clients,
        account__goal__account_type__in=Goal.IRA_TYPES,
        kind=Transaction.Kind.DEPOSIT,
        market_date__year=year,
    ).values_list("account__client_id", "amount")
    for client_id, amount in rows:  # summed here, exactly: SQLite sums decimals as floats
        figures[client_id][1] += amount
    return figures


def _one_by_one(
    *, schedules: list[RecurringDeposit], accounts: dict[int, Account], context: ChunkContext
) -> bool:
    """Whether a client's due `schedules` are left to `_recurring_pay`, which pays each as
    `deposit_batched` does: an account owing fees (collected row by row), or a goal closed
    since the schedules were read or an amount refused (raised there)."""
    for schedule in schedules:
        account = accounts[schedule.account_id]
        try:
            amount_check(schedule.amount)
        except ValidationError:
            return True
        if account.pk in context.owed or account.goal.status == Goal.Status.CLOSED:
            return True
    return False


def _recurring_pay(*, recurring: RecurringDeposit, today: date, context: ChunkContext) -> bool:
    """Pay one due schedule and move it to its next date, in one transaction under its lock.
    False when another worker ran it first, or an IRA's limit skipped it."""
    with transaction.atomic():
        locked = RecurringDeposit.objects.select_for_update().get(pk=recurring.pk)
        if not locked.active or locked.next_run > today:
            return False  # another worker ran it
        scheduled = locked.next_run
        # The deposit and the move to the next date commit together, under the lock: a rerun
        # (or a second worker) finds the date already advanced and pays nothing.
        paid = False
        try:
            deposit_batched(account=recurring.account, amount=locked.amount, context=context)
        except IraLimitExceeded as exc:
            # Skipped, not retried: the limit holds all year. The schedule moves on.
            _ira_skip_notify(recurring=locked, scheduled=scheduled, reason=exc.message)
        else:
            paid = True
        locked.next_run = _next_month_day(scheduled, locked.day_of_month)
        locked.save(update_fields=["next_run"])
    return paid


def _ira_skip_notify(*, recurring: RecurringDeposit, scheduled: date, reason: str) -> None:
    """Tell the client that the month's recurring deposit into their IRA was not made."""
    account = Account.objects.select_related("goal").get(pk=recurring.account_id)
    user = User.objects.get(client__accounts=account)
    _ira_skip_log(recurring=recurring)
    notice = _ira_skip_notice(
        recurring=recurring, account=account, user_id=user.pk, scheduled=scheduled, reason=reason
    )
    notify(
        user=user,
        kind=notice.kind,
        key=notice.key,
        title=notice.title,
        body=notice.body,
        link=notice.link,
    )


def _ira_skip_log(*, recurring: RecurringDeposit) -> None:
    logger.warning(
        "recurring deposit skipped: IRA limit",
        extra={"recurring_id": recurring.pk, "account_id": recurring.account_id},
    )


def _ira_skip_notice(
    *, recurring: RecurringDeposit, account: Account, user_id: int, scheduled: date, reason: str
) -> Notification:
    """The notice of a skipped IRA deposit (the account's goal loaded), not yet recorded."""
    amount = money_text(recurring.amount, account.currency)
    return Notification(
        user_id=user_id,
        kind=Notification.Kind.CASH_FLOW,
        key=f"recurring:{recurring.pk}:{scheduled.isoformat()}:ira_limit",
        title=f"Recurring deposit of {amount} not made",
        body=(
            f"Your recurring deposit of {amount} to “{account.goal.name}” on {scheduled:%d %B %Y} "
            f"was not made: {reason} Lower or pause the recurring deposit to stay within it."
        ),
        link=f"/goals/{account.goal_id}",
    )
