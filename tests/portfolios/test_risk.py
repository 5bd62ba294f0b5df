"""Risk figures (portfolios.risk): golden values against closed forms and an independent direct
implementation; their computation and storage per market date (portfolios.services.risk); and
the API (portfolios.api.risk), whose figures and sentence come from the one selector."""

import math
import statistics
from datetime import date, timedelta
from decimal import Decimal

import numpy as np
import pytest
from rest_framework.test import APIClient
from scipy import stats

from advisor import risk as questionnaire
from advisor import services as advisor_services
from portfolios import market, services
from portfolios import risk as risk_maths
from portfolios.models import Price, RiskFigures
from portfolios.services import risk

from ..factories import ClientFactory, GoalFactory
from .conftest import BASE_PRICES, TICKERS, write_prices

# --- The estimators: closed forms ---------------------------------------------------------------


def test_historical_var_and_es_are_the_kth_worst_and_the_mean_of_the_k_worst():
    # 100 outcomes: five losses by hand, then gains. k = ⌈0.05 · 100⌉ = 5.
    outcomes = np.array([[-0.20, -0.15, -0.10, -0.08, -0.06, *([0.01] * 95)]])
    np.random.default_rng(1).shuffle(outcomes[0])

    var, es = risk_maths.historical_var_es(outcomes)

    assert var[0] == pytest.approx(0.06)  # the 5th worst
    assert es[0] == pytest.approx((0.20 + 0.15 + 0.10 + 0.08 + 0.06) / 5)  # 0.118


def test_a_two_point_distribution_has_its_closed_form_var_and_es():
    # A loss of 30% with probability exactly 5% (2 of 40), else +2%: the 5% quantile is the
    # loss itself and the tail holds nothing else, so VaR = ES = 30%.
    outcomes = np.array([[-0.30, -0.30, *([0.02] * 38)]])

    var, es = risk_maths.historical_var_es(outcomes)

    assert (var[0], es[0]) == pytest.approx((0.30, 0.30))


def test_parametric_var_and_es_match_scipy_for_the_normal():
    mean, std, horizon = np.array([0.0004]), np.array([0.011]), 21

    var, es = risk_maths.parametric_var_es(mean, std, horizon)

    # Independent: scipy's normal quantile and its conditional expectation below it, integrated.
    loc, scale = mean[0] * horizon, std[0] * math.sqrt(horizon)
    quantile = stats.norm.ppf(0.05, loc=loc, scale=scale)
    tail_mean = stats.norm.expect(lambda x: x, loc=loc, scale=scale, ub=quantile, conditional=True)
    assert var[0] == pytest.approx(-quantile, rel=1e-9)
    assert es[0] == pytest.approx(-tail_mean, rel=1e-6)


def test_historical_var_of_a_large_normal_sample_converges_to_the_closed_form():
    sigma, mu = 0.01, 0.0002
    sample = np.random.default_rng(7).normal(mu, sigma, size=(1, 400_000))

    var, es = risk_maths.historical_var_es(risk_maths.horizon_returns(sample, 1))

    # Closed forms (Jorion ch. 5; McNeil et al. ex. 2.14): z = Φ⁻¹(0.95) = 1.6449,
    # VaR = zσ − μ = 0.016249, ES = σ φ(z) / 0.05 − μ = 0.020427.
    assert var[0] == pytest.approx(1.644854 * sigma - mu, rel=0.01)
    assert es[0] == pytest.approx(sigma * 0.103136 / 0.05 - mu, rel=0.01)


# --- The whole computation against a direct loop -------------------------------------------------


def _direct(returns: np.ndarray, weights: dict[int, float], vti: int) -> dict[str, float]:
    """The figures written out one day and one window at a time, in plain Python."""
    daily = [sum(w * float(returns[t, i]) for i, w in weights.items()) for t in range(len(returns))]
    market_returns = [float(r) for r in returns[:, vti]]
    figures = {
        "volatility": statistics.stdev(daily) * math.sqrt(252),
        "beta": statistics.covariance(daily, market_returns) / statistics.variance(market_returns),
    }
    value, peak, drawdown = 1.0, 1.0, 0.0
    for r in daily:
        value *= 1 + r
        peak = max(peak, value)
        drawdown = max(drawdown, 1 - value / peak)
    figures["max_drawdown"] = drawdown
    for key, h in (("1m", 21), ("1y", 252)):
        windows = [math.prod(1 + r for r in daily[t - h : t]) - 1 for t in range(h, len(daily) + 1)]
        worst = sorted(windows)
        k = math.ceil(0.05 * len(windows))
        figures[f"{key}_var_historical"] = -worst[k - 1]
        figures[f"{key}_es_historical"] = -sum(worst[:k]) / k
        loc = statistics.fmean(daily) * h
        scale = statistics.stdev(daily) * math.sqrt(h)
        figures[f"{key}_var_parametric"] = -stats.norm.ppf(0.05, loc=loc, scale=scale)
    return figures


def test_the_vectorised_figures_equal_a_direct_loop_for_every_subject():
    rng = np.random.default_rng(3)
    tickers = ("VTI", "AGG", "GLD", "EEM")
    days = 320
    growth = np.exp(np.cumsum(rng.normal(0.0003, [0.012, 0.003, 0.009, 0.016], (days, 4)), axis=0))
    dates = tuple(date(2010, 1, 1) + timedelta(days=i) for i in range(days))
    history = risk_maths.MarketHistory(dates=dates, tickers=tickers, levels=100 * growth)
    subjects = [{"VTI": 0.6, "AGG": 0.4}, {"VTI": 0.3, "GLD": 0.2, "EEM": 0.3}, {"AGG": 0.5}]
    returns = risk_maths.daily_returns(history)

    figures = risk_maths.risk_measures(returns, risk_maths.weights_matrix(subjects, tickers))

    for subject, found in zip(subjects, figures, strict=True):
        columns = {tickers.index(t): w for t, w in subject.items()}
        expected = _direct(returns.returns, columns, vti=0)
        assert found.volatility == pytest.approx(expected["volatility"], abs=2e-6)
        assert found.beta == pytest.approx(expected["beta"], abs=2e-6)
        assert found.max_drawdown == pytest.approx(expected["max_drawdown"], abs=2e-6)
        for key in ("1m", "1y"):
            horizon = found.horizons[key]
            assert horizon.var_historical == pytest.approx(
                expected[f"{key}_var_historical"], abs=2e-6
            )
            assert horizon.es_historical == pytest.approx(
                expected[f"{key}_es_historical"], abs=2e-6
            )
            assert horizon.var_parametric == pytest.approx(
                expected[f"{key}_var_parametric"], abs=2e-6
            )
    assert figures[0].observations == days - 1
    assert figures[0].horizons["1y"].windows == days - 1 - 252 + 1


def test_a_short_history_gives_no_one_year_figures_rather_than_a_guess():
    levels = 100 * np.cumprod(1 + np.tile([0.01, -0.008], 50))[:, None]
    dates = tuple(date(2020, 1, 1) + timedelta(days=i) for i in range(100))
    history = risk_maths.MarketHistory(dates=dates, tickers=("VTI",), levels=levels)

    [figures] = risk_maths.risk_measures(risk_maths.daily_returns(history), np.array([[1.0]]))

    assert figures.horizons["1y"].var_historical is None
    assert figures.horizons["1m"].var_historical is not None


def test_weights_outside_the_history_are_refused_not_dropped():
    with pytest.raises(ValueError, match="no prices for XYZ"):
        risk_maths.weights_matrix([{"XYZ": 0.5}], ("VTI",))


# --- Stored per market date, read by one selector -----------------------------------------------


def _trading_days(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def _synthetic_closes() -> dict[date, dict[str, str]]:
    """January to July 2020, weekdays: VTI climbs, falls 35% from 02-19 to 03-23 (the 2020
    window) and recovers; AGG and BIL drift up; the rest stay near their base price. A ±0.5%
    zig-zag gives every fund some volatility. No distributions, so levels equal closes."""
    days = _trading_days(date(2020, 1, 2), date(2020, 7, 31))
    peak, trough = days.index(date(2020, 2, 19)), days.index(date(2020, 3, 23))
    closes: dict[date, dict[str, str]] = {}
    vti = 200.0
    for i, day in enumerate(days):
        if i > 0:
            if i <= peak:
                vti *= 1.001
            elif i <= trough:
                vti *= 0.65 ** (1 / (trough - peak))
            else:
                vti *= 1.004
        wiggle = 1 + (0.005 if i % 2 else -0.005)
        row = {t: f"{float(BASE_PRICES[t]) * wiggle:.4f}" for t in TICKERS}
        row["VTI"] = f"{vti * (wiggle if i not in (peak, trough) else 1):.4f}"
        row["AGG"] = f"{100 * (1 + 0.0002 * i) * (1 + (wiggle - 1) / 5):.4f}"
        row["BIL"] = f"{91.5 * (1 + 0.00005 * i):.4f}"
        closes[day] = row
    return closes


@pytest.fixture
def market_data(db, tmp_path):
    """Overrides the conftest's one-day market: half a year of 2020 around the crash."""
    market.assets_sync()
    closes = _synthetic_closes()
    market.prices_load(path=write_prices(tmp_path / "p.csv", closes))
    return max(closes)


@pytest.fixture
def funded(account):
    services.deposit_make(account=account, amount=Decimal("10000.00"))
    return account


def _covid_loss_by_hand(account) -> float:
    """The 2020 window replayed directly from the stored prices and the account's holdings."""
    day = market.market_date_get()
    start, end = date(2020, 2, 19), date(2020, 3, 23)
    held = {p.asset_id: p.quantity for p in account.positions.filter(quantity__gt=0)}
    cash = float(account.__class__.objects.get(pk=account.pk).cash)
    today = {
        a: float(c) for a, c in Price.objects.filter(date=day).values_list("asset_id", "close")
    }
    value = cash + sum(float(q) * today[a] for a, q in held.items())
    levels: dict[date, dict[int, float]] = {}
    for d, a, level in Price.objects.filter(
        date__range=(start, end), asset_id__in=held
    ).values_list("date", "asset_id", "total_return"):
        levels.setdefault(d, {})[a] = float(level)
    base = levels[start]
    worst = min(
        cash / value
        + sum(float(q) * today[a] / value * levels[d][a] / base[a] for a, q in held.items())
        for d in levels
    )
    return 1 - worst


def test_it_stores_one_row_per_funded_account_and_model_portfolio_and_a_rerun_replaces_them(
    funded, approved_set, bold_client
):
    # given: a second account of the client, never funded
    unfunded = services.account_open(goal=GoalFactory(client=bold_client))

    # when
    written = risk.risk_figures_compute()
    first = {r.pk: r.figures for r in RiskFigures.objects.all()}
    again = risk.risk_figures_compute()

    # then: the funded account and the ten levels, once each; the rerun changed nothing
    assert written == again == 11
    assert RiskFigures.objects.filter(account=funded).count() == 1
    assert not RiskFigures.objects.filter(account=unfunded).exists()
    assert RiskFigures.objects.filter(model_portfolio__isnull=False).count() == 10
    assert {r.pk: r.figures for r in RiskFigures.objects.all()} == first


def test_the_stored_scenario_loss_is_the_window_replayed_on_todays_holdings(funded):
    risk.risk_figures_compute()

    row = RiskFigures.objects.get(account=funded)
    [covid] = [s for s in row.figures["stress"] if s["key"] == "covid_2020"]

    assert covid["loss"] == pytest.approx(_covid_loss_by_hand(funded), abs=1e-5)
    assert row.figures["horizons"]["1y"]["var_historical"] is None  # half a year of history
    assert row.figures["horizons"]["1m"]["var_historical"] > 0
    assert row.paths is not None
    assert row.paths["covid_2020"]["dates"][0] == "2020-02-19"


def test_chart_paths_stay_on_the_latest_row_only(funded, tmp_path):
    risk.risk_figures_compute()
    # a new market day arrives
    day = market.market_date_get() + timedelta(days=3)
    market.prices_load(path=write_prices(tmp_path / "next.csv", {day: BASE_PRICES}))

    risk.risk_figures_compute()

    rows = list(RiskFigures.objects.filter(account=funded).order_by("market_date"))
    assert [r.paths is not None for r in rows] == [False, True]
    assert rows[0].figures["stress"]  # the figures themselves are kept


def test_the_selector_computes_on_read_what_the_nightly_run_stores(funded):
    fresh = risk.risk_figures_get(account=funded)
    risk.risk_figures_compute()
    stored = risk.risk_figures_get(account=funded)

    assert fresh.computed_at is None
    assert stored.computed_at is not None
    assert fresh.measures == stored.measures
    assert [s.result for s in fresh.scenarios] == [s.result for s in stored.scenarios]
    assert fresh.summary_text == stored.summary_text


# --- The API ------------------------------------------------------------------------------------


def _api(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def test_a_client_reads_their_accounts_figures_from_the_one_selector(funded, bold_client):
    risk.risk_figures_compute()

    response = _api(bold_client.user).get(f"/api/v1/accounts/{funded.pk}/risk/")

    assert response.status_code == 200, response.content
    body = response.json()
    view = risk.risk_figures_get(account=funded)
    assert body["summary_text"] == view.summary_text
    assert body["summary_text"].startswith("In a crash like March 2020 this goal's portfolio")
    assert (
        body["figures"]["one_month"]["var_historical"]
        == view.measures.horizons["1m"].var_historical
    )
    covid = next(s for s in body["stress"] if s["key"] == "covid_2020")
    assert covid["path"][0] == {"date": "2020-02-19", "value": body["value"]}
    assert Decimal(covid["loss_amount"]) == (
        Decimal(body["value"]) * Decimal(str(covid["loss"]))
    ).quantize(Decimal("0.01"))
    assert {s["kind"] for s in body["stress"]} == {"historical", "hypothetical"}


def test_another_clients_account_is_a_404_and_an_empty_one_a_409(funded, bold_client):
    intruder = ClientFactory()

    assert _api(intruder.user).get(f"/api/v1/accounts/{funded.pk}/risk/").status_code == 404
    empty = services.account_open(goal=GoalFactory(client=bold_client))
    response = _api(bold_client.user).get(f"/api/v1/accounts/{empty.pk}/risk/")
    assert response.status_code == 409
    assert response.json()["code"] == "risk_figures_unavailable"


def test_a_model_portfolios_figures_are_per_ten_thousand(approved_set, bold_client):
    api = _api(bold_client.user)

    body = api.get("/api/v1/model-portfolios/10/risk/").json()

    assert body["level"] == 10
    assert body["value"] == "10000.00"
    assert body["weights"] == {"AGG": 0.35, "BIL": 0.05, "VTI": 0.6}
    assert api.get("/api/v1/model-portfolios/11/risk/").status_code == 404


def test_the_stress_check_flags_a_cautious_client_but_not_a_bold_one(
    approved_set, cautious_answers
):
    cautious = ClientFactory()
    advisor_services.questionnaire_submit(
        client=cautious, version=questionnaire.CURRENT_VERSION, answers=cautious_answers
    )
    bold = ClientFactory()
    bold_answers = {
        q.key: max(q.choices, key=lambda c: c.points).value
        for q in questionnaire.question_set_get().questions
    }
    advisor_services.questionnaire_submit(
        client=bold, version=questionnaire.CURRENT_VERSION, answers=bold_answers
    )
    expected = risk.model_portfolio_risk_get(level=10).worst
    assert expected is not None
    assert 0.19 < expected.result.loss < 0.33  # 0.6 × VTI's −35%

    worried = _api(cautious.user).get("/api/v1/risk/stress-check/?level=10").json()
    relaxed = _api(bold.user).get("/api/v1/risk/stress-check/").json()  # their own level: 10

    assert worried["tolerance"]["loss"] == 0.0
    assert worried["exceeds"] is True
    assert worried["advisor_flag"]["code"] == "stress_exceeds_tolerance"
    assert worried["worst"]["key"] == expected.result.key
    assert "more than you said you could bear" in worried["client_text"]
    assert relaxed["level"] == 10
    assert relaxed["tolerance"]["loss"] == 0.33
    assert relaxed["exceeds"] is False
    assert relaxed["advisor_flag"] is None


def test_the_stress_check_needs_a_level_without_a_questionnaire(approved_set):
    response = _api(ClientFactory().user).get("/api/v1/risk/stress-check/")

    assert response.status_code == 400
    assert response.json()["code"] == "risk_level_missing"
