"""Answers to the current questionnaire, found by enumerating every combination of choices.

Willingness and capacity are scored on separate questions, so the pairs of levels reachable by
all answer combinations are exactly the pairs of the levels each dimension reaches on its own.
"""

import functools
import itertools
from collections.abc import Iterator

from advisor import risk


def dimension_answers(dimension: risk.Dimension) -> Iterator[dict[str, str]]:
    """Every combination of choices for one dimension's questions of the current version."""
    questions = [q for q in risk.question_set_get().questions if q.dimension == dimension]
    for combination in itertools.product(*(q.choices for q in questions)):
        yield {q.key: c.value for q, c in zip(questions, combination, strict=True)}


# Flags raised by comparing the two dimensions' levels rather than answers within one.
CROSS_DIMENSION_FLAGS = {"willingness_exceeds_capacity"}


@functools.cache
def examples(dimension: risk.Dimension) -> dict[int, dict[str, str]]:
    """Level → answers (this dimension only) that score it, consistent ones (no flag within the
    dimension) where the level has any; every level 1..10."""
    question_set = risk.question_set_get()
    other = "capacity" if dimension == "willingness" else "willingness"
    filler = next(dimension_answers(other))
    found: dict[int, dict[str, str]] = {}
    consistent: set[int] = set()
    for answers in dimension_answers(dimension):
        score = risk.answers_score(question_set, {**filler, **answers})
        level = getattr(score, f"{dimension}_level")
        clean = all(f.code in CROSS_DIMENSION_FLAGS for f in score.flags)
        if level not in found or (clean and level not in consistent):
            found[level] = answers
            if clean:
                consistent.add(level)
    return found


def answers_for(*, willingness: int, capacity: int) -> dict[str, str]:
    """Answers that score these willingness and capacity levels."""
    return {**examples("willingness")[willingness], **examples("capacity")[capacity]}
