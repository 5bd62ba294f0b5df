"""Recurring deposits: monthly on a chosen day, paused, resumed or cancelled by the client,
paid by beat once per scheduled date. A run into an IRA that would pass the year's
contribution limit is skipped (the schedule moves on) and the client is told. Every change by
the client is evaluated by the recurring-change risk rules (advisor.risk_control): recorded, and
flagged for review where a rule says so; no change is stopped by them."""

import logging
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from advisor import risk_control
from advisor.models import Client, Goal, Notification, RiskRule, User
from advisor.services.notifications import notify

from ..exceptions import IraLimitExceeded
from ..models import Account, RecurringDeposit
from ..money import money_text
from .cash_flows import (
    CHUNK_ACCOUNTS,
    ChunkContext,
    account_range_filter,
    amount_check,
    chunk_context,
    deposit_batched,
    plan_changed,
    plans_changed,
)

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

    Each deposit and the move of its schedule to the next date commit together, under the
    schedule's lock, in their own transaction (a failure in one never loses or doubles
    another). The reads every deposit shares (models, risk levels, closes) are made once per
    `CHUNK_ACCOUNTS` accounts and the ledger's rows written in bulk (`deposit_batched`); the
    goals paid into are re-projected by one task per chunk (not with `replan=False`: the daily
    batch projects every plan in its last job, after the day's other money has moved)."""
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
        paid_goals: list[int] = []
        for recurring in chunk:
            if _recurring_pay(recurring=recurring, today=today, context=context):
                ran += 1
                paid_goals.append(recurring.account.goal_id)
        if replan:
            plans_changed(goal_ids=paid_goals)
    return ran


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
    amount = money_text(recurring.amount, account.currency)
    logger.warning(
        "recurring deposit skipped: IRA limit",
        extra={"recurring_id": recurring.pk, "account_id": account.pk},
    )
    notify(
        user=User.objects.get(client__accounts=account),
        kind=Notification.Kind.CASH_FLOW,
        key=f"recurring:{recurring.pk}:{scheduled.isoformat()}:ira_limit",
        title=f"Recurring deposit of {amount} not made",
        body=(
            f"Your recurring deposit of {amount} to “{account.goal.name}” on {scheduled:%d %B %Y} "
            f"was not made: {reason} Lower or pause the recurring deposit to stay within it."
        ),
        link=f"/goals/{account.goal_id}",
    )
