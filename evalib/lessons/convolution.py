"""2D convolution written by hand, twice: with plain loops, and vectorized.

Both functions take the same arguments as :func:`torch.nn.functional.conv2d`
(input, weight, bias, stride, padding) and give the same result, so you can
check your understanding against PyTorch. Like PyTorch (and every deep
learning library) they compute a cross-correlation: the kernel is not
flipped.

* :func:`conv2d_loops` spells out every multiply and add; it is slow and
  meant to be read.
* :func:`conv2d_vectorised` cuts the padded input into patches and multiplies
  all patches by all kernels in one ``einsum``.

>>> x = torch.arange(16.0).reshape(1, 1, 4, 4)
>>> w = torch.ones(1, 1, 3, 3)
>>> conv2d_loops(x, w)
tensor([[[[45., 54.],
          [81., 90.]]]])
>>> torch.equal(conv2d_vectorised(x, w), conv2d_loops(x, w))
True
"""
from __future__ import annotations

from typing import Union

import torch
import torch.nn.functional as F

from ..checks.guard import solves

__all__ = ["conv2d_loops", "conv2d_vectorised"]

Pair = Union[int, tuple[int, int]]


def _pair(value: Pair, name: str, minimum: int) -> tuple[int, int]:
    a, b = (value, value) if isinstance(value, int) else tuple(value)
    if a < minimum or b < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(a), int(b)


def _prepare(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, stride: Pair, padding: Pair):
    batched = x.dim() == 4
    if x.dim() == 3:
        x = x[None]
    if x.dim() != 4:
        raise ValueError(f"input must be (N, C, H, W) or (C, H, W), got shape {tuple(x.shape)}")
    if weight.dim() != 4:
        raise ValueError(f"weight must be (C_out, C_in, kH, kW), got shape {tuple(weight.shape)}")
    if weight.shape[1] != x.shape[1]:
        raise ValueError(
            f"the input has {x.shape[1]} channels but each kernel has {weight.shape[1]}: "
            "a kernel must have as many channels as its input"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(f"bias must hold one number per kernel ({weight.shape[0]}), got shape {tuple(bias.shape)}")
    sh, sw = _pair(stride, "stride", 1)
    ph, pw = _pair(padding, "padding", 0)
    kh, kw = weight.shape[-2:]
    if x.shape[2] + 2 * ph < kh or x.shape[3] + 2 * pw < kw:
        raise ValueError(
            f"a {kh}x{kw} kernel does not fit a {x.shape[2]}x{x.shape[3]} input with padding {padding!r}"
        )
    return batched, x, (sh, sw), (ph, pw)


@solves("a1_kernels_channels")
def conv2d_loops(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: Pair = 1,
    padding: Pair = 0,
) -> torch.Tensor:
    """Convolution with explicit loops: every output value is a sum of products plus a bias.

    ``x`` is ``(N, C_in, H, W)`` (or one image ``(C_in, H, W)``), ``weight`` is
    ``(C_out, C_in, kH, kW)``. Slow on purpose: read it, do not train with it.

    >>> x = torch.tensor([[[0., 1., 0.], [0., 1., 0.], [0., 1., 0.]]])   # one channel, a vertical line
    >>> w = torch.tensor([[[[-1., 2., -1.]] * 3]])                        # the vertical-line kernel
    >>> conv2d_loops(x, w, bias=torch.tensor([0.5]))
    tensor([[[6.5000]]])
    """
    batched, x, (sh, sw), (ph, pw) = _prepare(x, weight, bias, stride, padding)
    n_images, c_in, height, width = x.shape
    c_out, _, kh, kw = weight.shape
    out_h = (height + 2 * ph - kh) // sh + 1
    out_w = (width + 2 * pw - kw) // sw + 1

    # Python lists are much faster than indexing a tensor one number at a time.
    pixels = F.pad(x, (pw, pw, ph, ph)).tolist()  # zero padding on every side
    weights = weight.tolist()
    biases = bias.tolist() if bias is not None else [0.0] * c_out

    result = [[[[0.0] * out_w for _ in range(out_h)] for _ in range(c_out)] for _ in range(n_images)]
    for n in range(n_images):
        for o in range(c_out):  # one kernel -> one output channel
            for i in range(out_h):
                for j in range(out_w):
                    top, left = i * sh, j * sw  # where the kernel sits on the padded input
                    total = biases[o]
                    for c in range(c_in):  # the kernel's depth covers every input channel
                        for u in range(kh):
                            for v in range(kw):
                                total += weights[o][c][u][v] * pixels[n][c][top + u][left + v]
                    result[n][o][i][j] = total
    out = torch.tensor(result, dtype=x.dtype)
    return out if batched else out[0]


@solves("a1_kernels_channels")
def conv2d_vectorised(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: Pair = 1,
    padding: Pair = 0,
) -> torch.Tensor:
    """Convolution as "cut into patches, then one big multiply".

    ``Tensor.unfold`` gives a view of every ``kH x kW`` window of the padded
    input (no copying); ``einsum`` multiplies each window by each kernel and
    sums over channels and window positions.

    >>> x, w, b = torch.randn(2, 3, 9, 9), torch.randn(4, 3, 3, 3), torch.randn(4)
    >>> got = conv2d_vectorised(x, w, b, stride=2, padding=1)
    >>> torch.allclose(got, F.conv2d(x, w, b, stride=2, padding=1), atol=1e-5)
    True
    """
    batched, x, (sh, sw), (ph, pw) = _prepare(x, weight, bias, stride, padding)
    kh, kw = weight.shape[-2:]
    padded = F.pad(x, (pw, pw, ph, ph))
    # (N, C, H, W) -> (N, C, out_h, out_w, kH, kW): one kH x kW window per output position.
    windows = padded.unfold(2, kh, sh).unfold(3, kw, sw)
    out = torch.einsum("ncijuv,ocuv->noij", windows, weight)
    if bias is not None:
        out = out + bias[None, :, None, None]
    return out if batched else out[0]
