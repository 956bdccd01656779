"""Notebooks handed out before the questions moved to evalib.exercises still grade in full: screening puts
their locked and test cells back as released today, and their answers keep their names (a5's `normalise`,
which the question reads beside its new spelling `normalize`). tests/earlier/ holds such hand-ins."""
from __future__ import annotations

from pathlib import Path

import pytest

from autograders.intake.screen import screen
from exercise_support import judge_all, max_points, run, score

EARLIER = Path(__file__).resolve().parent / "earlier"


@pytest.mark.parametrize("name", ["a1_kernels_channels", "a2_receptive_field", "a5_buggy_code"])
def test_a_notebook_handed_out_before_grades_in_full(name):
    result = screen(EARLIER / f"{name}.ipynb", name)
    assert result.notebook is not None and not result.withhold, result.problems
    assert any("edited" in p and "restored" in p for p in result.problems)  # the old check cells
    cells = [(c.metadata.get("nbgrader", {}).get("grade_id"), c.source) for c in result.notebook.cells if c.cell_type == "code"]
    assert "checks." not in "".join(code for _, code in cells if _ and _.startswith("test_"))
    outcomes = judge_all(name, run(cells))
    assert {k: o.message for k, o in outcomes.items() if o.state != "correct"} == {}
    assert score(outcomes) == max_points(name)
    if name == "a5_buggy_code":
        assert any("normalise = " in code for _, code in cells)
