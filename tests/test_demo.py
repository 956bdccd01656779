"""The library part of `make demo` runs and prints the lecture network's summary and lint."""
from __future__ import annotations

import subprocess
import sys


def test_demo_prints_summary_and_lint():
    out = subprocess.run(
        [sys.executable, "-m", "evalib.demo"], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    assert "99 convolutions" in out
    assert "Total params: 6,379,786" in out
    assert "[final-activation] relu_6" in out
    assert "After the one-line fix (no ReLU on conv7): 0 warnings" in out
