"""The one suitability policy (advisor.suitability): pure, so checked over every input.

Every answer combination of the current questionnaire is covered: willingness and capacity
are scored on separate questions, and the policy sees only the two levels and the rules' flags,
so enumerating each willingness combination against each capacity level reaches every input the
policy can get from the questionnaire (5,242,880 combinations in ~10,000 scorings).
"""

import functools
import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor import risk, suitability
from advisor.suitability import (
    CLIENT_REASON_TEXT,
    Decision,
    Override,
    OverrideNotAllowed,
    decide,
    decision_from_details,
)

from .answers import answers_for, dimension_answers, examples

LEVELS = range(1, 11)
MODEL_LEVELS = (None, *LEVELS)
QS = risk.question_set_get()


def _override(level: int, *, approved: bool) -> Override:
    return Override(
        level=level,
        reason="Met the client in person",
        set_by="Alex M.",
        set_on=date(2026, 3, 3),
        approved_by="Sam K." if approved else None,
        approved_on=date(2026, 3, 4) if approved else None,
        flags_reviewed=True,
    )


OVERRIDES = (None, *(_override(level, approved=a) for level in LEVELS for a in (False, True)))


@functools.cache
def _scores() -> tuple[risk.RiskScore, ...]:
    """One score per distinct input the policy gets from the questionnaire: (willingness level,
    capacity level, rules' flags), from every willingness combination × every capacity level."""
    distinct: dict[tuple, risk.RiskScore] = {}
    for willingness in dimension_answers("willingness"):
        for capacity in examples("capacity").values():
            score = risk.answers_score(QS, {**willingness, **capacity})
            key = (score.willingness_level, score.capacity_level, score.flags)
            distinct.setdefault(key, score)
    return tuple(distinct.values())


def _check(
    decision: Decision, *, willingness: int, capacity: int, model: int | None, override
) -> None:
    rules_level = min(willingness, capacity)
    without_model = decide(willingness_level=willingness, capacity_level=capacity)
    # the level: within the client's willingness and capacity, unless an advisor set it
    if override is None:
        assert decision.level <= willingness
        assert decision.level <= capacity
        assert decision.level <= without_model.level  # the model never raises it
        if model is not None and model < rules_level:
            assert decision.level == (rules_level + model) // 2
            assert decision.decided_by == "model"
        else:
            assert decision.level == rules_level
            assert decision.decided_by == "rules"
    else:
        assert decision.level == override.level
        assert decision.decided_by == "advisor"
        assert decision.level <= capacity or override.approved_by  # above: four-eyes only
    assert 1 <= decision.level <= 10
    # the texts: the same level and the deciding reason; the client's never the advisor's words
    client, advisor = decision.client_explanation, decision.advisor_explanation
    assert client.startswith(f"Your risk level is {decision.level} of 10, set by ")
    assert CLIENT_REASON_TEXT[decision.reason] in client
    assert advisor.startswith(f"Level {decision.level} of 10, decided by ")
    assert "advisor's review" not in client
    for flag in decision.flags:
        assert flag.message not in client
    for flag in decision.client_flags:
        assert flag.message in suitability.CLIENT_FLAG_TEXT.values()
    if override is not None:
        assert f"your advisor {override.set_by}" in client
        assert override.reason in client
    # the record reads back as it was written
    assert decision_from_details(json.loads(json.dumps(decision.as_details()))) == decision


def test_every_answer_combination_reaches_every_pair_of_levels():
    willingness = {
        risk.answers_score(QS, {**a, **examples("capacity")[1]}).willingness_level
        for a in dimension_answers("willingness")
    }
    capacity = {
        risk.answers_score(QS, {**examples("willingness")[1], **a}).capacity_level
        for a in dimension_answers("capacity")
    }

    assert willingness == capacity == set(LEVELS)
    assert {(s.willingness_level, s.capacity_level) for s in _scores()} == {
        (w, c) for w in LEVELS for c in LEVELS
    }


def test_the_policy_holds_for_every_answer_combination_model_level_and_override():
    checked = refused = 0
    for score in _scores():
        assert score.risk_level == score.decision.level  # scoring is the policy
        for model in MODEL_LEVELS:
            for override in OVERRIDES:
                inputs = {
                    "willingness_level": score.willingness_level,
                    "capacity_level": score.capacity_level,
                    "model_level": model,
                    "override": override,
                    "flags": score.flags,
                }
                if override and override.level > score.capacity_level and not override.approved_by:
                    with pytest.raises(OverrideNotAllowed):
                        decide(**inputs)
                    refused += 1
                    continue
                _check(
                    decide(**inputs),
                    willingness=score.willingness_level,
                    capacity=score.capacity_level,
                    model=model,
                    override=override,
                )
                checked += 1

    assert checked > 50_000
    assert refused > 5_000


@settings(max_examples=300, deadline=None)
@given(
    answers=st.fixed_dictionaries(
        {q.key: st.sampled_from([c.value for c in q.choices]) for q in QS.questions}
    ),
    model=st.sampled_from(MODEL_LEVELS),
    override_level=st.none() | st.integers(1, 10),
    approved=st.booleans(),
)
def test_any_answers_model_and_override_give_a_level_its_explanation_states(
    answers, model, override_level, approved
):
    score = risk.answers_score(QS, answers)
    override = None if override_level is None else _override(override_level, approved=approved)
    try:
        decision = decide(
            willingness_level=score.willingness_level,
            capacity_level=score.capacity_level,
            model_level=model,
            override=override,
            flags=score.flags,
        )
    except OverrideNotAllowed:
        assert override is not None
        assert override.level > score.capacity_level
        assert not override.approved_by
        return

    _check(
        decision,
        willingness=score.willingness_level,
        capacity=score.capacity_level,
        model=model,
        override=override,
    )


@pytest.mark.parametrize(
    ("willingness", "capacity", "model", "level", "reason"),
    [
        (5, 10, 9, 5, "willingness_below_capacity"),  # the old rule gave round(7) = 7
        (9, 6, 8, 6, "capacity_below_willingness"),
        (7, 10, 4, 5, "model_lowers_level"),  # 5.5 rounds toward caution, not to even 6
        (5, 10, 2, 3, "model_lowers_level"),  # 3.5 → 3 (round() gave 4)
        (6, 6, 5, 5, "model_lowers_level"),  # one level below: the model's level
        (4, 4, 1, 2, "model_lowers_level"),
        (1, 10, 1, 1, "willingness_below_capacity"),
    ],
)
def test_a_lower_model_pulls_the_level_halfway_down_and_a_higher_one_does_nothing(
    willingness, capacity, model, level, reason
):
    decision = decide(willingness_level=willingness, capacity_level=capacity, model_level=model)

    assert (decision.level, decision.reason) == (level, reason)


def test_a_model_three_levels_from_the_stated_willingness_is_flagged_for_the_advisor():
    near = decide(willingness_level=4, capacity_level=10, model_level=6)
    far = decide(willingness_level=4, capacity_level=10, model_level=7)

    assert near.flags == ()
    assert [f.code for f in far.flags] == ["model_vs_stated"]
    assert "worth an advisor's review" in far.flags[0].message  # for the advisor
    assert far.level == 4  # and it does not raise the level
    assert "advisor's review" not in far.client_explanation
    assert [f.message for f in far.client_flags] == [
        suitability.CLIENT_FLAG_TEXT["model_vs_stated"]
    ]


def test_an_override_above_capacity_needs_an_approval_and_is_said_so():
    with pytest.raises(OverrideNotAllowed):
        decide(willingness_level=9, capacity_level=4, override=_override(6, approved=False))

    decision = decide(willingness_level=9, capacity_level=4, override=_override(6, approved=True))

    assert decision.reasons[:2] == ("advisor_override", "override_above_capacity_approved")
    assert "a second person in compliance checked and approved it on 4 March 2026" in (
        decision.client_explanation
    )
    assert "approved by Sam K." in decision.advisor_explanation


def test_the_client_is_told_who_set_the_level_when_and_why():
    rules = decide(willingness_level=8, capacity_level=4, decided_on=date(2026, 3, 3))
    lowered = decide(willingness_level=8, capacity_level=9, model_level=2)
    advised = decide(
        willingness_level=4,
        capacity_level=8,
        override=_override(6, approved=False),
        decided_on=date(2026, 3, 3),
    )

    assert rules.client_explanation.startswith(
        "Your risk level is 4 of 10, set by your questionnaire answers on 3 March 2026."
    )
    assert "your capacity to bear losses is the lower, so it caps the level" in (
        rules.client_explanation
    )
    assert "set by our risk model" in lowered.client_explanation
    assert "puts you at level 2" in lowered.client_explanation
    assert advised.client_explanation.startswith(
        "Your risk level is 6 of 10, set by your advisor Alex M. on 3 March 2026, who gave this "
        "reason: “Met the client in person”."
    )
    assert "above level 4, what your answers about your willingness" in advised.client_explanation


@pytest.mark.parametrize("bad", [0, 11, -1, True, 5.5, "5", None])
def test_levels_outside_1_to_10_are_refused(bad):
    with pytest.raises(ValueError, match="willingness_level"):
        decide(willingness_level=bad, capacity_level=5)


def test_an_override_needs_a_reason():
    with pytest.raises(OverrideNotAllowed, match="reason"):
        decide(
            willingness_level=5,
            capacity_level=5,
            override=Override(level=3, reason="  ", set_by="Alex M."),
        )


def test_answers_for_scores_the_levels_asked_for():
    score = risk.answers_score(QS, answers_for(willingness=7, capacity=3))

    assert (score.willingness_level, score.capacity_level, score.risk_level) == (7, 3, 3)
