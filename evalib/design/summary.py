"""A model summary that follows the real graph: shapes, parameters, RF and jump per layer.

``summary(model, (C, H, W))`` traces the model with :mod:`torch.fx`, runs one
input through it to record every shape, and walks the graph to compute the
receptive field (RF), the jump (effective stride) and the effective padding
after each layer. Where branches merge (a residual ``+``, an inception
``cat``) the largest RF over the merged inputs is kept.

>>> import torch.nn as nn
>>> s = summary(nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2)), (1, 8, 8))
>>> [(row.name, row.output_shape, row.rf) for row in s]
[('0', (4, 6, 6), 3), ('1', (4, 6, 6), 3), ('2', (4, 3, 3), 4)]
>>> s.total_params
40
"""
from __future__ import annotations

import html
import math
import operator
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence, Union

import torch
import torch.fx
import torch.nn as nn
import torch.nn.functional as F
from torch.fx.passes.shape_prop import ShapeProp

from .receptive_field import Geometry

from ..checks.guard import solves

__all__ = ["LayerRow", "ModelSummary", "SummaryError", "summary"]

RF = Union[int, tuple[int, int]]


class SummaryError(ValueError):
    """The model could not be traced or run on the given input size."""


@dataclass(frozen=True)
class LayerRow:
    """One layer of a :class:`ModelSummary`.

    ``rf`` and ``jump`` are ints for square geometry and ``(h, w)`` pairs
    otherwise; ``rf_hw``, ``jump_hw`` and ``padding_hw`` are always pairs.
    ``role`` groups layer types: conv, maxpool, avgpool, globalpool, linear,
    activation, norm, dropout, merge, reshape, softmax or other.
    """

    name: str
    kind: str
    role: str
    output_shape: tuple
    params: int
    rf_hw: tuple[int, int]
    jump_hw: tuple[int, int]
    padding_hw: tuple[int, int]
    inputs: tuple[str, ...] = ()
    kernel_size: tuple[int, int] | None = None
    stride: tuple[int, int] | None = None

    @property
    def rf(self) -> RF:
        return _collapse(self.rf_hw)

    @property
    def jump(self) -> RF:
        return _collapse(self.jump_hw)

    @property
    def padding(self) -> RF:
        return _collapse(self.padding_hw)

    @property
    def spatial_size(self) -> tuple[int, int] | None:
        """``(H, W)`` of a 4-D output, else ``None``."""
        return tuple(self.output_shape[-2:]) if len(self.output_shape) == 3 else None


def _collapse(pair: tuple[int, int]) -> RF:
    return pair[0] if pair[0] == pair[1] else pair


@dataclass
class ModelSummary(Sequence[LayerRow]):
    """Rows of a traced model; index by position or by layer name.

    Prints as a text table and shows as an HTML table in Jupyter.
    """

    model_name: str
    input_size: tuple[int, int, int]
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[LayerRow]:
        return iter(self.rows)

    def __getitem__(self, key):  # type: ignore[override]
        if isinstance(key, str):
            for row in self.rows:
                if row.name == key:
                    return row
            raise KeyError(f"no layer named {key!r}; layers are: {', '.join(r.name for r in self.rows)}")
        return self.rows[key]

    def of_role(self, *roles: str) -> list[LayerRow]:
        """Rows whose role is one of ``roles``, e.g. ``s.of_role("conv", "maxpool")``."""
        return [row for row in self.rows if row.role in roles]

    def table(self) -> list[list[str]]:
        """The summary as a header plus string rows, for printing or export."""
        out = [["layer", "type", "output shape", "params", "RF", "jump"]]
        for row in self.rows:
            out.append(
                [
                    row.name,
                    row.kind,
                    str([-1, *row.output_shape]),
                    f"{row.params:,}",
                    _fmt(row.rf),
                    _fmt(row.jump),
                ]
            )
        return out

    def __str__(self) -> str:
        table = self.table()
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        right = {3, 4, 5}

        def line(cells: list[str]) -> str:
            return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

        rule = "-" * len(line(table[0]))
        c, h, w = self.input_size
        lines = [f"{self.model_name} on input {c}x{h}x{w}", rule, line(table[0]), rule]
        lines += [line(r) for r in table[1:]]
        lines += [rule, f"Total params: {self.total_params:,}", f"Trainable params: {self.trainable_params:,}"]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        table = self.table()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in table[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in table[1:]
        )
        c, h, w = self.input_size
        return (
            f"<div><b>{html.escape(self.model_name)}</b> on input {c}x{h}x{w}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"Total params: {self.total_params:,} &middot; trainable: {self.trainable_params:,}</div>"
        )

    def __repr__(self) -> str:
        return f"<ModelSummary of {self.model_name}: {len(self.rows)} layers, {self.total_params:,} params>"


def _fmt(value: RF) -> str:
    return str(value) if isinstance(value, int) else f"{value[0]}x{value[1]}"


# --- what each kind of layer does to the geometry -------------------------------------------

_ACTIVATIONS = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
    nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Softplus,
)
_ACTIVATION_FUNCTIONS = {
    F.relu, F.relu6, F.leaky_relu, F.elu, F.selu, F.celu, F.gelu, F.silu, F.mish, F.hardswish,
    F.hardsigmoid, F.hardtanh, F.softplus, torch.relu, torch.sigmoid, torch.tanh, F.sigmoid, F.tanh,
    torch.relu_, F.relu_,
}
_ACTIVATION_METHODS = {"relu", "relu_", "sigmoid", "tanh", "sigmoid_", "tanh_"}
_SOFTMAX = {F.log_softmax, F.softmax, torch.log_softmax, torch.softmax}
_RESHAPE_FUNCTIONS = {torch.flatten, torch.reshape, torch.squeeze, torch.unsqueeze}
_RESHAPE_METHODS = {"view", "reshape", "flatten", "squeeze", "unsqueeze", "contiguous", "permute"}
_MERGE_FUNCTIONS = {operator.add, operator.mul, operator.iadd, operator.sub, torch.add, torch.mul, torch.cat, torch.stack}
_MERGE_METHODS = {"add", "add_", "mul", "mul_", "sub"}
_SKIP_FUNCTIONS = {getattr, operator.getitem}
_SKIP_METHODS = {"size", "dim"}


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return (int(value[0]), int(value[-1]))
    return (int(value), int(value))


def _module_role(module: nn.Module) -> str:
    if isinstance(module, nn.Conv2d):
        return "conv"
    if isinstance(module, nn.MaxPool2d):
        return "maxpool"
    if isinstance(module, (nn.AvgPool2d, nn.LPPool2d)):
        return "avgpool"
    if isinstance(module, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        return "globalpool"
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, _ACTIVATIONS):
        return "activation"
    if isinstance(module, (nn.BatchNorm2d, nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm2d, nn.LocalResponseNorm)):
        return "norm"
    if isinstance(module, (nn.Dropout, nn.Dropout2d, nn.AlphaDropout)):
        return "dropout"
    if isinstance(module, (nn.Flatten, nn.Unflatten)):
        return "reshape"
    if isinstance(module, (nn.LogSoftmax, nn.Softmax)):
        return "softmax"
    if isinstance(module, nn.Identity):
        return "other"
    return "other"


def _function_role(target: Any, op: str) -> str:
    if op == "call_method":
        if target in _ACTIVATION_METHODS:
            return "activation"
        if target in _RESHAPE_METHODS or target == "mean":
            return "reshape" if target != "mean" else "globalpool"
        if target in _MERGE_METHODS:
            return "merge"
        if target in ("softmax", "log_softmax"):
            return "softmax"
        return "other"
    if target in _ACTIVATION_FUNCTIONS:
        return "activation"
    if target in _SOFTMAX:
        return "softmax"
    if target in (F.conv2d,):
        return "conv"
    if target in (F.max_pool2d,):
        return "maxpool"
    if target in (F.avg_pool2d,):
        return "avgpool"
    if target in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d, torch.mean):
        return "globalpool"
    if target in (F.linear,):
        return "linear"
    if target in (F.dropout, F.dropout2d):
        return "dropout"
    if target in (F.batch_norm,):
        return "norm"
    if target in _RESHAPE_FUNCTIONS:
        return "reshape"
    if target in _MERGE_FUNCTIONS:
        return "merge"
    return "other"


def _kernel_of(node: torch.fx.Node, module: nn.Module | None) -> tuple | None:
    """(kernel, stride, padding, dilation) pairs for a windowed layer, else None."""
    if module is not None:
        if isinstance(module, nn.Conv2d):
            if isinstance(module.padding, str):
                if module.padding == "valid":
                    pad = (0, 0)
                else:  # "same" with stride 1
                    pad = tuple(d * (k - 1) // 2 for k, d in zip(module.kernel_size, module.dilation))
            else:
                pad = _pair(module.padding)
            return _pair(module.kernel_size), _pair(module.stride), pad, _pair(module.dilation)
        if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
            stride = module.stride if module.stride is not None else module.kernel_size
            dilation = getattr(module, "dilation", 1)
            return _pair(module.kernel_size), _pair(stride), _pair(module.padding), _pair(dilation)
        if isinstance(module, nn.LPPool2d):
            stride = module.stride if module.stride is not None else module.kernel_size
            return _pair(module.kernel_size), _pair(stride), (0, 0), (1, 1)
        return None
    if node.op != "call_function":
        return None
    args, kwargs = list(node.args), dict(node.kwargs)
    if node.target is F.conv2d:
        weight = args[1] if len(args) > 1 else kwargs["weight"]
        shape = weight.meta["tensor_meta"].shape if isinstance(weight, torch.fx.Node) else weight.shape
        names = ["input", "weight", "bias", "stride", "padding", "dilation"]
        values = dict(zip(names, args)) | kwargs
        pad = values.get("padding", 0)
        if isinstance(pad, str):
            pad = 0 if pad == "valid" else (shape[-2] - 1) // 2
        return (
            (int(shape[-2]), int(shape[-1])),
            _pair(values.get("stride", 1)),
            _pair(pad),
            _pair(values.get("dilation", 1)),
        )
    if node.target in (F.max_pool2d, F.avg_pool2d):
        names = ["input", "kernel_size", "stride", "padding"]
        values = dict(zip(names, args)) | kwargs
        if node.target is F.max_pool2d and len(args) > 4:
            values["dilation"] = args[4]
        kernel = values["kernel_size"]
        stride = values.get("stride") or kernel
        return _pair(kernel), _pair(stride), _pair(values.get("padding", 0)), _pair(values.get("dilation", 1))
    return None


def _function_kind(node: torch.fx.Node) -> str:
    """How a functional call reads in the table: ``F.relu``, ``torch.flatten``, ``.view()``, ``+``."""
    if node.op == "call_method":
        return f".{node.target}()"
    symbols = {operator.add: "+", operator.iadd: "+=", operator.mul: "*", operator.sub: "-"}
    if node.target in symbols:
        return symbols[node.target]
    name = getattr(node.target, "__name__", str(node.target))
    module = getattr(node.target, "__module__", "") or ""
    if module.startswith("torch.nn.functional"):
        return f"F.{name}"
    if module.startswith("torch") or node.target in vars(torch).values():
        return f"torch.{name}"
    return name


# --- tracing with layer names in errors ------------------------------------------------------


class _NamingTracer(torch.fx.Tracer):
    """A tracer that remembers which submodule it is inside, to name it in errors."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.failed_in: str | None = None

    def call_module(self, m: nn.Module, forward, args, kwargs):  # noqa: ANN001
        self.stack.append(f"{self.path_of_module(m)} ({type(m).__name__})")
        try:
            return super().call_module(m, forward, args, kwargs)
        except Exception:
            if self.failed_in is None:  # the innermost layer is the one to name
                self.failed_in = self.stack[-1]
            raise
        finally:
            self.stack.pop()


def _trace(model: nn.Module) -> torch.fx.GraphModule:
    tracer = _NamingTracer()
    try:
        graph = tracer.trace(model)
    except Exception as exc:  # torch.fx raises several types here
        where = tracer.failed_in or f"the forward() of {type(model).__name__}"
        raise SummaryError(
            f"cannot trace layer {where}: {type(exc).__name__}: {str(exc).splitlines()[0]}. "
            "summary() follows the model's graph with torch.fx, which cannot see through Python "
            "control flow that depends on tensor values (if/while on a tensor, .item(), numpy calls). "
            "Move that logic out of forward() or make the layer a plain nn.Module sequence."
        ) from exc
    return torch.fx.GraphModule(tracer.root, graph, type(model).__name__)


class _ShapeRecorder(ShapeProp):
    def run_node(self, n: torch.fx.Node) -> Any:
        try:
            return super().run_node(n)
        except Exception as exc:
            label = n.target if n.op == "call_module" else n.name
            raise SummaryError(
                f"layer {label!r} failed while running an input of the given size: "
                f"{type(exc).__name__}: {str(exc).splitlines()[0]}. "
                "Check that input_size is (channels, height, width) as the model expects."
            ) from exc


def _check_input_size(input_size: Sequence[int]) -> tuple[int, int, int]:
    if not isinstance(input_size, (tuple, list)) or len(input_size) != 3:
        raise ValueError(
            f"input_size must be (channels, height, width) like (1, 28, 28), got {input_size!r}."
        )
    if not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in input_size):
        raise ValueError(f"input_size must hold three positive whole numbers, got {input_size!r}.")
    return tuple(input_size)  # type: ignore[return-value]


def _tensor_inputs(node: torch.fx.Node) -> list[torch.fx.Node]:
    return [n for n in node.all_input_nodes if isinstance(n.meta.get("tensor_meta"), torch.fx.passes.shape_prop.TensorMetadata)]


@solves("a1_kernels_channels", "a2_receptive_field", "a4_mnist_one_epoch")
def summary(model: nn.Module, input_size: Sequence[int], batch_size: int = 2) -> ModelSummary:
    """Summarize ``model`` for one input of ``input_size = (C, H, W)``.

    Returns a :class:`ModelSummary` whose rows hold, per layer: name, type,
    output shape (without the batch), parameters, RF and jump. The model is
    run once, in eval mode and without gradients, on zeros; its training flag
    is restored afterwards.

    >>> import torch.nn as nn
    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, stride=2))
    >>> [(r.output_shape, r.rf, r.jump) for r in summary(net, (3, 9, 9))]
    [((8, 9, 9), 3, 1), ((8, 4, 4), 5, 2)]
    """
    c, h, w = _check_input_size(input_size)
    graph_module = _trace(model)
    modules = dict(graph_module.named_modules())
    try:
        param = next(model.parameters())
        device, dtype = param.device, param.dtype
    except StopIteration:
        device, dtype = torch.device("cpu"), torch.float32
    was_training = model.training
    graph_module.eval()
    try:
        with torch.no_grad():
            _ShapeRecorder(graph_module).propagate(torch.zeros(batch_size, c, h, w, device=device, dtype=dtype))
    finally:
        graph_module.train(was_training)

    start = Geometry()
    geometry: dict[str, tuple[Geometry, Geometry]] = {}
    row_of: dict[str, str] = {}  # node name -> row name (or "input")
    rows: list[LayerRow] = []
    for node in graph_module.graph.nodes:
        if node.op == "placeholder":
            geometry[node.name] = (start, start)
            row_of[node.name] = "input"
            continue
        if node.op in ("output", "get_attr"):
            continue
        if node.op == "call_function" and node.target in _SKIP_FUNCTIONS or node.op == "call_method" and node.target in _SKIP_METHODS:
            sources = _tensor_inputs(node)
            if sources:
                geometry[node.name] = geometry.get(sources[0].name, (start, start))
                row_of[node.name] = row_of.get(sources[0].name, "input")
            continue
        meta = node.meta.get("tensor_meta")
        sources = [n for n in _tensor_inputs(node) if n.name in geometry]
        if sources:
            # A merge keeps the input that sees the most; a single input passes through.
            gy, gx = max((geometry[n.name] for n in sources), key=lambda g: (g[0].rf * g[1].rf, g[0].jump))
        else:
            gy, gx = start, start
        module = modules.get(node.target) if node.op == "call_module" else None
        kernel = _kernel_of(node, module)
        if kernel is not None:
            (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel
            gy, gx = gy.after(kh, sh, ph, dh), gx.after(kw, sw, pw, dw)
        elif sources and isinstance(meta, torch.fx.passes.shape_prop.TensorMetadata):
            # An output with a smaller spatial grid and no kernel we know of (adaptive or
            # global pooling, flatten, mean): every output value may see the whole input grid.
            in_meta = sources[0].meta["tensor_meta"]
            if len(in_meta.shape) == 4 and (len(meta.shape) != 4 or tuple(meta.shape[-2:]) != tuple(in_meta.shape[-2:])):
                ih, iw = in_meta.shape[-2:]
                if len(meta.shape) == 4:
                    oh, ow = meta.shape[-2:]
                else:
                    oh, ow = 1, 1
                kh_, kw_ = math.ceil(ih / oh), math.ceil(iw / ow)
                if oh == 1:
                    kh_ = ih
                if ow == 1:
                    kw_ = iw
                gy, gx = gy.after(kh_, max(ih // oh, 1)), gx.after(kw_, max(iw // ow, 1))
        geometry[node.name] = (gy, gx)
        if not isinstance(meta, torch.fx.passes.shape_prop.TensorMetadata):
            row_of[node.name] = row_of[sources[0].name] if sources else "input"
            continue
        if module is not None:
            name, kind, role = str(node.target), type(module).__name__, _module_role(module)
            params = sum(p.numel() for p in module.parameters())
        else:
            name = node.name
            kind = _function_kind(node)
            role = _function_role(node.target, node.op)
            params = 0
        row_of[node.name] = name
        rows.append(
            LayerRow(
                name=name,
                kind=kind,
                role=role,
                output_shape=tuple(int(v) for v in meta.shape[1:]),
                params=params,
                rf_hw=(gy.rf, gx.rf),
                jump_hw=(gy.jump, gx.jump),
                padding_hw=(gy.padding, gx.padding),
                inputs=tuple(dict.fromkeys(row_of.get(n.name, "input") for n in sources)),
                kernel_size=(kernel[0] if kernel else None),
                stride=(kernel[1] if kernel else None),
            )
        )
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return ModelSummary(type(model).__name__, (c, h, w), rows, total, trainable)
