"""Errors the portfolio services raise; each renders in the API's one error shape."""

from rest_framework import status

from config.errors import ApplicationError


class MarketDataMissing(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_code = "market_data_missing"


class InsufficientFunds(ApplicationError):
    default_code = "insufficient_funds"


class IdempotencyKeyReused(ApplicationError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "idempotency_key_reused"


class IdempotencyKeyMissing(ApplicationError):
    default_code = "idempotency_key_missing"


class RebalanceStale(ApplicationError):
    """An approved proposal no longer matches the account, prices or targets it was computed
    from: nothing was executed, the proposal is superseded and a fresh one made if needed."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "rebalance_stale"


class GoalClosed(ApplicationError):
    """Money into the account of a closed goal: the goal's history is kept, nothing new moves."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "goal_closed"


class TaxHarvestStale(ApplicationError):
    """An approved harvest no longer matches the lots, prices or wash-sale state it was computed
    from: nothing was executed, it is superseded and a fresh one proposed if still due."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "tax_harvest_stale"


class IraLimitExceeded(ApplicationError):
    """A deposit that would take the client's IRA contributions for the year past the IRS
    limit; nothing is booked. Rendered as a 400 with the field error on `amount`."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "ira_limit_exceeded"


class RiskFiguresUnavailable(ApplicationError):
    """Nothing to measure: the account holds nothing yet."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "risk_figures_unavailable"


class RiskLevelMissing(ApplicationError):
    """The stress check needs a level: the client's own (from the questionnaire) or one given."""

    default_code = "risk_level_missing"


class GovernanceMethodUnknown(ApplicationError):
    """A set whose assumptions were estimated by a method the walk-forward cannot replay."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "governance_method_unknown"


class GovernanceHistoryInsufficient(ApplicationError):
    """Too little price history before the set's date for one out-of-sample year, or a fund of
    the universe without levels."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "governance_history_insufficient"
