"""Shape arithmetic for convolutions and pooling.

Everything here is plain integer arithmetic, written to be read by students:
the output size of one layer, the chain of sizes produced by stacking the
same convolution, the number of weights of a convolution, and a planner that
reaches a 1x1 output with max pooling under the course's quiz rules.

>>> conv_output_size(28, kernel_size=3, padding=1)
28
>>> format_chain(shrink_chain(7))
'7x7 > 5x5 > 3x3 > 1x1'
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence, Union

Size = Union[int, tuple[int, int]]

__all__ = [
    "conv_output_size",
    "shrink_chain",
    "format_chain",
    "conv_weight_count",
    "layers_for_rf",
    "PoolingPlan",
    "plan_to_one",
]


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number, got {value!r} ({type(value).__name__}).")
    if value < minimum:
        rule = "positive" if minimum == 1 else f"at least {minimum}"
        raise ValueError(f"{name} must be {rule}, got {value}.")
    return value


def conv_output_size(
    n: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Size of one spatial side after a convolution or pooling layer.

    Uses PyTorch's rule ``floor((n + 2p - d*(k-1) - 1) / s) + 1``; with
    ``ceil_mode=True`` (pooling only) the division rounds up, but a window may
    not start inside the right-hand padding, as in PyTorch.

    >>> conv_output_size(400, 3)
    398
    >>> conv_output_size(7, 2, stride=2)
    3
    >>> conv_output_size(7, 2, stride=2, ceil_mode=True)
    4
    """
    _check_int("size", n, 1)
    _check_int("kernel_size", kernel_size, 1)
    _check_int("stride", stride, 1)
    _check_int("padding", padding, 0)
    _check_int("dilation", dilation, 1)
    span = dilation * (kernel_size - 1) + 1
    padded = n + 2 * padding
    if span > padded:
        raise ValueError(
            f"the kernel covers {span} pixels but the input is only {padded} pixels wide "
            f"after padding (size {n}, padding {padding}): use a smaller kernel or more padding."
        )
    numerator = padded - span
    if ceil_mode:
        out = -(-numerator // stride) + 1
        # PyTorch drops a last window that would start in the right-hand padding.
        if (out - 1) * stride >= n + padding:
            out -= 1
        return out
    return numerator // stride + 1


def _as_pair(size: Size) -> tuple[int, int]:
    if isinstance(size, tuple):
        if len(size) != 2:
            raise ValueError(f"a size is an int or a (height, width) pair, got {size!r}.")
        return (_check_int("height", size[0], 1), _check_int("width", size[1], 1))
    side = _check_int("size", size, 1)
    return (side, side)


def shrink_chain(
    size: Size,
    kernel_size: int = 3,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
) -> list:
    """Sizes from ``size`` down to the smallest one the same layer can reach.

    Applies the same convolution again and again until the kernel no longer
    fits. ``len(chain) - 1`` is the number of convolutions. ``size`` is an int
    for square images or a ``(height, width)`` pair.

    >>> chain = shrink_chain(25)
    >>> chain[:3], chain[-1], len(chain) - 1
    ([25, 23, 21], 1, 12)
    >>> shrink_chain((30, 41))[:2]
    [(30, 41), (28, 39)]
    """
    square = not isinstance(size, tuple)
    h, w = _as_pair(size)
    # Validate the layer itself once, with a size it surely fits.
    conv_output_size(dilation * (kernel_size - 1) + 1, kernel_size, stride, padding, dilation)
    chain = [(h, w)]
    span = dilation * (kernel_size - 1) + 1
    while min(h, w) + 2 * padding >= span:
        nh = conv_output_size(h, kernel_size, stride, padding, dilation)
        nw = conv_output_size(w, kernel_size, stride, padding, dilation)
        if (nh, nw) == (h, w):
            raise ValueError(
                f"a {kernel_size}x{kernel_size} convolution with stride {stride} and padding "
                f"{padding} keeps a {h}x{w} input the same size, so the chain never ends: "
                "use less padding or a larger stride."
            )
        h, w = nh, nw
        chain.append((h, w))
    return [hw[0] for hw in chain] if square else chain


def format_chain(sizes: Sequence, separator: str = " > ") -> str:
    """Write a chain of sizes the way the course does: ``25x25 > 23x23``.

    Items are ints (square), ``(h, w)`` pairs, or the string ``"MP"`` for a
    max pool, which is written as ``| MP``.

    >>> format_chain([5, 3, 1])
    '5x5 > 3x3 > 1x1'
    >>> format_chain([6, 4, "MP", 2])
    '6x6 > 4x4 | MP > 2x2'
    """
    parts: list[str] = []
    for item in sizes:
        if isinstance(item, str):
            parts.append(f"| {item}")
            continue
        h, w = _as_pair(item)
        parts.append(f"{h}x{w}")
    text = ""
    for i, part in enumerate(parts):
        if i == 0:
            text = part
        elif part.startswith("|"):
            text += " " + part
        else:
            text += separator + part
    return text


def conv_weight_count(kernel_size: int, in_channels: int, out_channels: int, bias: bool = False) -> int:
    """Number of learnable numbers in a 2D convolution: ``k*k*c_in*c_out`` (+ ``c_out`` biases).

    >>> conv_weight_count(3, 256, 256)
    589824
    >>> conv_weight_count(3, 1, 32, bias=True)
    320
    """
    _check_int("kernel_size", kernel_size, 1)
    _check_int("in_channels", in_channels, 1)
    _check_int("out_channels", out_channels, 1)
    return kernel_size * kernel_size * in_channels * out_channels + (out_channels if bias else 0)


def layers_for_rf(target_rf: int, kernel_size: int = 3, dilation: int = 1) -> int:
    """Fewest stride-1 convolutions whose stacked receptive field reaches ``target_rf``.

    Each stride-1 layer adds ``dilation * (kernel_size - 1)`` pixels to the RF.

    >>> layers_for_rf(15)
    7
    >>> layers_for_rf(5)
    2
    """
    _check_int("target_rf", target_rf, 1)
    _check_int("kernel_size", kernel_size, 1)
    _check_int("dilation", dilation, 1)
    if target_rf == 1:
        return 0
    growth = dilation * (kernel_size - 1)
    if growth == 0:
        raise ValueError("a 1x1 kernel never grows the receptive field: use kernel_size of 2 or more.")
    return math.ceil((target_rf - 1) / growth)


def _conv_count(steps: Sequence) -> int:
    pools = sum(1 for s in steps if isinstance(s, str))
    return len(steps) - 2 * pools  # every pool adds a marker and a size


@dataclass(frozen=True)
class PoolingPlan:
    """A way from an input size to 1x1 with convolutions and 2x2 max pools."""

    steps: tuple  # sizes (int) and the marker "MP" for each max pool

    @property
    def convolutions(self) -> int:
        """Number of convolutions (pools are not counted)."""
        return _conv_count(self.steps[1:])

    @property
    def pools(self) -> int:
        """Number of max-pooling layers."""
        return sum(1 for s in self.steps if isinstance(s, str))

    def __str__(self) -> str:
        return format_chain(self.steps)


def plan_to_one(
    size: int,
    kernel_size: int = 3,
    convs_before_pool: int = 2,
    max_pools: int | None = None,
) -> PoolingPlan:
    """Fewest unpadded convolutions that reach 1x1, with 2x2 max pools allowed.

    The quiz rules: convolve at least ``convs_before_pool`` times before every
    pool, a pool halves the size and drops an odd row (floor), pools are not
    counted, and the last layer is a convolution that gives exactly 1x1. ``max_pools`` caps the
    number of pools (``None``: no cap).

    >>> plan = plan_to_one(50)
    >>> plan.convolutions, str(plan)
    (8, '50x50 > 48x48 > 46x46 | MP > 23x23 > 21x21 > 19x19 | MP > 9x9 > 7x7 > 5x5 > 3x3 > 1x1')
    >>> plan_to_one(400, convs_before_pool=5, max_pools=4).convolutions
    27
    """
    _check_int("size", size, 1)
    _check_int("kernel_size", kernel_size, 2)
    _check_int("convs_before_pool", convs_before_pool, 0)
    if max_pools is not None:
        _check_int("max_pools", max_pools, 0)
    shrink = kernel_size - 1
    pool_cap = max_pools if max_pools is not None else size.bit_length()

    @lru_cache(maxsize=None)
    def best(n: int, since_pool: int, pools_left: int) -> tuple | None:
        # Returns the shortest remaining path (a tuple of steps after n) or None.
        if n == 1:
            return ()
        options = []
        if n - shrink >= 1:
            rest = best(n - shrink, min(since_pool + 1, convs_before_pool), pools_left)
            if rest is not None:
                options.append((n - shrink,) + rest)
        if pools_left > 0 and since_pool >= convs_before_pool and n // 2 > 1:
            rest = best(n // 2, 0, pools_left - 1)
            if rest is not None:
                options.append(("MP", n // 2) + rest)
        if not options:
            return None
        return min(options, key=_conv_count)

    path = best(size, 0, pool_cap)
    if path is None:
        raise ValueError(
            f"{size}x{size} cannot reach exactly 1x1 with {kernel_size}x{kernel_size} convolutions "
            f"under these rules (at least {convs_before_pool} convolutions before each pool, "
            f"at most {pool_cap} pools): try another size or allow more pools."
        )
    return PoolingPlan(steps=(size,) + path)
