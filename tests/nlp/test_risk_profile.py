"""Risk-profile model: household grouping, levels, quick training, predictor, validation."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from nlp.inference.risk_profile import (
    RiskFeatures,
    RiskPrediction,
    RiskProfilePredictor,
    life_cycle_code,
)
from nlp.training.risk_profile import (
    FEATURES,
    LEVEL_CUT_POINTS,
    TrainResult,
    household_folds,
    level_cut_points,
    load_dataset,
    tolerance_to_level,
    train,
)

CPU = torch.device("cpu")
METRIC_KEYS = {
    f"{model}_{metric}"
    for model in ("mlp", "rf")
    for metric in ("r2", "r2_std", "level_exact", "level_within_1")
} | {"train_seconds", "households", "rows"}

CLIENT = RiskFeatures(
    age=42,
    education=4,
    married=1,
    kids=2,
    life_cycle=3,
    occupation=1,
    income=95_000.0,
    willingness=3,
    saving=3,
    spend_more=4,
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
    saving=2,
    spend_more=5,
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
    saving=3,
    spend_more=2,
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

    assert sorted(result.files) == ["config.json", "metrics.json", "model.pt"]
    assert all((out_dir / name).is_file() for name in result.files)
    assert set(result.metrics) >= METRIC_KEYS
    assert all(isinstance(value, float) for value in result.metrics.values())
    assert json.loads((out_dir / "metrics.json").read_text()) == pytest.approx(result.metrics)
    config = json.loads((out_dir / "config.json").read_text())
    assert config["features"] == list(FEATURES)
    assert len(config["level_cut_points"]) == 9
    assert config["level_cut_points"] == sorted(config["level_cut_points"])
    assert len(result.data_hash) == 64
    assert result.seconds < 30


def test_training_is_deterministic_for_a_seed(
    tmp_path: Path, quick_model: tuple[Path, TrainResult]
) -> None:
    first_dir, first = quick_model

    second = train(out_dir=tmp_path, quick=True, progress=False)

    timings = {"train_seconds"}
    assert {k: v for k, v in second.metrics.items() if k not in timings} == {
        k: v for k, v in first.metrics.items() if k not in timings
    }
    first_state = torch.load(first_dir / "model.pt", weights_only=True)
    second_state = torch.load(tmp_path / "model.pt", weights_only=True)
    assert all(torch.equal(first_state[name], second_state[name]) for name in first_state)


def test_predictor_returns_one_prediction_per_client_in_range(
    quick_model: tuple[Path, TrainResult],
) -> None:
    predictor = RiskProfilePredictor.load(quick_model[0], device=CPU)

    predictions = predictor.predict([CLIENT, RETIREE, FOUNDER])

    assert len(predictions) == 3
    for prediction in predictions:
        assert isinstance(prediction, RiskPrediction)
        assert 0.0 <= prediction.tolerance <= 100.0
        assert 1 <= prediction.level <= 10
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
        assert sum(prediction.attributions.values()) == pytest.approx(gap, abs=0.02)


def test_predictions_match_levels_and_repeat_exactly(
    quick_model: tuple[Path, TrainResult],
) -> None:
    out_dir = quick_model[0]
    cut_points = json.loads((out_dir / "config.json").read_text())["level_cut_points"]
    predictor = RiskProfilePredictor.load(out_dir, device=CPU)

    first = predictor.predict([CLIENT, FOUNDER])
    again = RiskProfilePredictor.load(out_dir, device=CPU).predict([FOUNDER, CLIENT])

    assert [p.level for p in first] == [tolerance_to_level(p.tolerance, cut_points) for p in first]
    # Batch order and reloading change nothing beyond float32 rounding in the gradients.
    for one, other in zip(first, again[::-1], strict=True):
        assert one.level == other.level
        assert one.tolerance == pytest.approx(other.tolerance, abs=1e-5)
        assert one.attributions == pytest.approx(other.attributions, abs=1e-4)


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
        ("saving", 4),
        ("spend_more", 6),
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
