"""The library part of `make demo` runs and prints the arithmetic, a summary and lint warnings."""
from __future__ import annotations

import subprocess
import sys


def test_demo_prints_summary_and_lint():
    out = subprocess.run(
        [sys.executable, "-m", "evalib.demo"], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    assert "15 convolutions; RF 15 needs 7 stacked 3x3 layers" in out
    assert "64x64, two convolutions before each pool: 8 convolutions" in out
    assert "Total params: 1,199,882" in out
    assert "[pool-window] 2" in out


def test_demo_shows_no_answer_of_the_assignments():
    out = subprocess.run([sys.executable, "-m", "evalib.demo"], capture_output=True, text=True, check=True, timeout=300).stdout
    for spoiler in ("199x199", "100x100", "LectureNet", "RF 21", "final-activation"):
        assert spoiler not in out, spoiler
