"""Weight initialization: the schemes, a depth experiment, and the symmetry problem.

Each scheme is a rule that turns a layer's fan-in and fan-out into a
distribution for its weights. The formulas are written out here (not taken
from :mod:`torch.nn.init`), and the tests check that their samples have the
same statistics as PyTorch's own functions.

==================  ================================  =============================
scheme              distribution                      variance
==================  ================================  =============================
constant            every weight equal to ``value``   0
normal_1            N(0, 1)                           1
normal_0.01         N(0, 0.01^2)                      1e-4
xavier_uniform      U(-a, a), a = sqrt(3) * std       2 / (fan_in + fan_out)
xavier_normal       N(0, std^2)                       2 / (fan_in + fan_out)
he_uniform          U(-a, a), a = sqrt(3) * std       2 / fan_in
he_normal           N(0, std^2)                       2 / fan_in
pytorch_default     U(-1/sqrt(fan_in), 1/sqrt(fan_in)) 1 / (3 fan_in)
==================  ================================  =============================

PyTorch's default for ``Conv2d`` and ``Linear`` is ``kaiming_uniform_(a=sqrt(5))``,
which works out to the last row: a sixth of He's variance.

>>> round(scheme_std("he_normal", fan_in=9 * 64, fan_out=9 * 64), 4)
0.0589
>>> fans(torch.empty(32, 3, 3, 3))
(27, 288)
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

import torch
import torch.nn as nn

from ..checks.guard import solves

__all__ = [
    "SCHEMES",
    "InitScheme",
    "fans",
    "scheme_std",
    "init_weights_",
    "init_model_",
    "deep_stack",
    "DepthRecord",
    "depth_experiment",
    "SymmetryResult",
    "symmetry_demo",
]


@dataclass(frozen=True)
class InitScheme:
    """One initialization rule: its name, a readable label and its distribution family."""

    name: str
    label: str
    distribution: str  # "constant", "normal" or "uniform"
    description: str

    @solves("a3_initialization")
    def std(self, fan_in: int, fan_out: int, value: float = 0.1) -> float:
        """Standard deviation of the weights this rule draws (0 for a constant)."""
        return scheme_std(self.name, fan_in, fan_out, value)


#: Scheme name -> :class:`InitScheme`, in the order the lesson discusses them.
SCHEMES: dict[str, InitScheme] = {
    s.name: s
    for s in (
        InitScheme("constant", "constant", "constant", "every weight the same number: the symmetry problem"),
        InitScheme("normal_1", "N(0, 1)", "normal", "standard normal, ignores the layer size: too large"),
        InitScheme("normal_0.01", "N(0, 0.01)", "normal", "small normal, ignores the layer size: too small when deep"),
        InitScheme("xavier_uniform", "Xavier uniform", "uniform", "Glorot: variance 2 / (fan_in + fan_out), suits tanh"),
        InitScheme("xavier_normal", "Xavier normal", "normal", "Glorot: variance 2 / (fan_in + fan_out), suits tanh"),
        InitScheme("he_uniform", "He uniform", "uniform", "Kaiming: variance 2 / fan_in, suits ReLU"),
        InitScheme("he_normal", "He normal", "normal", "Kaiming: variance 2 / fan_in, suits ReLU"),
        InitScheme(
            "pytorch_default",
            "PyTorch default",
            "uniform",
            "kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)): a sixth of He's variance",
        ),
    )
}


@contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """Run torch on ``count`` threads inside the block (``None``: leave as is).

    Small layers run fastest on one thread; more threads mostly wait for each
    other, especially on a shared 2-core machine.
    """
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _scheme(name: str) -> InitScheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise ValueError(f"unknown scheme {name!r}; choose one of: {', '.join(SCHEMES)}") from None


@solves("a3_initialization")
def fans(weight: torch.Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight tensor, as PyTorch counts them.

    A conv weight ``(C_out, C_in, kH, kW)`` has fan-in ``C_in*kH*kW`` (the
    numbers one output value sums over) and fan-out ``C_out*kH*kW``.

    >>> fans(torch.empty(10, 20))          # Linear(20, 10)
    (20, 10)
    """
    if weight.dim() < 2:
        raise ValueError(f"fan-in and fan-out need a weight with at least 2 dimensions, got shape {tuple(weight.shape)}")
    window = math.prod(weight.shape[2:])
    return weight.shape[1] * window, weight.shape[0] * window


@solves("a3_initialization")
def scheme_std(name: str, fan_in: int, fan_out: int, value: float = 0.1) -> float:
    """The standard deviation of the weights a scheme draws for these fans.

    For the uniform schemes, the bound is ``sqrt(3) * std`` (a U(-a, a) has
    variance a^2 / 3).

    >>> math.isclose(6 * scheme_std("pytorch_default", 100, 50) ** 2, scheme_std("he_uniform", 100, 50) ** 2)
    True
    """
    scheme = _scheme(name)
    if fan_in < 1 or fan_out < 1:
        raise ValueError(f"fans must be positive, got fan_in={fan_in}, fan_out={fan_out}")
    if scheme.name == "constant":
        return 0.0
    if scheme.name == "normal_1":
        return 1.0
    if scheme.name == "normal_0.01":
        return 0.01
    if scheme.name.startswith("xavier"):
        return math.sqrt(2.0 / (fan_in + fan_out))
    if scheme.name.startswith("he"):
        return math.sqrt(2.0 / fan_in)
    return math.sqrt(1.0 / (3.0 * fan_in))  # pytorch_default: bound 1/sqrt(fan_in)


@torch.no_grad()
@solves("a3_initialization")
def init_weights_(
    weight: torch.Tensor,
    scheme: str,
    value: float = 0.1,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill ``weight`` in place with the named scheme; returns it.

    >>> w = init_weights_(torch.empty(64, 64, 3, 3), "constant", value=0.5)
    >>> w.unique().tolist()
    [0.5]
    """
    info = _scheme(scheme)
    if info.distribution == "constant":
        return weight.fill_(value)
    fan_in, fan_out = fans(weight)
    std = scheme_std(scheme, fan_in, fan_out)
    if info.distribution == "normal":
        return weight.normal_(0.0, std, generator=generator)
    bound = math.sqrt(3.0) * std
    return weight.uniform_(-bound, bound, generator=generator)


@torch.no_grad()
@solves("a3_initialization")
def init_model_(
    model: nn.Module,
    scheme: str,
    value: float = 0.1,
    zero_bias: bool = True,
    generator: torch.Generator | None = None,
) -> nn.Module:
    """Apply a scheme to every ``Conv2d`` and ``Linear`` weight of ``model`` (biases to 0).

    ``"pytorch_default"`` draws with the formula above; it does not call
    ``reset_parameters``.
    """
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            init_weights_(module.weight, scheme, value=value, generator=generator)
            if module.bias is not None and zero_bias:
                module.bias.zero_()
    return model


@solves("a3_initialization")
def deep_stack(
    depth: int,
    width: int = 64,
    kind: str = "conv",
    activation: str = "relu",
    bias: bool = True,
    padding_mode: str = "zeros",
) -> nn.Sequential:
    """``depth`` identical layers, each followed by the activation.

    ``kind="conv"``: 3x3 convolutions ``width -> width`` with padding 1 (the size
    never changes); ``kind="linear"``: ``Linear(width, width)``.

    >>> deep_stack(3, width=8)
    Sequential(
      (0): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
      (1): ReLU()
      (2): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
      (3): ReLU()
      (4): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
      (5): ReLU()
    )
    """
    if depth < 1 or width < 1:
        raise ValueError("depth and width must be positive")
    activations = {"relu": nn.ReLU, "tanh": nn.Tanh}
    if activation not in activations:
        raise ValueError(f"activation must be one of {', '.join(activations)}, got {activation!r}")
    layers: list[nn.Module] = []
    for _ in range(depth):
        if kind == "conv":
            layers.append(nn.Conv2d(width, width, 3, padding=1, bias=bias, padding_mode=padding_mode))
        elif kind == "linear":
            layers.append(nn.Linear(width, width, bias=bias))
        else:
            raise ValueError(f"kind must be 'conv' or 'linear', got {kind!r}")
        layers.append(activations[activation]())
    return nn.Sequential(*layers)


@dataclass
class DepthRecord:
    """What :func:`depth_experiment` measured, one entry per layer (layer 1 first).

    ``act_mean`` and ``act_std``: mean and standard deviation of the layer's
    output (after the activation). ``act_max``: its largest absolute value
    (``inf`` once a value overflowed float's range, ``nan`` once any value is
    not a number). ``nan_share``: the share of its values that are ``nan``.
    ``grad_norm``: norm of the loss gradient with respect to that output,
    which shows how much signal flows back to the layer.
    ``weight_grad_norm``: norm of the gradient of its weights.

    In float32 the standard deviation can overflow (to ``inf``) a few layers
    before any single value does: computing it adds up every value of the
    layer, and that sum passes float32's largest number (about 3.4e38) first.
    Once values are ``inf``, a convolution adds ``+inf`` and ``-inf`` together,
    which gives ``nan``, and a ``nan`` spreads to everything it touches.
    """

    scheme: str
    kind: str
    activation: str
    width: int
    input_std: float
    act_mean: list[float] = field(default_factory=list)
    act_std: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    weight_grad_norm: list[float] = field(default_factory=list)
    act_max: list[float] = field(default_factory=list)
    nan_share: list[float] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return len(self.act_std)

    @property
    def final_std(self) -> float:
        """Activation std after the last layer."""
        return self.act_std[-1]

    def rows(self) -> list[tuple[int, float, float, float, float]]:
        """``(layer, mean, std, grad norm, weight grad norm)`` per layer, for printing."""
        return list(
            zip(range(1, self.depth + 1), self.act_mean, self.act_std, self.grad_norm, self.weight_grad_norm)
        )


@solves("a3_initialization")
def depth_experiment(
    scheme: str,
    depth: int = 50,
    kind: str = "conv",
    activation: str = "relu",
    width: int = 64,
    size: int = 16,
    batch: int = 8,
    seed: int = 0,
    value: float = 0.1,
    dtype: torch.dtype = torch.float32,
    threads: int | None = 1,
) -> DepthRecord:
    """Push unit-variance noise through a deep stack and record each layer.

    The stack is :func:`deep_stack` with zero biases and weights drawn by
    ``scheme``. The input is ``batch`` samples of N(0, 1) noise, shaped
    ``(batch, width, size, size)`` for convolutions, ``(batch, width)`` for
    linear layers. The loss for the backward pass is the mean of the last
    output. The defaults (64 channels, 16x16, batch 8) keep 50 layers cheap;
    torch runs on ``threads`` threads meanwhile (``None``: as set).

    >>> rec = depth_experiment("he_normal", depth=5, width=16, size=8)
    >>> rec.depth, 0.2 < rec.final_std < 3
    (5, True)
    """
    with _threads(threads):
        return _depth_experiment(scheme, depth, kind, activation, width, size, batch, seed, value, dtype)


def _depth_experiment(
    scheme: str, depth: int, kind: str, activation: str, width: int, size: int, batch: int, seed: int,
    value: float, dtype: torch.dtype,
) -> DepthRecord:
    generator = torch.Generator().manual_seed(seed)
    model = deep_stack(depth, width, kind, activation, bias=True).to(dtype)
    init_model_(model, scheme, value=value, zero_bias=True, generator=generator)
    shape = (batch, width, size, size) if kind == "conv" else (batch, width)
    x = torch.randn(shape, generator=generator, dtype=dtype)
    record = DepthRecord(scheme, kind, activation, width, float(x.std()))
    outputs: list[torch.Tensor] = []
    weighted: list[nn.Module] = []
    h = x
    for layer in model:
        h = layer(h)
        if isinstance(layer, (nn.ReLU, nn.Tanh)):
            h.retain_grad()
            outputs.append(h)
        else:
            weighted.append(layer)
    h.mean().backward()
    for out, layer in zip(outputs, weighted):
        record.act_mean.append(float(out.detach().mean()))
        record.act_std.append(float(out.detach().std()))
        record.grad_norm.append(float(out.grad.norm()))
        record.weight_grad_norm.append(float(layer.weight.grad.norm()))
        values = out.detach()
        nans = torch.isnan(values)
        record.act_max.append(float("nan") if bool(nans.any()) else float(values.abs().max()))
        record.nan_share.append(float(nans.float().mean()))
    return record


@dataclass
class SymmetryResult:
    """How different the hidden channels of a small network are, step by step.

    ``spread[t]`` is the largest difference between any two hidden kernels of
    the first layer after ``t`` training steps (``t = 0`` is the start).
    ``distinct[t]`` counts the different kernels among the ``channels``.
    ``losses[t]`` is the training loss of step ``t``.

    Two numbers describe, at the start, the features that reach the last
    layer (one value per channel and digit, after the average pool):
    ``feature_spread``, their standard deviation over the 64 digits averaged
    over the channels (how much the last layer has to work with), and
    ``ink_correlation``, the correlation over the digits between the first
    channel's value and the amount of ink (the mean pixel) of the digit.
    """

    scheme: str
    channels: int
    losses: list[float] = field(default_factory=list)
    spread: list[float] = field(default_factory=list)
    distinct: list[int] = field(default_factory=list)
    feature_spread: float = float("nan")
    ink_correlation: float = float("nan")

    @property
    def loss_drop(self) -> float:
        """How much the loss fell from the first step to the last."""
        return self.losses[0] - self.losses[-1] if self.losses else float("nan")


def _symmetry_stats(weight: torch.Tensor, tolerance: float) -> tuple[float, int]:
    flat = weight.detach().reshape(weight.shape[0], -1)
    spread = float((flat[:, None, :] - flat[None, :, :]).abs().max())
    distinct: list[torch.Tensor] = []
    for row in flat:
        if not any(float((row - seen).abs().max()) <= tolerance for seen in distinct):
            distinct.append(row)
    return spread, len(distinct)


def symmetry_demo(
    scheme: str = "constant",
    steps: int = 10,
    channels: int = 8,
    value: float = 0.1,
    lr: float = 0.1,
    seed: int = 0,
    tolerance: float = 1e-6,
    threads: int | None = 1,
) -> SymmetryResult:
    """Train a tiny conv net on 64 embedded digits for a few SGD steps and track its kernels.

    The net is ``conv 3x3 (1 -> channels) -> ReLU -> conv 3x3 (channels -> channels)
    -> ReLU -> global average pool -> Linear(channels, 10)``. With a constant
    scheme every hidden kernel starts equal, receives the same gradient and so
    stays equal: the net has the power of one channel however many it owns.
    Random schemes start (and stay) different.

    >>> symmetry_demo("constant", steps=3).distinct
    [1, 1, 1, 1]
    """
    with _threads(threads):
        return _symmetry_demo(scheme, steps, channels, value, lr, seed, tolerance)


def _symmetry_demo(
    scheme: str, steps: int, channels: int, value: float, lr: float, seed: int, tolerance: float
) -> SymmetryResult:
    from .images import mnist_digits

    generator = torch.Generator().manual_seed(seed)
    images, labels = mnist_digits()
    pick = torch.randperm(len(images), generator=generator)[:64]
    x, y = images[pick][:, None], labels[pick]
    model = nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(channels, channels, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, 10),
    )
    init_model_(model, scheme, value=value, generator=generator)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    result = SymmetryResult(scheme, channels)
    with torch.no_grad():
        features = model[:-1](x)  # (64, channels): what the last layer receives
        ink = x.flatten(1).mean(dim=1)
        result.feature_spread = float(features.std(dim=0).mean())
        pair = torch.stack([features[:, 0], ink])
        result.ink_correlation = float(torch.corrcoef(pair)[0, 1]) if float(features[:, 0].std()) > 0 else float("nan")
    first = model[0].weight
    for step in range(steps + 1):
        spread, distinct = _symmetry_stats(first, tolerance)
        result.spread.append(spread)
        result.distinct.append(distinct)
        if step == steps:
            break
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        result.losses.append(loss.item())
    return result
