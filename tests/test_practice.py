"""A practice release's checks say right or wrong from the practice key alone (digests, case inputs, ranges):
they agree, question by question, with grading by the hidden key, for the solutions and for the samples'
typical wrong answers."""
from __future__ import annotations

import pytest

from autograders.release.feedback import practice_key
from autograders.samples.make_samples import WRONG
from evalib.checks import mode
from evalib.checks.question import questions_of
from exercise_support import handed_in, judge_all, run

CASES = [(a, "full") for a in WRONG] + [(a, v) for a, variants in WRONG.items() for v in variants]


def _practice_outcomes(assignment: str, namespace: dict) -> dict:
    """Every question checked as in a practice release of ``assignment``."""
    mode.practice(assignment, practice_key(assignment, salt="practice-test"))
    try:
        out = {}
        for q in questions_of(assignment):
            answers = {n: namespace[n] for n in (*q.names, *q.aliases) if n in namespace}
            out[q.id] = q.check(**answers)
        return out
    finally:
        mode._PRACTICE.pop(assignment, None)


@pytest.mark.parametrize("assignment, variant", CASES)
def test_practice_checks_agree_with_grading(assignment, variant):
    namespace = run(handed_in(assignment, None if variant == "full" else WRONG[assignment][variant]))
    graded = judge_all(assignment, namespace)
    practice = _practice_outcomes(assignment, dict(namespace))
    differ = {k: (practice[k].state, practice[k].points, o.state, o.points) for k, o in graded.items()
              if (practice[k].state, practice[k].points) != (o.state, o.points)}
    # The value guard traces answers through the notebook's cells, which a check called from here does not see.
    traced = {k for k, o in graded.items() if "computed with" in o.message or any("computed with" in p.message for p in o.parts)}
    assert {k: v for k, v in differ.items() if k not in traced} == {}
    if variant == "full":
        assert {o.state for o in practice.values()} == {"correct"}
