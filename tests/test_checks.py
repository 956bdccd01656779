"""Unit tests of the student-facing self-checks: pass on right answers, targeted hints on known wrong ones."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import evalib
from evalib import checks
from evalib.checks import CheckFailed, NotAttempted

CHAIN_199 = " > ".join(f"{n}x{n}" for n in range(199, 0, -2))


def fails(fn, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.mark.parametrize("text", [
    CHAIN_199,
    CHAIN_199.replace(" > ", ">").replace("x", "X"),
    CHAIN_199.replace(" > ", " --> "),
    CHAIN_199.replace(" > ", "\n"),
    "| size |\n|---|\n" + "\n".join(f"| {n} x {n} |" for n in range(199, 0, -2)),
    list(range(199, 0, -2)),
])
def test_chain_accepts_every_way_of_writing_it(text, capsys):
    checks.check_chain(text, 199)
    assert "correct" in capsys.readouterr().out


def test_chain_typo_gets_a_typo_hint():
    failure = fails(checks.check_chain, CHAIN_199.replace("187x187", "187 x 1897"), 199)
    assert "typo" in failure.hint and "187x1897" in failure.hint


def test_chain_hints_for_shrinking_by_one_stopping_early_and_padding():
    assert "shrink by 1" in fails(checks.check_chain, "7x7 > 6x6 > 5x5", 7).hint
    assert "stops at 3x3" in fails(checks.check_chain, "7x7 > 5x5 > 3x3", 7).hint
    assert "padding" in fails(checks.check_chain, "7x7 > 7x7 > 5x5", 7).hint
    assert "could not find" in fails(checks.check_chain, "no idea", 7).hint


def test_counting_sizes_instead_of_convolutions(capsys):
    checks.check_conv_count(99)
    assert "correct" in capsys.readouterr().out
    failure = fails(checks.check_conv_count, 100)
    assert "sizes" in failure.hint and failure.answer == "100"
    assert "99" not in str(failure)  # never the right answer


@pytest.mark.parametrize("placeholder", [None, ..., "", "YOUR ANSWER HERE"])
def test_not_attempted(placeholder):
    assert isinstance(fails(checks.check_conv_count, placeholder), NotAttempted)
    assert isinstance(fails(checks.check_number, placeholder, 3), NotAttempted)


def test_rf_shortcut_and_forgotten_jump_get_their_own_hints():
    right = [3, 5, 6, 10, 14, 16, 24, 32, 40]
    shortcut = [3, 5, 10, 12, 14, 28, 30, 32, 34]
    no_jump = [3, 5, 6, 8, 10, 11, 13, 15, 17]
    checks.check_rf_list(right, right, shortcut=shortcut, no_jump=no_jump)
    assert "shortcut" in fails(checks.check_rf_list, shortcut, right, shortcut=shortcut, no_jump=no_jump).hint
    assert "jump" in fails(checks.check_rf_list, no_jump, right, shortcut=shortcut, no_jump=no_jump).hint
    assert "jump" in fails(checks.check_rf_list, right[:-1] + [22], right, shortcut=shortcut).hint


def test_size_hints_for_padded_answer():
    checks.check_size("45x47", (45, 47))
    checks.check_size((45, 47), (45, 47))
    failure = fails(checks.check_size, "26x26", (28, 28), "conv1 output", wrong={(26, 26): "conv1 has padding 1"})
    assert "padding" in failure.hint


def test_pool_plan():
    checks.check_pool_plan("100x100 > 98x98 > 96x96 | MP > 48x48 > 46x46 > 44x44 | MP > 22x22 > 20x20 > 18x18 | MP > 9x9 > 7x7 > 5x5 > 3x3 > 1x1")
    assert "only 1" in fails(checks.check_pool_plan, "100 98 49").hint
    assert "odd" in fails(checks.check_pool_plan, "100 98 96 48 46 44 22 20 18 16 14 7 4").hint


def test_diagnosis_lower_the_learning_rate():
    options = {"a": "the learning rate is too high: lower it", "b": "remove torch.no_grad()", "f": "ReLU on the class scores"}
    checks.check_diagnosis("f", "f", options)
    assert "learning rate" in fails(checks.check_diagnosis, "a", "f", options).hint
    assert "no_grad" in fails(checks.check_diagnosis, "b", "f", options).hint


def _conv(x, w, b):
    return F.conv2d(x[None], w, b)[0]


def test_conv2d_function_hints():
    checks.check_conv2d_function(_conv)
    assert "bias" in fails(checks.check_conv2d_function, lambda x, w, b: F.conv2d(x[None], w)[0]).hint
    assert "flipped" in fails(checks.check_conv2d_function, lambda x, w, b: F.conv2d(x[None], w.flip(-1, -2), b)[0]).hint
    assert "summed" in fails(checks.check_conv2d_function, lambda x, w, b: torch.zeros(6, 4, 5)).hint
    assert isinstance(fails(checks.check_conv2d_function, lambda x, w, b: None), NotAttempted)
    crash = fails(checks.check_conv2d_function, lambda x, w, b: 1 / 0)
    assert "ZeroDivisionError" in crash.hint


def test_fixed_net_detects_the_final_relu():
    checks.check_fixed_net(lambda: _Fixed())
    assert "still has the bug" in str(fails(checks.check_fixed_net, lambda: _Wrapped(True)))
    assert "LectureNet" in str(fails(checks.check_fixed_net, lambda: evalib.LectureNet(final_relu=False)))


class _Wrapped(torch.nn.Module):
    def __init__(self, final_relu):
        super().__init__()
        self.inner = evalib.LectureNet(final_relu)
        # hide the class from the reuse check by copying its layers
        for name, module in list(self.inner.named_children()):
            self.add_module(name, module)
        del self.inner
        self.final_relu = final_relu

    forward = evalib.LectureNet.forward


class _Fixed(_Wrapped):
    def __init__(self):
        super().__init__(False)


def test_helpers_are_forbidden_inside_student_code():
    def student(n):
        return evalib.format_chain(evalib.shrink_chain(n))

    failure = fails(checks.call_without_helpers, student, 7, what="conv_chain")
    assert "shrink_chain" in failure.hint
    from evalib import conv_output_size as cos

    def sneaky(n):
        return cos(n, 3)

    assert "conv_output_size" in fails(checks.call_without_helpers, sneaky, 7).hint
    assert checks.call_without_helpers(lambda n: n - 2, 7) == 5
    assert evalib.conv_output_size(7, 3) == 5  # restored afterwards


def test_failure_renders_without_traceback():
    failure = fails(checks.check_conv_count, 100)
    lines = failure._render_traceback_()
    assert "Traceback" not in "\n".join(lines)
    assert lines[0].endswith("Not the right number of convolutions.\x1b[0m")


def test_checks_do_not_import_nbgrader():
    import subprocess
    import sys

    code = "import sys, evalib.checks; assert 'nbgrader' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
