"""Design-rule warnings: the lecture's rules of thumb, checked on a real model.

``lint(model, (C, H, W))`` builds the :func:`evalib.summary` of the model and
returns one :class:`LintWarning` per broken rule, each naming the layer and
saying why the rule matters. An empty list means no rule is broken.

>>> from evalib import LectureNet
>>> [w.rule for w in lint(LectureNet(final_relu=True), (1, 28, 28))]
['final-activation']
>>> lint(LectureNet(final_relu=False), (1, 28, 28))
[]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch.nn as nn

from .summary import LayerRow, ModelSummary, summary

__all__ = ["LintWarning", "lint", "RULES"]

#: Rule name -> one-line statement of the rule, as taught in the lecture.
RULES = {
    "final-activation": "no activation on the last layer: class scores must be free to go negative",
    "pool-near-output": "do not max pool close to the prediction layer",
    "final-map-too-small": "keep the last feature map big enough before collapsing it (3x3 for 28x28 inputs, 5x5 for 32x32, 7x7 above)",
    "rf-smaller-than-input": "the final receptive field should cover the whole image (the object)",
    "pool-window": "max pool with a 2x2 window (stride 2), never 3x3",
    "pool-too-early": "convolve until the RF covers edges and gradients before the first max pool",
    "missing-activation": "every convolution except the last is followed by an activation",
}


@dataclass(frozen=True)
class LintWarning:
    """One broken rule of thumb, at one layer."""

    rule: str
    layer: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.layer}: {self.message}"


_SHAPE_ONLY = {"reshape", "dropout", "softmax", "other"}
_WEIGHTED = {"conv", "linear"}


def _consumers(s: ModelSummary) -> dict[str, list[LayerRow]]:
    users: dict[str, list[LayerRow]] = {row.name: [] for row in s}
    for row in s:
        for source in row.inputs:
            users.setdefault(source, []).append(row)
    return users


def _final_map_threshold(image_side: int) -> int:
    if image_side <= 28:
        return 3
    if image_side <= 32:
        return 5
    return 7


def _edge_rf(image_side: int) -> int:
    return 5 if image_side <= 32 else 9


def _outputs(s: ModelSummary, users: dict[str, list[LayerRow]]) -> list[LayerRow]:
    return [row for row in s if not users.get(row.name)]


def _walk_back_to_weights(s: ModelSummary, row: LayerRow) -> list[LayerRow]:
    """Rows from ``row`` back to the nearest weighted layer (inclusive), single-input chain."""
    path = [row]
    while path[-1].role not in _WEIGHTED and len(path[-1].inputs) == 1 and path[-1].inputs[0] != "input":
        path.append(s[path[-1].inputs[0]])
    return path


def lint(model: nn.Module, input_size: Sequence[int], summary_: ModelSummary | None = None) -> list[LintWarning]:
    """Check ``model`` against the lecture's design rules for inputs of ``input_size``.

    Pass an existing ``summary_`` to avoid tracing the model twice.

    >>> import torch.nn as nn
    >>> net = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(3), nn.Conv2d(8, 10, 8))
    >>> sorted({w.rule for w in lint(net, (1, 28, 28))})
    ['pool-near-output', 'pool-too-early', 'pool-window', 'rf-smaller-than-input']
    """
    s = summary_ if summary_ is not None else summary(model, input_size)
    side = min(s.input_size[1:])
    users = _consumers(s)
    warnings: list[LintWarning] = []

    # 1. An activation between the last weighted layer and the output (through reshapes / softmax).
    final_weighted: set[str] = set()
    for out in _outputs(s, users):
        path = _walk_back_to_weights(s, out)
        if path[-1].role in _WEIGHTED:
            final_weighted.add(path[-1].name)
            for row in path[:-1]:
                if row.role == "activation":
                    warnings.append(
                        LintWarning(
                            "final-activation",
                            row.name,
                            f"{row.kind} is applied to the output of {path[-1].name}, the last layer. "
                            "The class scores can no longer be negative, so the model cannot express "
                            "evidence against a class and dead outputs get no gradient. Remove it: "
                            "the last layer has no activation.",
                        )
                    )

    # 2. Every convolution except the last is followed by an activation (norm/dropout/merge may sit between).
    for row in s.of_role("conv"):
        if row.name in final_weighted:
            continue
        frontier, seen, found = [row.name], set(), False
        for _ in range(4):
            nxt = []
            for name in frontier:
                for user in users.get(name, []):
                    if user.name in seen:
                        continue
                    seen.add(user.name)
                    if user.role == "activation":
                        found = True
                    elif user.role in ("norm", "dropout", "merge", "other"):
                        nxt.append(user.name)
            frontier = nxt
        if not found and users.get(row.name):
            warnings.append(
                LintWarning(
                    "missing-activation",
                    row.name,
                    "this convolution is not followed by an activation, so it and the next layer "
                    "collapse into one linear map: add a ReLU after it.",
                )
            )

    # 3. Max pooling: window, timing and distance from the output.
    for row in s.of_role("maxpool"):
        if row.kernel_size != (2, 2) or row.stride != (2, 2):
            k = row.kernel_size
            warnings.append(
                LintWarning(
                    "pool-window",
                    row.name,
                    f"max pooling uses a {k[0]}x{k[1]} window with stride {row.stride[0]}; the rule is a "
                    "2x2 window with stride 2, which halves the channel size and keeps the strongest "
                    "response of each 2x2 patch.",
                )
            )
        source = s[row.inputs[0]] if row.inputs and row.inputs[0] != "input" else None
        rf_in = min(source.rf_hw) if source is not None else 1
        if rf_in < _edge_rf(side):
            warnings.append(
                LintWarning(
                    "pool-too-early",
                    row.name,
                    f"the receptive field before this pool is only {rf_in} pixels; convolve until it "
                    f"covers edges and gradients (about {_edge_rf(side)} pixels for {side}x{side} images) "
                    "before pooling.",
                )
            )
        convs_after = _convs_until_output(s, users, row)
        if convs_after < 2:
            warnings.append(
                LintWarning(
                    "pool-near-output",
                    row.name,
                    f"only {convs_after} weighted layer(s) follow this max pool before the prediction; "
                    "pooling this late throws away detail the classifier needs. Pool early, convolve after.",
                )
            )

    # 4. The last feature map before it is collapsed to one value per channel.
    for row in s:
        if row.role == "linear":
            continue
        size = row.spatial_size
        source = s[row.inputs[0]] if row.inputs and row.inputs[0] != "input" else None
        in_size = source.spatial_size if source is not None else s.input_size[1:]
        collapses = in_size is not None and max(in_size) > 1 and (size is None or size == (1, 1))
        if collapses and row.role not in ("reshape", "softmax"):
            need = _final_map_threshold(side)
            if min(in_size) < need:
                warnings.append(
                    LintWarning(
                        "final-map-too-small",
                        row.name,
                        f"the feature map is only {in_size[0]}x{in_size[1]} when it is collapsed; keep at "
                        f"least {need}x{need} for {side}x{side} inputs so the last layers have room to look.",
                    )
                )

    # 5. The RF of the last spatial layer (before any global collapse) covers the image.
    spatial = [row for row in s if row.spatial_size is not None and row.role not in ("globalpool",)]
    if spatial:
        last = spatial[-1]
        h, w = s.input_size[1:]
        if last.rf_hw[0] < h or last.rf_hw[1] < w:
            warnings.append(
                LintWarning(
                    "rf-smaller-than-input",
                    last.name,
                    f"the last feature map sees {last.rf_hw[0]}x{last.rf_hw[1]} pixels of a {h}x{w} input; "
                    "add layers (or a pool earlier) until the receptive field covers the whole object.",
                )
            )
    return warnings


def _convs_until_output(s: ModelSummary, users: dict[str, list[LayerRow]], start: LayerRow) -> int:
    """Fewest weighted layers on any path from ``start`` to an output."""
    best = None
    stack = [(start.name, 0)]
    seen: dict[str, int] = {}
    while stack:
        name, count = stack.pop()
        if name in seen and seen[name] <= count:
            continue
        seen[name] = count
        nxt = users.get(name, [])
        if not nxt:
            best = count if best is None else min(best, count)
        for user in nxt:
            stack.append((user.name, count + (user.role in _WEIGHTED)))
    return best or 0
