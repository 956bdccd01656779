"""Assignment 3: fans, Xavier and He, activations through 50 layers, the symmetry problem.

Each graded question of the notebook is declared here once; the right answers (and the ranges
the measured activations must fall in) live in the source assignment's hidden tests.

>>> fans.check(lambda shape: (shape[1], shape[0])).hint
'Each output sums over a whole k x k window of every input channel: multiply by the kernel area.'
"""
from __future__ import annotations

import math
from typing import Any

from ..checks import mode
from ..checks.compare import close
from ..checks.outcome import PartOutcome
from ..checks.parse import Reading, read_number, read_size
from ..checks.guard import uses_helpers
from ..checks.plain import to_plain
from ..checks.probe import call, lookup
from ..checks.question import (ChoicePart, Example, FunctionPart, HiddenPart, NumberListPart, Part, Question, Rule,
                               uses_message)

ASSIGNMENT = "a3_initialization"


def progress() -> mode.Progress:
    """Every question of this assignment: the last check's state and how often it was checked."""
    return mode.progress(ASSIGNMENT)


# --- 1. Fans ----------------------------------------------------------------------------------------------
def _fans_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    c_out, c_in, kh, kw = (int(v) for v in inputs[0])
    area = kh * kw
    got = tuple(reading.value)
    if got == (c_in, c_out) and area > 1:
        return "Each output sums over a whole k x k window of every input channel: multiply by the kernel area."
    if got == (c_out * area, c_in * area) and c_in != c_out:
        return "fan_in and fan_out are swapped: fan_in counts the inputs of one output value (c_in * k * k)."
    if got == (c_in * area, c_in * area) and c_in != c_out:
        return "fan_out uses the output channels: c_out * k * k."
    return None


fans = Question(
    ASSIGNMENT, "test_fans", "fans", "Fans of a convolution weight",
    prompt="fans(shape) returns (fan_in, fan_out) of a convolution weight of shape (c_out, c_in, k, k).",
    parts=[FunctionPart(
        "fans", 2, examples=[Example(((8, 4, 5, 5),), (100, 200), "fans((8, 4, 5, 5))")],
        reader=lambda v: read_size(v, 2, "(fan_in, fan_out)"), compare=lambda a, b: tuple(a) == tuple(b),
        key_reader=tuple, diagnose=_fans_diagnosis, hidden_about="other weight shapes")],
    hints=["One output value sums over c_in * k * k inputs.", "One input value feeds c_out * k * k outputs."])


# --- 2. Xavier and He ------------------------------------------------------------------------------------------
def _std_reader(value: Any) -> Reading:
    return read_number(value, "a standard deviation")


def _same_std(got: Any, want: Any) -> bool:
    return close(got, want, rel=1e-6)


def _xavier_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    fan_in, fan_out = inputs
    got = reading.value
    if close(got, 2 / (fan_in + fan_out), rel=1e-6):
        return "That is the variance; the standard deviation is its square root."
    if close(got, math.sqrt(1 / (fan_in + fan_out)), rel=1e-6):
        return "Xavier's variance has a 2 on top: 2 / (fan_in + fan_out)."
    return None


def _he_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    (fan_in,) = inputs
    got = reading.value
    if close(got, 2 / fan_in, rel=1e-6):
        return "That is the variance; the standard deviation is its square root."
    if close(got, math.sqrt(1 / fan_in), rel=1e-6):
        return "He's variance is 2 / fan_in: the 2 makes up for ReLU zeroing half of the values."
    if close(got, 1 / math.sqrt(3 * fan_in), rel=1e-6):
        return "That is PyTorch's default (a uniform bound of 1/sqrt(fan_in)); He's is larger."
    return None


stds = Question(
    ASSIGNMENT, "test_stds", "stds", "The standard deviations of Xavier and He",
    prompt="xavier_std(fan_in, fan_out) and he_std(fan_in): the standard deviations of Xavier's and He's normal initialization.",
    parts=[FunctionPart("xavier_std", 1, examples=[Example((100, 200), math.sqrt(2 / 300), "xavier_std(100, 200)")],
                        reader=_std_reader, compare=_same_std, diagnose=_xavier_diagnosis, hidden_about="other fans"),
           FunctionPart("he_std", 1, examples=[Example((100,), math.sqrt(2 / 100), "he_std(100)")],
                        reader=_std_reader, compare=_same_std, diagnose=_he_diagnosis, hidden_about="other fans")],
    hints=["The formulas give the variance; the standard deviation is its square root (math.sqrt)."])


# --- initializing a weight in place -------------------------------------------------------------------------------
def _fill_stats(weight: Any, result: Any) -> dict:
    """What filling did to ``weight`` (computed inside the probe's window): changed, returned, mean, std."""
    import torch

    with torch._C.DisableTorchFunction():
        data = torch.Tensor.detach(weight).double()
        return {"returned": "none" if result is None else "weight" if result is weight else "other",
                "changed": bool(data.abs().sum() > 0), "mean": float(data.mean()), "std": float(data.std()),
                "finite": bool(torch.isfinite(data).all())}


def _fill(function: Any, shape: list[int], seed: int) -> dict:
    import torch

    torch.manual_seed(seed)
    weight = torch.zeros(*shape)
    return _fill_stats(weight, function(weight))


class FillPart(Part):
    """A function that fills a conv weight in place with zero-mean normal values of a given std and returns it.

    Cases are ``[[shape, seed], expected std]``; the filled weight's std must be within 8 % of it.
    """

    kind = "function"
    plain_in_practice = True

    def __init__(self, name: str, points: float, example: tuple, example_std: float, shown: str) -> None:
        super().__init__(name, points)
        self.example, self.example_std, self.shown = example, example_std, shown

    def _cases(self, hidden: HiddenPart | None) -> list[tuple[str, Any, float]]:
        out = [("example", self.example, self.example_std)]
        for case in (hidden.cases if hidden is not None else []):
            out.append(("hidden", case.args, case.value))
        return out

    def requests(self, hidden: HiddenPart | None) -> list[dict]:
        return [{"op": "fill", "part": self.name, "name": self.name, "case": kind, "shape": list(args[0]), "seed": int(args[1])}
                for kind, args, _ in self._cases(hidden)]

    def probe(self, namespace: dict, request: dict, assignment: str) -> dict:
        found, name, function = lookup(namespace, [request["name"]])
        if not found:
            return {"found": False}
        if not callable(function):
            return {"found": True, "callable": False, "value": to_plain(function)}
        data = call(_fill, (function, request["shape"], request["seed"]), assignment=assignment, timeout=20,
                    convert=lambda v: v)
        data["helpers"] = sorted(set(data["helpers"]) | set(uses_helpers(function, assignment)))
        data["found"] = True
        return data

    def _problem(self, result: dict, expected: float) -> tuple[str | None, str]:
        if result.get("timeout"):
            return "did not finish in time", ""
        if not result.get("ok"):
            return f"stopped with an error ({result.get('error')})", "Try it yourself on torch.zeros(8, 4, 3, 3)."
        stats = result["result"]
        if not stats["changed"] and stats["returned"] == "none":
            return "not attempted", ""
        if not stats["changed"]:
            return "does not fill the tensor it is given", "Fill `weight` itself, in place: weight.normal_(0, std) inside torch.no_grad()."
        if not stats["finite"]:
            return "fills it with values that are not finite", ""
        if stats["returned"] == "none":
            return "fills the weight but returns None", "End it with `return weight`."
        ratio = stats["std"] / expected
        if abs(ratio - 1) > 0.08 or abs(stats["mean"]) > 0.1 * expected:
            hint = ("The values are not zero-mean." if abs(stats["mean"]) > 0.1 * expected else
                    "Use your fans of weight.shape and your std functions above, then weight.normal_(0, std).")
            return f"gives weights of std {stats['std']:.4g} (the formula's std times {ratio:.2f})", hint
        return None, ""

    def _combine(self, results: list[dict], hidden: HiddenPart | None, graded: bool) -> PartOutcome:
        cases = self._cases(hidden)
        first = results[0] if results else {}
        if not first.get("found"):
            return PartOutcome(self.name, "not attempted", 0.0, self.points, f"{self.name} is not defined yet.")
        if first.get("callable") is False:
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"{self.name} is not a function.")
        used = sorted({h for r in results for h in r.get("helpers", [])})
        if used:
            return PartOutcome(self.name, "wrong", 0.0, self.points, uses_message(self.name, used),
                               "Write the formula yourself and fill the weight with weight.normal_(0, std).")
        problem, hint = self._problem(first, cases[0][2])
        if problem == "not attempted":
            return PartOutcome(self.name, "not attempted", 0.0, self.points, f"{self.name}: not attempted yet.")
        if problem:
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"{self.shown} {problem}.", hint)
        if not graded:
            return PartOutcome(self.name, "recorded", 0.0, self.points,
                               f"{self.name} fills {self.shown.split(' on ')[-1]} with the right spread; hidden cases "
                               "try other shapes when you hand in.")
        failing = [self._problem(r, c[2]) for r, c in zip(results[1:], cases[1:])]
        failing = [f for f in failing if f[0]]
        if failing:
            return PartOutcome(self.name, "wrong", 0.0, self.points,
                               f"{self.name} is right on the example but fails {len(failing)} of {len(cases) - 1} hidden cases "
                               "(other weight shapes).", "Fill the tensor you are given, in place, for any shape.")
        return PartOutcome(self.name, "correct", self.points, self.points, f"{self.name}: right on the example and on "
                           f"{len(cases) - 1} hidden cases.")

    def review(self, results: list[dict]) -> PartOutcome:
        return self._combine(results, None, graded=False)

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        return self._combine(results, hidden, graded=True)

    def practice_data(self, hidden: HiddenPart, salt: str, question: str) -> dict:
        return {"notes": hidden.notes, "cases": [[c.args, c.value] for c in hidden.cases], "plain_cases": True}


init_functions = Question(
    ASSIGNMENT, "test_init_functions", "init_functions", "Filling a weight with Xavier and He",
    prompt="init_xavier_(weight) and init_he_(weight) fill a conv weight in place with zero-mean normal values of "
           "Xavier's and He's standard deviation, and return it.",
    parts=[FillPart("init_xavier_", 1.5, ((128, 128, 3, 3), 0), math.sqrt(2 / 2304), "init_xavier_ on a 128x128x3x3 weight"),
           FillPart("init_he_", 1.5, ((128, 128, 3, 3), 0), math.sqrt(2 / 1152), "init_he_ on a 128x128x3x3 weight")],
    hints=["fan_in, fan_out = fans(weight.shape), then the std from your functions above.",
           "with torch.no_grad(): return weight.normal_(0.0, std)"])


# --- 3. Activations through 50 layers ---------------------------------------------------------------------------
class RangePart(NumberListPart):
    """A list of 50 activation stds; the key is the range its last value must fall in."""

    plain_in_practice = True
    what = "a list of numbers"

    def read(self, value: Any) -> Reading:
        from ..checks.parse import read_numbers

        return read_numbers(value, self.label)

    def key_value(self, key: Any) -> Any:
        return tuple(key)

    def same(self, answer: Any, key: Any) -> bool:
        low, high = key
        return len(answer) == self.length and low <= answer[-1] <= high

    def explain(self, reading: Reading, key: Any) -> str | None:
        low, high = key
        if len(reading.value) == self.length and reading.value[-1] > high:
            return "The activations are larger at layer 50 than this scheme gives: is every layer's weight initialized with it?"
        if len(reading.value) == self.length and reading.value[-1] < low:
            return "The activations shrink more than this scheme gives: check the init function and that the bias is zero."
        return None

    def recorded(self, reading: Reading) -> str:
        return f"{self.label} is recorded ({len(reading.value)} values, the last {reading.value[-1]:.3g})"


_STD_RULES = [Rule(lambda v: any(x < 0 for x in v), "A standard deviation is never negative.")]
activation_stds = Question(
    ASSIGNMENT, "test_activation_stds", "activation_stds", "Activations through 50 layers",
    prompt="stds_default, stds_xavier and stds_he: the activations' std after each of 50 conv + ReLU layers, with "
           "PyTorch's default, Xavier's and He's initialization.",
    parts=[RangePart(name, 1, length=50, rules=_STD_RULES) for name in ("stds_default", "stds_xavier", "stds_he")],
    hints=["Build each layer, zero its bias, initialize its weight, then x = torch.relu(conv(x)).",
           "Append float(x.std()) after every layer: 50 values."])


# --- choices ------------------------------------------------------------------------------------------------------
best_for_relu = Question(
    ASSIGNMENT, "test_best_for_relu", "best_for_relu", "The scheme that keeps ReLU activations at scale",
    prompt="best_for_relu: which scheme keeps ReLU activations at the same scale through depth?",
    parts=[ChoicePart("best_for_relu", 1, {"a": "PyTorch's default", "b": "Xavier", "c": "He", "d": "normal with std 0.01"})],
    hints=["Look at the last value of each of your three lists."])

symmetry = Question(
    ASSIGNMENT, "test_symmetry", "symmetry", "The symmetry problem",
    prompt="symmetry: what happens in training when every weight of a layer starts at the same value?",
    parts=[ChoicePart("symmetry", 1, {
        "a": "they soon become different because every image is different",
        "b": "they stay equal to each other, because every kernel receives the same gradient",
        "c": "training becomes faster because the start is balanced",
        "d": "the loss becomes NaN at once"})],
    hints=["Two kernels with the same weights see the same images: what are their outputs, and their gradients?"])
