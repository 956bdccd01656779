"""Assignment 5: reading the lecture's code, the diagnosis of its bug, and the fixed network.

Multiple choice takes a letter (any case, brackets allowed) or the exact text of an
option; anything else is "not one of the options". Before grading a check only
records the choice (it never says which option is right); the hints for each option
come with the key, in the source assignment's hidden tests.

>>> diagnosis.check("fully connected layers are missing at the end").message
'diagnosis cannot be read as one of the options (not one of the options).'
>>> normalize.check("A").message
"normalize is recorded: (a) the mean and standard deviation of MNIST's pixels; it is graded when you hand in."
"""
from __future__ import annotations

import math
import warnings
from typing import Any

from ..checks import mode
from ..checks.outcome import PartOutcome
from ..checks.parse import shorten
from ..checks.plain import from_plain, to_plain
from ..checks.probe import call, lookup
from ..checks.question import ChoicePart, HiddenPart, Part, Question

ASSIGNMENT = "a5_buggy_code"

#: The lecture network's parameters: FixedNet keeps every layer of Net.
LECTURE_PARAMETERS = 6_379_786


def progress() -> mode.Progress:
    """Every question of this assignment: the last check's state and how often it was checked."""
    return mode.progress(ASSIGNMENT)


def _choice(attr: str, grade_id: str, title: str, options: dict[str, str], aliases: tuple[str, ...] = (),
            points: float = 1) -> Question:
    return Question(ASSIGNMENT, grade_id, attr, title, prompt=title,
                    parts=[ChoicePart(attr, points, options, aliases=aliases)],
                    hints=["Read each option and ask what the code would do if it were true.",
                           "Run a small experiment in a cell of your own to test your choice."])


# --- 1. Reading the code ----------------------------------------------------------------------------------
padding_1 = _choice("padding_1", "test_padding_1", "What padding=1 does to a 28x28 input", {
    "a": "adds one pixel in total",
    "b": "adds a pixel on every side, so 2 per axis (30x30 before the kernel)",
    "c": "doubles the size",
    "d": "nothing for a 3x3 kernel"})
minus_one = _choice("minus_one", "test_minus_one", "The -1 in a summary's output shape [-1, 32, 28, 28]", {
    "a": "an error marker",
    "b": "the channel axis",
    "c": "the batch dimension, whatever the batch size is",
    "d": "padding"})
normalize = _choice("normalize", "test_normalise", "What 0.1307 and 0.3081 are in transforms.Normalize", {
    "a": "the mean and standard deviation of MNIST's pixels",
    "b": "the learning rate and momentum",
    "c": "the min and max pixel",
    "d": "random constants"}, aliases=("normalise",))  # "normalise": the answer's name in notebooks handed out before
no_grad = _choice("no_grad", "test_no_grad", "What `with torch.no_grad():` is for in the test loop", {
    "a": "it freezes the weights for ever",
    "b": "it evaluates without recording gradients, saving memory and time",
    "c": "it resets the gradients",
    "d": "it turns off dropout"})
tensor = _choice("tensor", "test_tensor", "What a tensor is", {
    "a": "a matrix",
    "b": "a GPU",
    "c": "an n-dimensional array (a scalar, vector, matrix, ...)",
    "d": "a layer"})

# --- 2. The diagnosis ------------------------------------------------------------------------------------------
#: The options of the diagnosis, as the notebook's DIAGNOSES lists them.
DIAGNOSES = {
    "a": "the learning rate is too high: lower it",
    "b": "torch.no_grad() in the test loop stops learning: remove it",
    "c": "the network needs fully connected layers at the end",
    "d": "the receptive field of the last layer is larger than the image",
    "e": "log_softmax is called without dim",
    "f": "a ReLU is applied to the class scores of the last convolution",
}
diagnosis = _choice("diagnosis", "test_diagnosis", "The diagnosis of the network stuck near 29 %", DIAGNOSES, points=3)


# --- 4. The fixed network -----------------------------------------------------------------------------------------
#: What the probe gives the last convolution: zero weights and these biases, so that the
#: values reaching log-softmax can be compared with what the key says they must be.
PROBE_BIAS = tuple(float(v) for v in range(-5, 5))


def _reused_model(model: Any) -> str | None:
    import torch.nn as nn

    from ..mnist import models

    classes = tuple(getattr(models, name) for name in models.__all__)
    for module in nn.Module.modules(model):
        for cls in classes:
            if isinstance(module, cls):
                return cls.__name__
    return None


def _probe_fixed_net(cls: Any, seed: int, batch: int) -> dict:
    """Build the student's network, give its last convolution zero weights and known biases, run a batch,
    and record what reaches log-softmax (its input and dim) and what comes out."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    model = cls()
    if not isinstance(model, nn.Module):
        return {"module": False, "value": to_plain(model)}
    out: dict[str, Any] = {"module": True, "reuses": _reused_model(model),
                           "params": int(sum(p.numel() for p in nn.Module.parameters(model)))}
    convs = [m for m in nn.Module.modules(model) if isinstance(m, nn.Conv2d)]
    if not convs or out["params"] == 0:
        return out
    last = convs[-1]
    seen: list[tuple[Any, Any]] = []
    real = F.log_softmax

    def recording(x, dim=None, *args, **kwargs):
        if not seen:
            seen.append((x.detach().clone(), dim))
        return real(x, dim, *args, **kwargs)

    torch.manual_seed(seed)
    images = torch.randn(batch, 1, 28, 28)
    with torch.no_grad():
        last.weight.zero_()
        if last.bias is not None:
            last.bias.copy_(torch.tensor(PROBE_BIAS[: last.bias.numel()]))
    nn.Module.eval(model)
    F.log_softmax = recording
    try:
        with warnings.catch_warnings(record=True) as caught, torch.no_grad():
            warnings.simplefilter("always")
            result = model(images)
    finally:
        F.log_softmax = real
    out["output"] = to_plain(result)
    out["warnings"] = [str(w.message)[:200] for w in caught][:5]
    if seen:
        out["scores"] = to_plain(seen[0][0])
        out["dim"] = seen[0][1] if isinstance(seen[0][1], int) or seen[0][1] is None else str(seen[0][1])
    out["log_softmax"] = bool(seen)
    return out


def _close_rows(tensor: Any, row: list[float], atol: float = 1e-4) -> bool:
    import torch

    if not isinstance(tensor, torch.Tensor):
        return False
    flat = tensor.double().reshape(tensor.shape[0], -1) if tensor.dim() >= 1 else tensor
    want = torch.tensor(row, dtype=torch.float64)
    return flat.dim() == 2 and flat.shape[1] == want.numel() and bool(torch.allclose(flat, want.expand_as(flat), atol=atol))


def _log_softmax(row: list[float]) -> list[float]:
    if not row:
        return []
    top = max(row)
    total = math.log(sum(math.exp(v - top) for v in row)) + top
    return [v - total for v in row]


class FixedNetPart(Part):
    """The repaired network: the same layers (1 point), log-probabilities over the classes with ``dim=1``
    (1 point), and the fix itself (2 points, judged with the key)."""

    kind = "class"
    batch = 2
    seed = 3

    def requests(self, hidden: HiddenPart | None) -> list[dict]:
        return [{"op": "fixed_net", "part": self.name, "name": self.name, "seed": self.seed, "batch": self.batch}]

    def probe(self, namespace: dict, request: dict, assignment: str) -> dict:
        found, name, cls = lookup(namespace, [request["name"]])
        if not found:
            return {"found": False}
        if cls is None or cls is Ellipsis:
            return {"found": True, "placeholder": True}
        if not isinstance(cls, type):
            return {"found": True, "callable": False, "value": to_plain(cls)}
        data = call(_probe_fixed_net, (cls, int(request["seed"]), int(request["batch"])), timeout=120, convert=lambda v: v)
        data["found"] = True
        return data

    def _shares(self) -> tuple[float, float, float]:
        return self.points / 4, self.points / 4, self.points / 2

    def _early(self, result: dict) -> PartOutcome | None:
        label = self.label
        if not result.get("found"):
            return PartOutcome(self.name, "not attempted", 0.0, self.points, f"{label} is not defined yet.",
                               f"Write the class {label} in its cell and run that cell.")
        if result.get("placeholder"):
            return PartOutcome(self.name, "not attempted", 0.0, self.points, f"{label}: not attempted yet.")
        if result.get("callable") is False:
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label} is not a class.",
                               "Write `class FixedNet(nn.Module):` with __init__ and forward.")
        if not result.get("ok"):
            if result.get("timeout"):
                return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label} took too long to build and run.")
            return PartOutcome(self.name, "wrong", 0.0, self.points,
                               f"{label} could not be built and run on a batch ({result.get('error')}).",
                               "Run FixedNet()(torch.randn(2, 1, 28, 28)) in a cell of your own to see the error.")
        data = result.get("result") or {}
        if not data.get("module"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label}() is not an nn.Module.",
                               "Write `class FixedNet(nn.Module):`.", shorten(from_plain(data.get("value"))))
        if data.get("reuses"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label} reuses evalib's {data['reuses']}: it earns no points.",
                               "Write the class yourself, layer by layer, so that you see the line you change.")
        if not data.get("params") or "output" not in data:
            return PartOutcome(self.name, "not attempted", 0.0, self.points, f"{label} has no layers yet: not attempted yet.")
        return None

    def _requirements(self, data: dict) -> tuple[list[str], list[str], bool, bool]:
        """(messages, hints, same layers?, log-probabilities over dim=1?) of the stated requirements."""
        import torch

        layers_share, dim_share, _ = self._shares()
        messages, hints = [], []
        layers = data.get("params") == LECTURE_PARAMETERS
        if not layers:
            messages.append(f"{self.label} has {data.get('params'):,} parameters, not the lecture's {LECTURE_PARAMETERS:,}.")
            hints.append("The fix is one line: keep every layer of Net as it is.")
        output = from_plain(data.get("output"))
        shape = tuple(output.shape) if isinstance(output, torch.Tensor) else None
        dim = data.get("dim")
        rows_sum = isinstance(output, torch.Tensor) and shape == (self.batch, 10) and \
            bool(torch.allclose(output.double().exp().sum(dim=1), torch.ones(self.batch, dtype=torch.float64), atol=1e-4))
        columns_sum = isinstance(output, torch.Tensor) and shape == (self.batch, 10) and \
            bool(torch.allclose(output.double().exp().sum(dim=0), torch.ones(10, dtype=torch.float64), atol=1e-4))
        implicit = any("implicit dimension" in w.lower() for w in data.get("warnings", []))
        if shape != (self.batch, 10):
            messages.append(f"{self.label} returns shape {shape} for {self.batch} digits.")
            hints.append("Return one row of 10 log-probabilities per digit: shape (N, 10).")
            over_classes = False
        elif dim == 0 or (columns_sum and not rows_sum):
            messages.append("log_softmax runs over dim=0, the batch axis.")
            hints.append("Over dim=0 each column sums to 1: the digits of a batch are compared with each other. "
                         "Use dim=1, the 10 class scores of each digit.")
            over_classes = False
        elif implicit or (data.get("log_softmax") and dim is None):
            messages.append("log_softmax is called without dim.")
            hints.append("Without dim PyTorch guesses (and warns); the assignment asks for log_softmax(x, dim=1).")
            over_classes = False
        elif not rows_sum:
            messages.append(f"{self.label} does not return log-probabilities.")
            hints.append("End forward with F.log_softmax(x, dim=1).")
            over_classes = False
        else:
            over_classes = True
        return messages, hints, layers, over_classes

    def review(self, results: list[dict]) -> PartOutcome:
        early = self._early(results[0])
        if early is not None:
            return early
        messages, hints, _, _ = self._requirements(results[0]["result"])
        if messages:
            return PartOutcome(self.name, "wrong", 0.0, self.points, " ".join(messages), " ".join(hints))
        return PartOutcome(self.name, "recorded", 0.0, self.points,
                           f"{self.label} has the lecture's layers and returns log-probabilities over dim=1; "
                           "the fix itself is graded when you hand in.")

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        early = self._early(results[0])
        if early is not None:
            return early
        data = results[0]["result"]
        messages, hints, layers, over_classes = self._requirements(data)
        layers_share, dim_share, fix_share = self._shares()
        points = layers_share * layers + dim_share * over_classes
        key = hidden.value if isinstance(hidden.value, dict) else {}
        if data.get("log_softmax"):
            scores = from_plain(data.get("scores"))
            fixed = _close_rows(scores, key.get("scores", []))
        else:  # log-softmax called some other way: compare what comes out
            scores = from_plain(data.get("output"))
            fixed = over_classes and _close_rows(scores, _log_softmax(key.get("scores", [])))
        if fixed:
            points += fix_share
        else:
            buggy = key.get("buggy", [])
            looks_buggy = _close_rows(scores, buggy if data.get("log_softmax") else _log_softmax(buggy))
            note = hidden.notes.get("buggy") if looks_buggy else hidden.notes.get("other")
            messages.append(f"{self.label} does not fix the bug yet.")
            hints.append(note or "Compare forward with Net's line by line: what happens to the scores of the last layer?")
        state = "correct" if math.isclose(points, self.points) else "wrong"
        message = f"{self.label}: right." if state == "correct" else " ".join(messages)
        return PartOutcome(self.name, state, points, self.points, message, " ".join(hints))

    def practice_data(self, hidden: HiddenPart, salt: str, question: str) -> dict:
        return {"notes": hidden.notes, "value": hidden.value}


fixed_net = Question(
    ASSIGNMENT, "test_fixed_net", "fixed_net", "The fixed network",
    prompt="FixedNet: the same layers as Net, with the bug fixed, and dim=1 in log_softmax.",
    parts=[FixedNetPart("FixedNet", 4)],
    hints=["Keep every layer and every line of Net but one.",
           "Train it for one epoch (lesson 4's loop) and compare its accuracy with Net's."])
