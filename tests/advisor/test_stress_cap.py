"""The stress cap of the suitability policy (advisor.suitability, rule 3): the level comes down
to the highest level whose worst stress-scenario loss is within the loss the client said they
could bear, never up, and never to no level at all."""

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor import risk
from advisor.suitability import (
    CLIENT_REASON_TEXT,
    MIN_LEVEL,
    OVERRIDE_ABOVE_STRESS_CAP,
    STRESS_CAP_LOWERS_LEVEL,
    STRESS_FLOOR,
    LevelLoss,
    Override,
    StressCap,
    decide,
    decision_from_details,
    loss_percent,
    loss_within,
    stress_capped_level,
)

QS = risk.question_set_get()
LEVELS = range(1, 11)


def _table(losses: dict[int, float], tolerance: float) -> StressCap:
    return StressCap(
        tolerance=tolerance,
        losses=tuple(
            LevelLoss(level, loss, "2008 financial crisis", "In a year like 2008")
            for level, loss in sorted(losses.items())
        ),
        market_date=date(2023, 6, 9),
    )


def test_the_issue_s_example_is_lowered_from_6_to_4_and_says_why():
    # given level 6 lost 32% in 2008 and level 5 21%, more than the 20% the client can bear;
    # level 4 lost 18%
    table = _table({1: 0.02, 2: 0.05, 3: 0.11, 4: 0.18, 5: 0.21, 6: 0.32, 7: 0.36}, 0.20)

    # when
    decision = decide(willingness_level=6, capacity_level=8, stress=table)

    # then
    assert decision.level == 4
    assert decision.reason == STRESS_CAP_LOWERS_LEVEL
    assert decision.uncapped_level == 6
    assert decision.decided_by == "rules"
    assert (
        "It was lowered from 6 to 4: in a year like 2008 the level 6 portfolio could have "
        "fallen about 32%, more than the 20% you said you could bear; at level 4 it was about "
        "18%." in decision.client_explanation
    )
    assert "lowered from 6 to 4, the highest level within it" in decision.advisor_explanation
    assert decision.advisor_explanation.startswith("Level 4 of 10, decided by the stress cap.")
    assert decision_from_details(json.loads(json.dumps(decision.as_details()))) == decision


def test_answers_accepting_no_loss_floor_at_the_lowest_level_and_say_an_advisor_will_look():
    # given every level lost something, and the client accepts no loss at all
    table = _table({level: 0.01 * level for level in LEVELS}, 0.0)

    decision = decide(willingness_level=3, capacity_level=7, stress=table)

    assert decision.level == MIN_LEVEL
    assert decision.reason == STRESS_FLOOR
    assert "our most cautious level" in decision.client_explanation
    assert "Your advisor will go through this with you." in decision.client_explanation
    assert "floored at level 1" in decision.advisor_explanation


def test_a_level_within_the_tolerance_is_left_alone_and_rounding_follows_the_shown_percent():
    # 20.4% shows as 20%, within a 20% tolerance; 20.5% shows as 21%, over it
    within = decide(willingness_level=5, capacity_level=5, stress=_table({5: 0.204}, 0.20))
    over = decide(willingness_level=5, capacity_level=5, stress=_table({4: 0.1, 5: 0.205}, 0.20))

    assert within.level == 5
    assert not within.stress_capped
    assert "no effect" in within.advisor_explanation
    assert over.level == 4
    assert (loss_percent(0.204), loss_percent(0.205)) == (20, 21)


def test_without_a_figure_for_the_level_there_is_no_evidence_and_nothing_changes():
    decision = decide(willingness_level=7, capacity_level=7, stress=_table({1: 0.3}, 0.05))

    assert decision.level == 7
    assert not decision.stress_capped


def test_levels_without_a_figure_are_skipped_on_the_way_down():
    assert stress_capped_level(6, _table({3: 0.1, 5: 0.25, 6: 0.3}, 0.2)) == (
        3,
        STRESS_CAP_LOWERS_LEVEL,
    )


def test_an_override_above_the_cap_is_allowed_recorded_and_explained():
    table = _table({4: 0.18, 5: 0.21, 6: 0.32}, 0.20)
    override = Override(
        level=6, reason="Discussed 2008 with the client", set_by="Alex M.", flags_reviewed=True
    )

    decision = decide(willingness_level=6, capacity_level=8, stress=table, override=override)

    assert decision.level == 6
    assert OVERRIDE_ABOVE_STRESS_CAP in decision.reasons
    assert "That is above level 4, the highest whose worst stress scenario" in (
        decision.client_explanation
    )
    assert "Above the stress cap." in decision.advisor_explanation


@settings(max_examples=400, deadline=None)
@given(
    answers=st.fixed_dictionaries(
        {q.key: st.sampled_from([c.value for c in q.choices]) for q in QS.questions}
    ),
    model=st.none() | st.integers(1, 10),
    losses=st.lists(st.floats(0.0, 0.6), min_size=10, max_size=10),
    tolerance=st.floats(0.0, 0.4),
)
def test_the_chosen_level_is_within_the_tolerance_or_the_lowest_and_never_above_the_uncapped(
    answers, model, losses, tolerance
):
    # given random answers, a random model level and a random worst-loss table (not monotone)
    score = risk.answers_score(QS, answers)
    table = _table(dict(zip(LEVELS, losses, strict=True)), tolerance)
    inputs = {
        "willingness_level": score.willingness_level,
        "capacity_level": score.capacity_level,
        "model_level": model,
        "flags": score.flags,
    }

    # when
    uncapped = decide(**inputs)
    capped = decide(**inputs, stress=table)

    # then
    chosen = table.loss_at(capped.level)
    assert chosen is not None
    assert loss_within(chosen.loss, tolerance) or capped.level == MIN_LEVEL
    assert capped.level <= uncapped.level
    # the highest such level: every level between it and the uncapped one is over
    for level in range(capped.level + 1, uncapped.level + 1):
        item = table.loss_at(level)
        assert item is not None
        assert not loss_within(item.loss, tolerance)
    if capped.level < uncapped.level:
        assert capped.stress_capped
        assert CLIENT_REASON_TEXT[capped.reason] in capped.client_explanation
        assert f"lowered from {uncapped.level} to {capped.level}" in capped.client_explanation
    else:
        # not lowered: flagged only where it cannot be, the lowest level itself over the
        # tolerance (STRESS_FLOOR, "already the most cautious level, yet …")
        floor_over = capped.level == MIN_LEVEL and not loss_within(chosen.loss, tolerance)
        assert capped.stress_capped == floor_over
        if floor_over:
            assert capped.reason == STRESS_FLOOR
            assert "already" in capped.client_explanation
    assert capped.flags == uncapped.flags
    assert decision_from_details(json.loads(json.dumps(capped.as_details()))) == capped


def test_a_client_already_at_the_lowest_level_over_the_tolerance_is_flagged_not_lowered():
    # given level 1 (the client's level already) lost 50%, more than the 0% they can bear
    table = _table({level: 0.5 if level == MIN_LEVEL else 0.0 for level in LEVELS}, 0.0)

    # when
    d = decide(willingness_level=1, capacity_level=3, model_level=None, flags=(), stress=table)

    # then: nothing lower to go to, so the level stays and the advisor is told
    assert (d.level, d.uncapped_level) == (MIN_LEVEL, MIN_LEVEL)
    assert d.stress_capped
    assert d.reason == STRESS_FLOOR
    assert "already" in d.client_explanation


@pytest.mark.parametrize(("loss", "shown"), [(0.0, 0), (0.0049, 0), (0.005, 1), (0.325, 33)])
def test_losses_are_compared_as_the_whole_percents_a_client_is_shown(loss, shown):
    assert loss_percent(loss) == shown
