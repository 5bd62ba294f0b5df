"""Targets without the numeric stack: the fund universe, class bounds, drift, goal glide paths.

Standard library only, so web processes can value accounts and measure drift without loading
numpy, pandas or skfolio (allocation.py, which estimates and optimises, needs them).
"""

import math
from collections.abc import Mapping

UNIVERSE: dict[str, str] = {
    "VTI": "us_equity",
    "EFA": "intl_developed_equity",
    "EEM": "emerging_equity",
    "AGG": "us_aggregate_bonds",
    "SHY": "treasuries",
    "IEF": "treasuries",
    "TIP": "tips",
    "LQD": "corporate_bonds",
    "VNQ": "real_estate",
    "GLD": "gold",
    "BIL": "cash",
}

# Tax-loss-harvesting alternates: alternate → the primary fund whose place it takes, of the same
# asset class but tracking a different index (assets.csv names each index), so that selling the
# primary at a loss and holding the alternate keeps the exposure without a wash sale. Never in a
# model portfolio: a holding of an alternate counts toward its primary's target ("its slot").
ALTERNATES: dict[str, str] = {"SPY": "VTI", "VEU": "EFA", "BND": "AGG", "IYR": "VNQ"}
PRIMARIES: dict[str, str] = {primary: alternate for alternate, primary in ALTERNATES.items()}
# Every fund an account may hold, with its asset class.
HOLDABLE: dict[str, str] = {
    **UNIVERSE,
    **{alternate: UNIVERSE[primary] for alternate, primary in ALTERNATES.items()},
}


def slot(ticker: str) -> str:
    """The model-portfolio fund a holding counts toward: its primary for an alternate."""
    return ALTERNATES.get(ticker, ticker)


# (min, max) share of the portfolio per asset class: caps keep satellites (EM, REITs, gold)
# small and stop any one bond sleeve from crowding out diversification.
CLASS_BOUNDS: dict[str, tuple[float, float]] = {
    "us_equity": (0.0, 0.6),
    "intl_developed_equity": (0.0, 0.3),
    "emerging_equity": (0.0, 0.15),
    "us_aggregate_bonds": (0.0, 0.6),
    "treasuries": (0.0, 0.6),
    "tips": (0.0, 0.5),
    "corporate_bonds": (0.0, 0.5),
    "real_estate": (0.0, 0.1),
    "gold": (0.0, 0.1),
    "cash": (0.01, 0.5),
}

GOAL_TYPES = frozenset(
    {
        "retirement",
        "home_purchase",
        "education",
        "emergency_fund",
        "major_purchase",
        "general_wealth",
    }
)
SHORT_PURCHASE_GOALS = frozenset({"home_purchase", "major_purchase"})
MIN_LEVEL = 1
MAX_LEVEL = 10
GLIDE_START_YEARS = 10.0
GLIDE_END_YEARS = 2.0
GLIDE_FLOOR_LEVEL = 3
EMERGENCY_MAX_LEVEL = 2
SHORT_PURCHASE_YEARS = 3.0
SHORT_PURCHASE_MAX_LEVEL = 2


# --- Drift and glide path ---------------------------------------------------------------------


def class_weights(
    weights: Mapping[str, float], universe: Mapping[str, str] = HOLDABLE
) -> dict[str, float]:
    """Sum ticker weights per asset class; every class of the universe appears, zeros included.

    Raises ValueError for a ticker outside the universe rather than dropping money silently.
    """
    unknown = sorted(set(weights) - set(universe))
    if unknown:
        raise ValueError(f"tickers outside the universe: {', '.join(unknown)}")
    totals = dict.fromkeys(universe.values(), 0.0)
    for ticker, weight in weights.items():
        totals[universe[ticker]] += float(weight)
    return totals


def drift(
    actual: Mapping[str, float], target: Mapping[str, float], universe: Mapping[str, str] = HOLDABLE
) -> float:
    """Half the L1 distance between class weights (missing tickers count as 0).

    Measured per asset class, so swapping SHY for IEF inside treasuries is no drift.
    """
    have = class_weights(actual, universe)
    want = class_weights(target, universe)
    return 0.5 * sum(abs(have[c] - want[c]) for c in have)


def glide_level(*, risk_level: int, goal_type: str, years_to_goal: float) -> int:
    """Goal-adjusted risk level (1..10): the client's level, derisked as the goal nears.

    emergency_fund: min(risk_level, 2). Otherwise >= 10 years: risk_level; 2..10 years: linear
    from risk_level down to min(risk_level, 3), rounded down; <= 2 years (or past): that floor.
    home_purchase / major_purchase under 3 years: at most 2. Never below 1.
    """
    if not MIN_LEVEL <= risk_level <= MAX_LEVEL:
        raise ValueError(f"risk_level must be within {MIN_LEVEL}..{MAX_LEVEL}")
    if goal_type not in GOAL_TYPES:
        raise ValueError(f"unknown goal_type: {goal_type}")
    if goal_type == "emergency_fund":
        return max(MIN_LEVEL, min(risk_level, EMERGENCY_MAX_LEVEL))
    level = _glide(risk_level, years_to_goal)
    if goal_type in SHORT_PURCHASE_GOALS and years_to_goal < SHORT_PURCHASE_YEARS:
        level = min(level, SHORT_PURCHASE_MAX_LEVEL)
    return max(MIN_LEVEL, level)


def _glide(risk_level: int, years_to_goal: float) -> int:
    """Linear glide from risk_level (10+ years out) to min(risk_level, 3) (2 years or less)."""
    floor = min(risk_level, GLIDE_FLOOR_LEVEL)
    if years_to_goal >= GLIDE_START_YEARS:
        return risk_level
    if years_to_goal <= GLIDE_END_YEARS:
        return floor
    progress = (years_to_goal - GLIDE_END_YEARS) / (GLIDE_START_YEARS - GLIDE_END_YEARS)
    # The epsilon stops float noise (5.999999...) from rounding a whole level away.
    return floor + math.floor((risk_level - floor) * progress + 1e-9)
