"""Tests of the risk questionnaire and its deterministic scoring (pure Python, no database)."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from advisor.risk import (
    CURRENT_VERSION,
    QUESTION_SETS,
    AnswersInvalid,
    QuestionSet,
    UnknownQuestionnaireVersion,
    answers_score,
    answers_validate,
    level_from_score,
    question_set_check,
    question_set_get,
)

QS = question_set_get()


def _extreme(question_set: QuestionSet, *, cautious: bool) -> dict[str, str]:
    """Every question answered with its least (or most) risk-tolerant choice."""
    pick = min if cautious else max
    return {q.key: pick(q.choices, key=lambda c: c.points).value for q in question_set.questions}


def _answers(willingness: str, capacity: str, **overrides: str) -> dict[str, str]:
    """Cautious or aggressive answers per dimension, with some answers overridden."""
    cautious, aggressive = _extreme(QS, cautious=True), _extreme(QS, cautious=False)
    answers: dict[str, str] = {}
    for q in QS.questions:
        side = willingness if q.dimension == "willingness" else capacity
        answers[q.key] = (cautious if side == "cautious" else aggressive)[q.key]
    return {**answers, **overrides}


def _flag_codes(answers: dict[str, str]) -> set[str]:
    return {f.code for f in answers_score(QS, answers).flags}


# A middle-of-the-road client whose answers agree with each other.
CONSISTENT = {
    "scf_willingness": "above_average",
    "loss_reaction": "hold",
    "portfolio_choice": "growth",
    "risk_attitude": "opportunity",
    "prize_choice": "chance_50_5000",
    "time_horizon": "11_to_20",
    "income_stability": "fairly_stable",
    "emergency_reserves": "3_to_5",
    "dependents": "one",
    "loss_impact": "minor",
    "debt_burden": "under_20",
}


def test_it_serves_the_current_version_by_default() -> None:
    assert CURRENT_VERSION == "2026.1"
    assert question_set_get() is QUESTION_SETS["2026.1"]
    assert question_set_get("2026.1").version == "2026.1"


def test_it_rejects_an_unknown_version_naming_the_known_ones() -> None:
    with pytest.raises(UnknownQuestionnaireVersion, match=r"'1999\.1'.*2026\.1"):
        question_set_get("1999.1")


def test_every_published_question_set_is_well_formed() -> None:
    for question_set in QUESTION_SETS.values():
        question_set_check(question_set)


def test_the_scf_question_keeps_its_four_published_choices() -> None:
    question = QS.question("scf_willingness")

    assert question is not None
    assert question.dimension == "willingness"
    values = [c.value for c in question.choices]
    assert values == ["substantial", "above_average", "average", "none"]
    none = question.choice("none")
    assert none is not None
    assert none.label == "Not willing to take any financial risks"
    assert question.choice("made_up") is None


def test_it_covers_both_dimensions_with_the_required_questions() -> None:
    dimensions = {q.key: q.dimension for q in QS.questions}

    for key in ("scf_willingness", "loss_reaction", "portfolio_choice", "risk_attitude"):
        assert dimensions[key] == "willingness"
    for key in ("time_horizon", "income_stability", "emergency_reserves", "dependents"):
        assert dimensions[key] == "capacity"
    assert dimensions["loss_impact"] == "capacity"
    assert QS.question("nope") is None


def test_it_scores_an_all_cautious_client_at_level_1() -> None:
    score = answers_score(QS, _extreme(QS, cautious=True))

    assert (score.willingness_score, score.capacity_score) == (0, 0)
    assert (score.willingness_level, score.capacity_level, score.risk_level) == (1, 1, 1)
    assert score.flags == ()
    assert not score.inconsistent


def test_it_scores_an_all_aggressive_client_at_level_10() -> None:
    score = answers_score(QS, _extreme(QS, cautious=False))

    assert (score.willingness_score, score.capacity_score) == (100, 100)
    assert (score.willingness_level, score.capacity_level, score.risk_level) == (10, 10, 10)
    assert not score.inconsistent


def test_it_scores_each_dimension_as_a_rounded_share_of_its_maximum_points() -> None:
    score = answers_score(QS, CONSISTENT)

    # Willingness 2+2+2+2+1 of 15 = 60%; capacity 3+2+2+2+2+2 of 19 = 68.4%.
    assert (score.willingness_score, score.capacity_score) == (60, 68)
    assert (score.willingness_level, score.capacity_level) == (6, 7)


def test_it_caps_the_risk_level_at_the_lower_of_willingness_and_capacity() -> None:
    eager_but_fragile = answers_score(QS, _answers("aggressive", "cautious"))
    able_but_unwilling = answers_score(QS, _answers("cautious", "aggressive"))

    assert (eager_but_fragile.willingness_level, eager_but_fragile.capacity_level) == (10, 1)
    assert eager_but_fragile.risk_level == 1
    assert (able_but_unwilling.willingness_level, able_but_unwilling.capacity_level) == (1, 10)
    assert able_but_unwilling.risk_level == 1


def test_it_caps_at_willingness_when_capacity_is_higher() -> None:
    score = answers_score(QS, {**CONSISTENT, "time_horizon": "over_20", "loss_impact": "none"})

    assert score.willingness_level < score.capacity_level
    assert score.risk_level == score.willingness_level


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, 1), (5, 1), (6, 2), (50, 6), (94, 9), (95, 10), (100, 10)],
)
def test_it_maps_scores_onto_levels_1_to_10(score: int, expected: int) -> None:
    assert level_from_score(score) == expected


def test_level_from_score_is_monotone() -> None:
    levels = [level_from_score(s) for s in range(101)]

    assert levels == sorted(levels)
    assert set(levels) == set(range(1, 11))


@pytest.mark.parametrize("bad", [-1, 101, 50.0, True])
def test_level_from_score_rejects_scores_outside_0_to_100(bad: object) -> None:
    with pytest.raises(ValueError, match="0 to 100"):
        level_from_score(bad)  # type: ignore[arg-type]


def test_a_consistent_client_raises_no_flags() -> None:
    score = answers_score(QS, CONSISTENT)

    assert score.flags == ()
    assert score.inconsistent is False


@pytest.mark.parametrize("stated", ["substantial", "above_average"])
def test_it_flags_high_stated_willingness_with_selling_everything(stated: str) -> None:
    answers = {**CONSISTENT, "scf_willingness": stated, "loss_reaction": "sell_all"}

    assert "stated_vs_loss_reaction" in _flag_codes(answers)


@pytest.mark.parametrize(
    "overrides",
    [
        {"portfolio_choice": "high_growth"},
        {"loss_reaction": "buy_more"},
    ],
)
def test_it_flags_no_stated_willingness_with_an_aggressive_choice(
    overrides: dict[str, str],
) -> None:
    answers = {**CONSISTENT, "scf_willingness": "none", **overrides}

    assert "stated_none_vs_aggressive_choice" in _flag_codes(answers)


def test_it_flags_a_client_wanting_far_more_risk_than_they_can_bear() -> None:
    score = answers_score(QS, _answers("aggressive", "cautious"))

    assert [f.code for f in score.flags] == ["willingness_exceeds_capacity"]
    assert "level 10" in score.flags[0].message
    assert score.inconsistent


def test_it_does_not_flag_a_client_able_to_bear_more_than_they_want() -> None:
    assert _flag_codes(_answers("cautious", "aggressive")) == set()


@pytest.mark.parametrize(
    ("reaction", "portfolio"),
    [("sell_all", "growth"), ("sell_some", "high_growth"), ("buy_more", "capital_stable")],
)
def test_it_flags_scenario_answers_pointing_opposite_ways(reaction: str, portfolio: str) -> None:
    answers = {**CONSISTENT, "loss_reaction": reaction, "portfolio_choice": portfolio}

    assert "scenarios_disagree" in _flag_codes(answers)


def test_it_reports_details_as_json_ready_data() -> None:
    score = answers_score(QS, _answers("aggressive", "cautious"))

    details = json.loads(json.dumps(score.as_details()))

    assert details == {
        "willingness_score": 100,
        "capacity_score": 0,
        "willingness_level": 10,
        "capacity_level": 1,
        "risk_level": 1,
        "inconsistent": True,
        "flags": [{"code": "willingness_exceeds_capacity", "message": score.flags[0].message}],
        "decision": score.decision.as_details(),
    }
    assert details["decision"]["level"] == 1
    assert details["decision"]["reasons"] == ["capacity_below_willingness"]


def test_it_scores_the_same_answers_the_same_way() -> None:
    assert answers_score(QS, dict(CONSISTENT)) == answers_score(QS, dict(CONSISTENT))


def test_validation_returns_a_new_dict_in_question_order() -> None:
    answers = dict(reversed(list(CONSISTENT.items())))

    cleaned = answers_validate(QS, answers)

    assert cleaned == CONSISTENT
    assert list(cleaned) == [q.key for q in QS.questions]
    assert cleaned is not answers


def _field_errors(answers: object) -> dict[str, list[str]]:
    with pytest.raises(AnswersInvalid) as excinfo:
        answers_validate(QS, answers)
    return excinfo.value.field_errors


@pytest.mark.parametrize("answers", [None, [], "substantial", 3])
def test_it_rejects_answers_that_are_not_an_object(answers: object) -> None:
    assert _field_errors(answers) == {
        "answers": ["Must be an object mapping question keys to choice values."]
    }


def test_it_rejects_a_missing_answer() -> None:
    answers = {k: v for k, v in CONSISTENT.items() if k != "dependents"}

    assert _field_errors(answers) == {"dependents": ["This question must be answered."]}


def test_it_rejects_an_unknown_question() -> None:
    assert _field_errors({**CONSISTENT, "favourite_colour": "blue"}) == {
        "favourite_colour": ["Unknown question."]
    }


def test_it_rejects_a_choice_the_question_does_not_offer() -> None:
    errors = _field_errors({**CONSISTENT, "scf_willingness": "reckless"})

    assert errors == {
        "scf_willingness": [
            "Not one of the allowed choices: substantial, above_average, average, none."
        ]
    }


@pytest.mark.parametrize("value", [None, 3, ["hold"], {"v": "hold"}])
def test_it_rejects_an_answer_that_is_not_a_string(value: object) -> None:
    assert _field_errors({**CONSISTENT, "loss_reaction": value}) == {
        "loss_reaction": ["Must be a string."]
    }


def test_it_rejects_an_oversized_answer() -> None:
    assert _field_errors({**CONSISTENT, "loss_reaction": "x" * 10_000}) == {
        "loss_reaction": ["Must be at most 100 characters."]
    }


def test_it_rejects_too_many_answers() -> None:
    answers = {**CONSISTENT, **{f"extra_{i}": "x" for i in range(100)}}

    assert _field_errors(answers) == {"answers": ["Too many answers: at most 100 allowed."]}


@pytest.mark.parametrize("key", [7, None, "k" * 101])
def test_it_rejects_keys_that_are_not_short_strings(key: object) -> None:
    answers: dict[Any, str] = {**CONSISTENT, key: "x"}

    assert _field_errors(answers) == {
        "answers": ["Question keys must be strings of at most 100 characters."]
    }


def test_it_collects_every_error_at_once() -> None:
    answers = {**CONSISTENT, "loss_reaction": 1, "time_horizon": "never", "zzz": "a"}
    del answers["dependents"]

    errors = _field_errors(answers)

    assert set(errors) == {"loss_reaction", "time_horizon", "zzz", "dependents"}


def test_scoring_validates_first() -> None:
    with pytest.raises(AnswersInvalid):
        answers_score(QS, {"scf_willingness": "none"})


# --- Property: any valid answers score sensibly and more tolerant answers never score lower ---

valid_answers = st.fixed_dictionaries(
    {q.key: st.sampled_from([c.value for c in q.choices]) for q in QS.questions}
)


@given(answers=valid_answers, data=st.data())
def test_any_valid_answers_score_within_bounds_and_monotonically(
    answers: dict[str, str], data: st.DataObject
) -> None:
    score = answers_score(QS, answers)

    assert 0 <= score.willingness_score <= 100
    assert 0 <= score.capacity_score <= 100
    assert 1 <= score.willingness_level <= 10
    assert 1 <= score.capacity_level <= 10
    assert score.risk_level == min(score.willingness_level, score.capacity_level)
    assert score.inconsistent == bool(score.flags)

    # Raising one answer's points never lowers its dimension's score.
    question = data.draw(st.sampled_from(QS.questions))
    current = question.choice(answers[question.key])
    assert current is not None
    higher = [c for c in question.choices if c.points >= current.points]
    raised = answers_score(QS, {**answers, question.key: data.draw(st.sampled_from(higher)).value})
    attribute = f"{question.dimension}_score"
    assert getattr(raised, attribute) >= getattr(score, attribute)
