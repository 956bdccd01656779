"""The check machinery (evalib.checks): plain data, outcomes, readers, guards, probes and modes."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
import torch

import evalib
from evalib.checks import guard, mode, probe
from evalib.checks.outcome import OUTCOME_MIME, Outcome, PartOutcome
from evalib.checks.parse import read_bool, read_choice, read_name, read_number, read_size
from evalib.checks.plain import PlainObject, from_plain, to_plain


# --- plain data ----------------------------------------------------------------------------------
class Sneaky(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        raise AssertionError("the conversion called the subclass's hook")


class Liar:
    def __eq__(self, other):
        raise AssertionError("the conversion compared")

    def __repr__(self):
        raise AssertionError("the conversion called repr")


def test_plain_data_is_json_and_reads_only_base_classes():
    value = {"t": torch.arange(4.0).reshape(2, 2).as_subclass(Sneaky), "x": Liar(), "n": float("nan"),
             "s": {3, 1}, "nested": [(1, "a")], 7: True}
    plain = to_plain(value)
    back = from_plain(json.loads(json.dumps(plain, allow_nan=False)))
    assert torch.equal(back["t"], torch.tensor([[0.0, 1.0], [2.0, 3.0]]))
    assert isinstance(back["x"], PlainObject) and back["x"].type.endswith("Liar")
    assert back["s"] == {1, 3} and back["nested"] == [(1, "a")] and back[7] is True
    assert back["n"] != back["n"]  # nan


def test_plain_data_is_capped():
    from evalib.checks.plain import Limits

    plain = to_plain({"big": list(range(100)), "t": torch.zeros(1000)}, Limits(max_items=10, max_elements=50))
    back = from_plain(plain)
    assert len(back["big"]) == 10
    assert back["t"]["truncated"] and len(back["t"]["data"]) == 50


def test_a_faked_class_does_not_fool_the_conversion():
    class Pretender:
        @property
        def __class__(self):
            return int

    assert isinstance(Pretender(), int)
    assert isinstance(from_plain(to_plain(Pretender())), PlainObject)


# --- outcomes ------------------------------------------------------------------------------------
def test_outcome_round_trip_and_mime_bundle():
    outcome = Outcome("test_two_vs_one", "wrong", 0.75, 1.0, "two_vs_one: 0.75 of 1 points.", "9", "a hint",
                      (PartOutcome("weights_two_3x3", "wrong", 0.0, 0.25, "not right", "two layers", "9"),))
    assert Outcome.from_json(json.loads(json.dumps(outcome.to_json()))) == outcome
    bundle = outcome._repr_mimebundle_()
    assert set(bundle) == {OUTCOME_MIME, "text/plain", "text/html"}
    assert bundle[OUTCOME_MIME]["points"] == 0.75 and "two layers" in bundle["text/plain"]


def test_malformed_outcome_data_becomes_an_error_outcome():
    outcome = Outcome.from_json({"state": "brilliant", "points": "lots", "parts": "no"})
    assert outcome.state == "error" and outcome.points == 0.0 and outcome.parts == ()


# --- readers ---------------------------------------------------------------------------------------------
OPTIONS = {"a": "the learning rate is too high: lower it", "f": "a ReLU is applied to the class scores of the last convolution"}


@pytest.mark.parametrize("answer", ["f", "F", "(f)", "f)", "[F]", "f.", " 'f' ",
                                    "a ReLU is applied to the class scores of the last convolution",
                                    "A relu is applied to the class scores of the last convolution.",
                                    "(f) a ReLU is applied to the class scores of the last convolution"])
def test_a_choice_is_a_letter_or_the_exact_option(answer):
    assert read_choice(answer, OPTIONS).value == "f"


@pytest.mark.parametrize("answer", ["fully connected layers are missing at the end", "f because of the relu",
                                    "a or f", "g", 6, True, ["f"]])
def test_anything_else_is_not_one_of_the_options(answer):
    reading = read_choice(answer, OPTIONS)
    assert reading.value is None and reading.problem == "not one of the options"


def test_numbers_booleans_names_and_sizes():
    assert [read_number(x).value for x in (99, "99", 99.0, "99 times", "1,179,648", "1_179_648")] == [99, 99, 99, 99, 1179648, 1179648]
    assert read_number("3 or 4").problem == "more than one number" and read_number(True).problem == "not a number"
    assert [read_bool(x).value for x in (False, "no", "False", "YES")] == [False, False, False, True]
    assert read_name("sobel-y", ["sobel_x", "sobel_y"]).value == "sobel_y"
    assert read_size("28 x 28 x 1", 3).value == (28, 28, 1) and read_size("28x28", 3).problem == "not 3 numbers"


# --- guards ------------------------------------------------------------------------------------------------
def test_every_marked_helper_resolves_and_the_static_registry_is_the_runtime_one():
    static = guard.static_registry()
    assert static == guard.registered()
    assert len(static) >= 20
    for spec in static:
        owner, name, value = guard.resolve(spec)
        assert callable(guard._function_of(value)), spec
    for assignment in guard.ASSIGNMENTS:
        if assignment != "a5_buggy_code":
            assert guard.helper_names(assignment), assignment


def test_every_listed_torch_helper_resolves():
    for assignment, specs in guard.TORCH_HELPERS.items():
        for spec in specs:
            _, _, value = guard.resolve(spec)
            assert callable(value), spec


def test_switched_off_helpers_raise_and_are_put_back():
    with guard.helpers_off("a2_receptive_field") as used:
        with pytest.raises(guard.HelperNotAllowed):
            evalib.shrink_chain(9)
        with pytest.raises(guard.HelperNotAllowed):
            evalib.design.shapes.layers_for_rf(21)
        with pytest.raises(guard.HelperNotAllowed):
            evalib.Geometry().after(3)
    assert used == ["evalib.shrink_chain", "evalib.layers_for_rf", "evalib.Geometry.after"]
    assert evalib.shrink_chain(5) == [5, 3, 1]


def test_torch_convolutions_are_caught_through_aliases_and_layers():
    alias = torch.nn.functional.conv2d

    def sneaky(x, w, conv=torch.conv2d):  # a default argument bound before the guard
        return conv(x, w)

    x, w = torch.randn(1, 1, 5, 5), torch.randn(1, 1, 3, 3)
    for attempt in (lambda: alias(x, w), lambda: sneaky(x, w), lambda: torch.nn.Conv2d(1, 1, 3)(x)):
        with guard.helpers_off("a1_kernels_channels") as used:
            with pytest.raises(guard.HelperNotAllowed):
                attempt()
        assert used


def test_init_helpers_are_off_for_the_student_but_not_for_torch_itself():
    with guard.helpers_off("a3_initialization") as used:
        conv = torch.nn.Conv2d(4, 4, 3)  # PyTorch's own initialization still works
        with pytest.raises(guard.HelperNotAllowed):
            torch.nn.init.kaiming_normal_(conv.weight)
    assert used == ["torch.nn.init.kaiming_normal_"]


def test_a_value_computed_with_a_helper_is_traced_back():
    cells = ["import evalib", "plan = evalib.plan_to_one(100)", "steps = str(plan)", "answer = steps.count('MP')",
             "print(evalib.shrink_chain(7))", "mine = 7 - 2"]
    ns = {"evalib": evalib, "plan": evalib.plan_to_one(100), "steps": "", "answer": 3, "mine": 5}
    assert guard.computed_with("answer", "a2_receptive_field", cells, ns) == ["evalib.plan_to_one"]
    assert guard.computed_with("mine", "a2_receptive_field", cells, ns) == []
    assert guard.computed_with("answer", "a5_buggy_code", cells, ns) == []


def test_a_locked_copy_stubs_the_helpers_even_after_reload_or_exec(tmp_path):
    guard.locked_copy("a2_receptive_field", tmp_path)
    code = textwrap.dedent("""
        import importlib, sys
        sys.path.insert(0, sys.argv[1])
        import evalib, evalib.design.shapes as shapes
        from evalib.checks.guard import HelperNotAllowed
        assert evalib.__file__.startswith(sys.argv[1]), evalib.__file__
        def raises(f):
            try:
                f()
            except HelperNotAllowed:
                return True
            return False
        assert raises(lambda: evalib.shrink_chain(9))
        assert raises(lambda: evalib.Geometry().after(3))
        assert raises(lambda: importlib.reload(shapes).layers_for_rf(21))
        space = {"__name__": "evalib.design.shapes", "__package__": "evalib.design"}
        exec(open(shapes.__file__).read(), space)
        assert raises(lambda: space["plan_to_one"](100))
        assert evalib.conv_output_size.__doc__  # the docstring stays
        assert not raises(lambda: evalib.kernel("sobel_x")) and not raises(evalib.LectureNet)  # the rest works
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert result.stdout.strip() == "ok", result.stderr[-2000:]


def test_a_default_argument_does_not_hide_a_helper():
    import torch.nn.functional as F

    def by_default(x, w, b, conv=F.conv2d):
        return conv(x[None], w, b)[0]

    def one_step_away(x, w, b, impl=by_default):
        return impl(x, w, b)

    assert guard.uses_helpers(by_default, "a1_kernels_channels") == ["torch.nn.functional.conv2d"]
    assert guard.uses_helpers(one_step_away, "a1_kernels_channels") == ["torch.nn.functional.conv2d"]


def test_locked_operators_stay_off_whatever_the_code_of_the_process_does():
    """In a fresh process (the switch is for good): every way to a convolution raises, the rest of torch works,
    and nothing of the process can find the registrations to undo them."""
    code = textwrap.dedent("""
        import gc, threading, torch
        import torch.nn.functional as F
        from evalib.checks.guard import HelperNotAllowed, lock_operators
        locked = lock_operators("a1_kernels_channels")
        assert "aten::convolution" in locked and "aten::im2col" in locked and len(locked) > 20, locked
        x, w = torch.randn(1, 2, 5, 5), torch.randn(3, 2, 3, 3)
        aten = getattr(torch.ops.aten, "convo" + "lution").default
        def in_thread():
            out = []
            worker = threading.Thread(target=lambda: out.append(F.conv2d(x, w)))
            worker.start(); worker.join()
            return out[0]
        def dispatch_off():
            with torch._C._DisableTorchDispatch():
                return aten(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
        attempts = {
            "F.conv2d": lambda: F.conv2d(x, w), "nn.Conv2d": lambda: torch.nn.Conv2d(2, 3, 3)(x),
            "aten": lambda: aten(x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1),
            "decompose": lambda: torch.ops.aten.conv2d.default.decompose(x, w), "dispatch off": dispatch_off,
            "backward": lambda: torch.ops.aten.convolution_backward.default(torch.randn(1, 3, 3, 3), x, w, None, [1, 1],
                                                                            [0, 0], [1, 1], False, [0, 0], 1, [True, True, False]),
            "mkldnn": lambda: F.conv2d(x.to_mkldnn(), w.to_mkldnn()), "transpose": lambda: F.conv_transpose2d(x, w.transpose(0, 1)),
            "unfold": lambda: F.unfold(x, 3), "conv1d": lambda: F.conv1d(x[:, :, 0], w[:, :, 0]),
        }
        for name, attempt in attempts.items():
            try:
                attempt()
            except HelperNotAllowed:
                continue
            except RuntimeError as error:  # an operator that refuses these inputs before it computes anything
                assert "switched off" in str(error) or "mkldnn" in str(error).lower(), (name, error)
                continue
            raise AssertionError(f"{name} computed a convolution")
        try:
            in_thread()
        except IndexError:  # the thread's convolution raised there
            pass
        else:
            raise AssertionError("a thread computed a convolution")
        windows = x.unfold(2, 3, 1).unfold(3, 3, 1)  # the student's own convolution still works
        mine = torch.einsum("nchwij,ocij->nohw", windows, w)
        assert mine.shape == (1, 3, 3, 3) and (x @ x.transpose(-1, -2)).shape == (1, 2, 5, 5)
        assert not [o for o in gc.get_objects() if type(o).__name__ == "_DispatchModule"]
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.stdout.strip().endswith("ok"), result.stderr[-2000:]
    assert guard.lock_operators("a2_receptive_field") == []


# --- probes and modes ---------------------------------------------------------------------------------------
def test_probe_run_answers_with_json_only_and_never_raises():
    def conv_chain(size, kernel=3):
        import sys

        print("debug", file=sys.stderr)  # output of the student's own code is captured, not lost
        raise ValueError("size 31 is odd")

    requests = [{"op": "call", "part": "conv_chain", "name": "conv_chain", "case": "hidden", "index": 0,
                 "args": {"__tuple__": [31, 5]}}]
    out = probe.run({"conv_chain": conv_chain}, "test_conv_chain", requests, "a2_receptive_field")
    json.dumps(out, allow_nan=False)
    result = out["results"][0]
    assert result["error"] == "ValueError: size 31 is odd" and "debug" in result["output"]
    broken = probe.run({}, "test_conv_chain", [{"op": "call", "part": "nope"}], "a2_receptive_field")
    assert "error" in broken["results"][0]


def test_a_practice_key_switches_the_mode_and_progress_counts_checks():
    from evalib.exercises import a2

    entry = a2.n_convs_199.practice_entry({"key": 99}, salt="s4lt", solution="n_convs_199 = ...")
    blob = mode.encode_practice({"assignment": a2.ASSIGNMENT, "questions": {a2.n_convs_199.id: entry}})
    assert set(entry["parts"]["n_convs_199"]) == {"digest", "notes"} and "value" not in json.dumps(entry)
    assert mode.decode_practice(blob)["questions"][a2.n_convs_199.id] == json.loads(json.dumps(entry))
    before = mode.checks_of(a2.ASSIGNMENT, a2.n_convs_199.id)
    assert a2.n_convs_199.check(99).state == "recorded"
    mode.practice(a2.ASSIGNMENT, blob)
    try:
        assert a2.n_convs_199.check("99 times").state == "correct"
        assert a2.n_convs_199.check(100).state == "wrong"
        assert "n_convs_199 = ..." in repr(a2.n_convs_199.solution())
        assert "Hint 1 of" in repr(a2.n_convs_199.hint()) and "Hint 2 of" in repr(a2.n_convs_199.hint())
        table = str(a2.progress())
        assert "n_convs_199" in table and "practice release" in table
    finally:
        mode._PRACTICE.pop(a2.ASSIGNMENT)
    assert len(mode.checks_of(a2.ASSIGNMENT, a2.n_convs_199.id)) == len(before) + 3
    assert "not part of a graded release" in repr(a2.n_convs_199.solution())
    with pytest.raises(ValueError):
        mode.practice(a2.ASSIGNMENT, "not a key")


SUBMODULES = ["evalib.checks." + m for m in ("outcome", "plain", "parse", "compare", "guard", "mode", "question", "probe")] + \
    ["evalib.exercises." + m for m in ("a1_kernels_channels", "a2_receptive_field", "a3_initialization", "a4_mnist_one_epoch",
                                       "a5_buggy_code")]


@pytest.mark.parametrize("module_name", SUBMODULES)
def test_the_examples_in_the_docstrings_run(module_name):
    import doctest
    import importlib

    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_the_guards_and_the_course_list_the_same_assignments():
    from autograders.course import ASSIGNMENTS
    from evalib.checks.question import EXERCISE_MODULES

    assert tuple(guard.ASSIGNMENTS) == tuple(ASSIGNMENTS) == tuple(EXERCISE_MODULES)
