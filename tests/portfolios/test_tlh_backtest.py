"""The tax-loss-harvesting backtest on a hand-made price path, and its command on the shipped
data."""

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from portfolios import tlh_backtest
from portfolios.tlh_backtest import MarketData, Plan, Rules

RULES = Rules(
    min_loss=Decimal("100.00"),
    min_fraction=Decimal("0.05"),
    max_switch_back_gain=Decimal("50.00"),
)
DROP = date(2020, 2, 10)


def _path() -> MarketData:
    """Weekdays from 2020-01-02 for 80 days. VTI is $100 and falls 20% to $80 on 2020-02-10,
    where it stays; its alternate SPY is $50 throughout."""
    days = tuple(tlh_backtest.weekdays(date(2020, 1, 2), 80))
    closes = {
        d: {"VTI": Decimal("80") if d >= DROP else Decimal("100"), "SPY": Decimal("50")}
        for d in days
    }
    return MarketData(days, closes)


def test_a_20_percent_drop_is_harvested_once_redirects_a_deposit_and_switches_back_on_day_31():
    # All in VTI: $10,000 on 2020-01-02 (100 units), $1,000 on 2020-02-03 (10 units), then
    # $1,000 on the first trading day of March and April.
    market = _path()
    plan = Plan(name="all stocks", level=10, initial=Decimal("10000"), monthly=Decimal("1000"))

    result = tlh_backtest.plan_run(
        market=market,
        plan=plan,
        weights={"VTI": Decimal("1")},
        rules=RULES,
        start=market.days[0],
        end=market.days[-1],
    )

    [year] = result.years.values()
    # 2020-02-10: 110 units worth $8,800 against $11,000: a $2,200 short-term loss (20%), sold;
    # the $8,800 buys 176 SPY. It is harvested once: afterwards nothing is at a loss.
    assert year.harvests == 1
    assert year.harvested_short == Decimal("-2200.00")
    assert year.harvested_long == Decimal("0.00")
    # 2020-03-02, 21 days after the loss sale: the deposit would wash it if it bought VTI; it
    # buys SPY (the account holds the alternate and VTI is blocked). No purchase washed a loss.
    assert year.wash_sales_avoided == 1
    assert year.wash_sales == 0
    # 2020-03-12, day 31 (and not before): SPY is sold back at cost (no gain) for VTI.
    assert year.switch_backs == 1
    assert year.switch_back_short == Decimal("0.00")
    # The same money went in (10,000 + 3 × 1,000) and both ended in VTI at $80: pre-tax, the
    # two accounts are worth the same to within the cents of unit rounding.
    assert result.deposits == Decimal("13000")
    assert abs(result.ending_harvested - result.ending_plain) <= Decimal("0.05")
    assert result.tax_deferred(RULES) == Decimal("528.00")  # 2,200 × 24%


def test_the_switch_back_happens_on_day_31_not_day_30():
    market = _path()
    plan = Plan(name="x", level=10, initial=Decimal("10000"), monthly=Decimal("0"))
    day_30, day_31 = date(2020, 3, 11), date(2020, 3, 12)

    before = tlh_backtest.plan_run(
        market=market,
        plan=plan,
        weights={"VTI": Decimal("1")},
        rules=RULES,
        start=market.days[0],
        end=day_30,
    )
    after = tlh_backtest.plan_run(
        market=market,
        plan=plan,
        weights={"VTI": Decimal("1")},
        rules=RULES,
        start=market.days[0],
        end=day_31,
    )

    assert before.years[2020].switch_backs == 0
    assert after.years[2020].switch_backs == 1


def test_the_fixed_mix_sums_to_one_at_every_level():
    for level in range(1, 11):
        weights = tlh_backtest.fixed_weights(level)
        assert sum(weights.values()) == 1
        assert all(w > 0 for w in weights.values())


@pytest.mark.django_db
def test_the_command_reports_the_demo_goals_over_a_year_of_shipped_data():
    out = StringIO()

    call_command(
        "backtest_tlh", "--start", "2008-01-02", "--end", "2008-12-31", "--json", stdout=out
    )

    report = json.loads(out.getvalue())
    assert report["weights"].startswith("weights: the fixed")  # no model portfolios in the DB
    assert len(report["plans"]) == 9
    # 2008: markets fell hard; the harvested accounts took losses.
    assert report["years"]["2008"]["harvests"] > 0
    assert Decimal(report["total"]["tax_deferred"]) > 0
