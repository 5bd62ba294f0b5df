"""Risk-profile model: household grouping, levels, quick training, predictor, validation, and
the inputs built from a client (only real answers, dollars at the extract's prices, SCF codes)."""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from advisor.models import Client
from nlp.chat.answers import ATTRIBUTION_NAMES, MODEL_INPUTS_FROM_THE_CLIENT
from nlp.exceptions import ModelUnavailable
from nlp.inference.risk_profile import (
    RiskFeatures,
    RiskPrediction,
    RiskProfilePredictor,
    life_cycle_code,
)
from nlp.services import occupation_code, risk_features, scf_dollars
from nlp.training.risk_profile import (
    COLUMNS,
    FEATURES,
    LEVEL_CUT_POINTS,
    TrainResult,
    household_folds,
    level_cut_points,
    load_dataset,
    tolerance_to_level,
    train,
)

CPU = "cpu"  # accepted and ignored: trees run on the CPU
METRIC_KEYS = (
    {
        f"{model}_{metric}"
        for model in ("gbm", "rf")
        for metric in ("r2", "r2_std", "level_exact", "level_within_1")
    }
    | {f"mean_{metric}" for metric in ("r2", "level_exact", "level_within_1")}
    | {"majority_level_exact", "majority_level_within_1"}
    | {
        f"gbm_{metric}"
        for metric in (
            "interval_coverage",
            "interval_coverage_std",
            "interval_width",
            "interval_levels",
            "low_confidence_share",
        )
    }
    | {"train_seconds", "households", "rows", "interval", "calibration_offset"}
)

CLIENT = RiskFeatures(
    age=42,
    education=4,
    married=1,
    kids=2,
    life_cycle=3,
    occupation=1,
    income=95_000.0,
    willingness=3,
    net_worth=250_000.0,
)
RETIREE = RiskFeatures(
    age=71,
    education=2,
    married=2,
    kids=0,
    life_cycle=6,
    occupation=3,
    income=31_000.0,
    willingness=4,
    net_worth=-12_000.0,
)
FOUNDER = RiskFeatures(
    age=58,
    education=4,
    married=1,
    kids=0,
    life_cycle=5,
    occupation=2,
    income=2_400_000.0,
    willingness=1,
    net_worth=35_000_000.0,
)


@pytest.fixture(scope="module")
def quick_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrainResult]:
    out_dir = tmp_path_factory.mktemp("risk_profile")
    return out_dir, train(out_dir=out_dir, quick=True, progress=False)


def test_features_follow_the_dataclass_order() -> None:
    assert tuple(field.name for field in dataclasses.fields(RiskFeatures)) == FEATURES


def test_households_come_from_the_index_column_not_the_row_position() -> None:
    data = load_dataset()

    assert len(data.target) == 4810
    assert len(np.unique(data.households)) == 1252
    # Grouping by row position would claim 962 households and split real ones apart.
    assert len(np.unique(np.arange(len(data.target)) // 5)) == 962


def test_no_household_is_in_both_train_and_test_folds() -> None:
    data = load_dataset()

    folds = household_folds(data.households, 5)

    tested = np.concatenate([test for _, test in folds])
    assert sorted(tested) == list(range(len(data.target)))  # each row tested exactly once
    for train_rows, test_rows in folds:
        assert not set(data.households[train_rows]) & set(data.households[test_rows])
        assert len(train_rows) + len(test_rows) == len(data.target)


def test_levels_rise_monotonically_from_1_to_10() -> None:
    grid = np.linspace(0.0, 100.0, 2001)

    levels = [tolerance_to_level(float(t)) for t in grid]

    assert levels[0] == 1
    assert levels[-1] == 10
    assert all(b >= a for a, b in zip(levels, levels[1:], strict=False))
    assert set(levels) == set(range(1, 11))


def test_levels_are_evenly_populated_on_the_training_households() -> None:
    data = load_dataset()
    assert level_cut_points(data.target, data.households) == pytest.approx(
        LEVEL_CUT_POINTS, abs=1e-4
    )
    per_household = [
        data.target[data.households == household].mean() for household in np.unique(data.households)
    ]

    counts = np.bincount([tolerance_to_level(float(t)) for t in per_household], minlength=11)[1:]

    shares = counts / counts.sum()
    assert shares == pytest.approx(np.full(10, 0.1), abs=0.01)


def test_quick_training_writes_the_model_files_and_every_metric(
    quick_model: tuple[Path, TrainResult],
) -> None:
    out_dir, result = quick_model

    assert sorted(result.files) == ["config.json", "metrics.json", "model.joblib"]
    assert all((out_dir / name).is_file() for name in result.files)
    assert set(result.metrics) >= METRIC_KEYS
    assert all(isinstance(value, float) for value in result.metrics.values())
    assert json.loads((out_dir / "metrics.json").read_text()) == pytest.approx(result.metrics)
    config = json.loads((out_dir / "config.json").read_text())
    assert config["features"] == list(FEATURES)
    assert len(config["level_cut_points"]) == 9
    assert config["level_cut_points"] == sorted(config["level_cut_points"])
    assert len(result.data_hash) == 64
    assert config["kind"] == "quantile_gbm"
    assert config["interval"] == 0.8


def test_training_is_deterministic_for_a_seed(
    tmp_path: Path, quick_model: tuple[Path, TrainResult]
) -> None:
    first_dir, first = quick_model

    second = train(out_dir=tmp_path, quick=True, progress=False)

    timings = {"train_seconds"}
    assert {k: v for k, v in second.metrics.items() if k not in timings} == {
        k: v for k, v in first.metrics.items() if k not in timings
    }
    clients = [CLIENT, RETIREE, FOUNDER]
    assert RiskProfilePredictor.load(first_dir).predict(clients) == RiskProfilePredictor.load(
        tmp_path
    ).predict(clients)


def test_predictor_returns_one_prediction_per_client_in_range(
    quick_model: tuple[Path, TrainResult],
) -> None:
    predictor = RiskProfilePredictor.load(quick_model[0], device=CPU)

    predictions = predictor.predict([CLIENT, RETIREE, FOUNDER])

    assert len(predictions) == 3
    for prediction in predictions:
        assert isinstance(prediction, RiskPrediction)
        assert 0.0 <= prediction.tolerance_low <= prediction.tolerance
        assert prediction.tolerance <= prediction.tolerance_high <= 100.0
        assert 1 <= prediction.level_low <= prediction.level <= prediction.level_high <= 10
        assert prediction.confidence in ("high", "low")
        assert tuple(prediction.attributions) == FEATURES
        assert prediction.baseline_tolerance == predictions[0].baseline_tolerance
    assert predictor.predict([]) == []


def test_attributions_sum_to_tolerance_minus_baseline(
    quick_model: tuple[Path, TrainResult],
) -> None:
    predictor = RiskProfilePredictor.load(quick_model[0], device=CPU)

    predictions = predictor.predict([CLIENT, RETIREE, FOUNDER])

    for prediction in predictions:
        gap = prediction.tolerance - prediction.baseline_tolerance
        # Exact Shapley values: complete up to float rounding.
        assert sum(prediction.attributions.values()) == pytest.approx(gap, abs=1e-9)


def test_predictions_match_levels_and_repeat_exactly(
    quick_model: tuple[Path, TrainResult],
) -> None:
    out_dir = quick_model[0]
    cut_points = json.loads((out_dir / "config.json").read_text())["level_cut_points"]
    predictor = RiskProfilePredictor.load(out_dir, device=CPU)

    first = predictor.predict([CLIENT, FOUNDER])
    again = RiskProfilePredictor.load(out_dir, device=CPU).predict([FOUNDER, CLIENT])

    assert [p.level for p in first] == [tolerance_to_level(p.tolerance, cut_points) for p in first]
    # Batch order and reloading change nothing: each client is predicted on its own rows.
    assert first == again[::-1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("age", 12),
        ("education", 5),
        ("married", 0),
        ("kids", -1),
        ("life_cycle", 7),
        ("occupation", 0),
        ("willingness", 5),
        ("income", -1.0),
        ("income", float("nan")),
        ("net_worth", float("inf")),
        ("education", 2.0),
        ("married", True),
        ("life_cycle", 2),  # contradicts married with two kids (3)
        ("income", "95000"),
    ],
)
def test_it_rejects_answers_outside_the_scf_coding(
    quick_model: tuple[Path, TrainResult], field: str, value: Any
) -> None:
    predictor = RiskProfilePredictor.load(quick_model[0], device=CPU)
    bad = dataclasses.replace(CLIENT, **{field: value})

    with pytest.raises(ValueError, match=field):
        predictor.predict([CLIENT, bad])


def test_a_model_of_the_old_feature_set_is_unavailable_until_retrained(
    quick_model: tuple[Path, TrainResult], tmp_path: Path
) -> None:
    # given a model saved before "saving" and "spend_more" were dropped
    shutil.copytree(quick_model[0], tmp_path, dirs_exist_ok=True)
    config = json.loads((tmp_path / "config.json").read_text())
    config["features"] = [*FEATURES[:-1], "saving", "spend_more", "net_worth"]
    (tmp_path / "config.json").write_text(json.dumps(config))

    # then it waits for a retrained one, like a missing model
    with pytest.raises(ModelUnavailable, match="train_models risk_profile"):
        RiskProfilePredictor.load(tmp_path, device=CPU)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"kind": None}, "not an interval model"),  # the MLP's config had no kind
        ({"sklearn": "0.0.1"}, "scikit-learn 0.0.1"),
    ],
)
def test_a_point_only_model_or_another_sklearns_is_unavailable_until_retrained(
    quick_model: tuple[Path, TrainResult], tmp_path: Path, change: dict[str, Any], reason: str
) -> None:
    shutil.copytree(quick_model[0], tmp_path, dirs_exist_ok=True)
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(config | change))

    with pytest.raises(ModelUnavailable, match=reason):
        RiskProfilePredictor.load(tmp_path, device=CPU)


def test_it_rejects_the_under_65_not_working_code_from_age_65(
    quick_model: tuple[Path, TrainResult],
) -> None:
    predictor = RiskProfilePredictor.load(quick_model[0], device=CPU)

    with pytest.raises(ValueError, match="occupation"):
        predictor.predict([dataclasses.replace(RETIREE, occupation=4)])


def test_it_rejects_an_under_55_life_cycle_from_age_55(
    quick_model: tuple[Path, TrainResult],
) -> None:
    predictor = RiskProfilePredictor.load(quick_model[0], device=CPU)

    with pytest.raises(ValueError, match="life_cycle"):
        predictor.predict([dataclasses.replace(FOUNDER, life_cycle=2)])


@pytest.mark.parametrize(
    ("age", "married", "kids", "working", "code"),
    [
        (30, False, 0, None, 1),
        (30, True, 0, None, 2),
        (54, True, 3, None, 3),
        (40, False, 1, None, 4),
        (55, True, 2, True, 5),
        (80, False, 0, True, 5),
        (55, False, 0, False, 6),
        (70, True, 1, False, 6),
        (45, True, 0, False, 2),  # working does not matter under 55
    ],
)
def test_life_cycle_code_follows_the_scf_table(
    age: int, married: bool, kids: int, working: bool | None, code: int
) -> None:
    assert life_cycle_code(age, married, kids, working) == code


def test_life_cycle_code_needs_working_from_age_55() -> None:
    with pytest.raises(ValueError, match="working"):
        life_cycle_code(55, True, 0)


def test_life_cycle_code_reproduces_the_survey_column() -> None:
    data = load_dataset()
    column = {name: data.raw[:, i].astype(int) for i, name in enumerate(FEATURES)}

    codes = np.array(
        [
            life_cycle_code(age, married == 1, kids, working=occupation in (1, 2))
            for age, married, kids, occupation in zip(
                column["age"],
                column["married"],
                column["kids"],
                column["occupation"],
                strict=True,
            )
        ]
    )

    # Exact below 55; from 55 the SCF's "working" is close to, not the same as, occupation 1-2.
    young = column["age"] < 55
    assert np.array_equal(codes[young], column["life_cycle"][young])
    assert np.mean(codes[~young] == column["life_cycle"][~young]) > 0.98


# --- The inputs built from a client ------------------------------------------------------------

KYC = {
    "date_of_birth": date(1981, 5, 17),
    "education_level": "bachelors",
    "marital_status": "married",
    "dependents": 2,
    "employment_status": "employed",
    "annual_income": Decimal("120000.00"),
    "net_worth": Decimal("310000.00"),
}
ANSWERS = {"scf_willingness": "above_average", "emergency_reserves": "6_or_more"}


def response_of(answers: dict[str, str] | None = None, **kyc: Any) -> SimpleNamespace:
    return SimpleNamespace(client=SimpleNamespace(**(KYC | kyc)), answers=ANSWERS | (answers or {}))


def test_the_model_reads_no_survey_question_meridian_does_not_ask() -> None:
    # WSAVED07 (did spending exceed income) and SPENDMOR07 (would spend more if assets rose) were
    # a proxy and a constant (issue 11, finding 7).
    assert "WSAVED07" not in COLUMNS.values()
    assert "SPENDMOR07" not in COLUMNS.values()
    assert set(FEATURES) == set(COLUMNS)
    assert set(FEATURES) == {
        "age",
        "education",
        "married",
        "kids",
        "life_cycle",
        "occupation",
        "income",
        "willingness",
        "net_worth",
    }


def test_answers_that_are_not_model_inputs_change_no_input() -> None:
    # given two clients alike in everything the model reads
    few_reserves = response_of({"emergency_reserves": "under_1", "loss_reaction": "sell_all"})
    many_reserves = response_of({"emergency_reserves": "6_or_more"})

    # then no other answer leaks in, as the saving proxy did through the reserves answer
    assert risk_features(response=few_reserves) == risk_features(response=many_reserves)


def test_attributions_hold_only_inputs_the_client_gave(
    quick_model: tuple[Path, TrainResult],
) -> None:
    predictor = RiskProfilePredictor.load(quick_model[0], device=CPU)

    prediction = predictor.predict([risk_features(response=response_of())])[0]

    assert set(prediction.attributions) == set(FEATURES) == MODEL_INPUTS_FROM_THE_CLIENT
    assert set(prediction.attributions) <= set(ATTRIBUTION_NAMES)  # each has the client's words


def test_dollars_are_converted_to_2009_prices_by_the_month_of_the_day() -> None:
    # CPI, 2009 months: 211.14 212.19 212.71 213.24 213.86 215.69 215.35 215.83 215.97 216.18
    # 216.33 215.95, sum 2574.44, mean 214.5367; June 2023: 305.11.
    # 100,000 * 214.5367 / 305.11 = 70,314.53
    assert scf_dollars(100_000.0, on=date(2023, 6, 15)) == pytest.approx(70_314.53, abs=0.01)
    assert scf_dollars(Decimal("100000.00"), on=date(2023, 6, 30)) == pytest.approx(
        70_314.53, abs=0.01
    )
    # July 2023 (305.69) from its first day; 2009 money is itself
    assert scf_dollars(100_000.0, on=date(2023, 7, 1)) == pytest.approx(70_181.12, abs=0.01)
    assert scf_dollars(215.95, on=date(2009, 12, 31)) == pytest.approx(2574.44 / 12)
    # negative net worth keeps its sign
    assert scf_dollars(-100_000.0, on=date(2023, 6, 1)) == pytest.approx(-70_314.53, abs=0.01)


def test_after_the_series_ends_its_last_month_stands_in() -> None:
    # The series ends at 2023-09 (306.13): 100,000 * 214.5367 / 306.13 = 70,080.25.
    assert scf_dollars(100_000.0, on=date(2023, 9, 30)) == pytest.approx(70_080.25, abs=0.01)
    assert scf_dollars(100_000.0, on=date(2026, 11, 29)) == pytest.approx(70_080.25, abs=0.01)


def test_a_day_before_the_series_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="CPI"):
        scf_dollars(100_000.0, on=date(1999, 12, 31))


def test_the_extract_is_in_2009_dollars() -> None:
    # Every INCOME07 is a whole multiple of $10 of (2006) income times one factor: the CPI's rise
    # from 2006 to 2009, not to 2007 (the Fed deflates with the CPI-U-RS, the shipped series is
    # the CPI-U: they differ by under 0.1%).
    income = load_dataset().raw[:, FEATURES.index("income")]
    factor = 1.0649763053

    def price_level(year: int) -> float:  # CPI(year) / CPI(2009), annual averages
        return statistics.fmean(1 / scf_dollars(1.0, on=date(year, m, 1)) for m in range(1, 13))

    tens = income / factor / 10
    assert np.all(np.abs(tens - np.round(tens)) < 1e-3)
    assert factor == pytest.approx(price_level(2009) / price_level(2006), rel=1e-3)
    assert factor != pytest.approx(price_level(2007) / price_level(2006), rel=1e-2)


@pytest.mark.parametrize(
    ("status", "age", "code"),
    [
        ("employed", 40, 1),
        ("employed", 70, 1),
        ("self_employed", 70, 2),
        ("retired", 60, 3),
        ("retired", 80, 3),
        # not working: "other groups not working" (4) under 65, with the retired (3) from 65
        ("unemployed", 64, 4),
        ("unemployed", 65, 3),
        ("homemaker", 40, 4),
        ("homemaker", 70, 3),
        ("student", 22, 4),
        ("student", 66, 3),
    ],
)
def test_work_status_maps_to_the_scf_occupation_code(status: str, age: int, code: int) -> None:
    assert occupation_code(status, age) == code


def test_every_employment_status_has_an_scf_occupation_code() -> None:
    for status in Client.EmploymentStatus.values:
        assert occupation_code(status, 40) in (1, 2, 3, 4)
        assert occupation_code(status, 70) in (1, 2, 3)


def test_the_extract_has_no_under_65_not_working_code_from_65() -> None:
    data = load_dataset()
    age = data.raw[:, FEATURES.index("age")]
    occupation = data.raw[:, FEATURES.index("occupation")]

    assert np.all(age[occupation == 4] < 65)
    assert np.any((occupation == 3) & (age < 65))  # the retired and disabled at any age


@pytest.mark.parametrize(
    ("status", "occupation", "life_cycle"),
    [
        ("employed", 1, 5),
        ("retired", 3, 6),
        # the SCF counts the unemployed and students in the labour force ("working" from 55)
        ("unemployed", 4, 5),
        ("student", 4, 5),
        ("homemaker", 4, 6),
    ],
)
def test_a_60_year_old_clients_work_status_sets_occupation_and_life_cycle(
    status: str, occupation: int, life_cycle: int
) -> None:
    born = date(timezone.localdate().year - 61, 1, 1)  # 61 all year: from 55, under 65

    features = risk_features(
        response=response_of(employment_status=status, dependents=0, date_of_birth=born)
    )

    assert (features.occupation, features.life_cycle) == (occupation, life_cycle)
