"""What the portfolios floor tells a client: the notifications its events raise (the advisor
floor's `notify` records them, idempotent by each event's key, and emails them if wanted).

One function per event, called at the event's hook point in a service or task."""

from advisor.models import Notification, User
from advisor.services.notifications import goal_track_record, notify

from .models import Account, GoalProjection, RebalanceProposal, Transaction

Kind = Notification.Kind


def _owner(account: Account) -> User:
    return User.objects.get(client__accounts=account)


def cash_flow_notice(*, txn: Transaction, account: Account, user_id: int) -> Notification:
    """The unsaved notice of a deposit or withdrawal done (`account`: txn's, goal loaded)."""
    amount = f"{abs(txn.amount):,.2f} {account.currency}"
    if txn.kind == Transaction.Kind.DEPOSIT:
        title = f"Deposit of {amount} done"
        body = f"Your deposit of {amount} to “{account.goal.name}” is in your account."
    else:
        title = f"Withdrawal of {amount} done"
        body = f"Your withdrawal of {amount} from “{account.goal.name}” is done."
    return Notification(
        user_id=user_id,
        kind=Kind.CASH_FLOW,
        key=f"transaction:{txn.pk}",
        title=title,
        body=body,
        link="/money",
    )


def cash_flow_notify(*, txn: Transaction) -> Notification | None:
    """A deposit or withdrawal is done (booked and, at the close, invested or raised)."""
    account = Account.objects.select_related("goal").get(pk=txn.account_id)
    owner = _owner(account)
    notice = cash_flow_notice(txn=txn, account=account, user_id=owner.pk)
    return notify(
        user=owner,
        kind=notice.kind,
        key=notice.key,
        title=notice.title,
        body=notice.body,
        link=notice.link,
    )


def rebalance_notify(*, proposal: RebalanceProposal) -> Notification | None:
    """A rebalance was executed: the account is back at its target mix."""
    account = Account.objects.select_related("goal").get(pk=proposal.account_id)
    trades = len(proposal.trades)
    return notify(
        user=_owner(account),
        kind=Kind.REBALANCE,
        key=f"rebalance:{proposal.pk}",
        title=f"“{account.goal.name}” was rebalanced",
        body=(
            f"We rebalanced the account of “{account.goal.name}” back to its target mix with "
            f"{trades} trade{'s' if trades != 1 else ''} at the close."
        ),
        link=f"/goals/{account.goal_id}",
    )


def goal_track_check(*, projection_id: int) -> Notification | None:
    """A projection is ready: if it is its goal's current plan, record whether the goal is on
    track, notifying when it has moved off (`Goal.on_track`, the bands by priority).
    A what-if, or a plan already replaced by newer inputs, says nothing about the goal."""
    from .projections import ProjectionUnavailable, inputs_hash, plan_inputs

    projection = GoalProjection.objects.select_related("goal").get(pk=projection_id)
    result = projection.result or {}
    if projection.status != GoalProjection.Status.READY or result.get("probability") is None:
        return None
    goal = projection.goal
    inputs = plan_inputs(goals=[goal])[goal.pk]
    if isinstance(inputs, ProjectionUnavailable) or inputs_hash(inputs) != projection.inputs_hash:
        return None
    return goal_track_record(
        goal=goal, probability=float(result["probability"]), event=f"projection:{projection.pk}"
    )
