"""Hand-designed 3x3 kernels, and applying a bank of them to an image.

Before networks learned their own filters, people wrote them by hand. The
classic ones live here by name, as 3x3 float tensors. :func:`apply_kernels`
slides several of them over one image and returns one output channel per
kernel: one kernel, one channel, always.

>>> kernel("sobel_x")
tensor([[-1.,  0.,  1.],
        [-2.,  0.,  2.],
        [-1.,  0.,  1.]])
>>> apply_kernels(torch.zeros(5, 5), ["identity", "box_blur"]).shape
torch.Size([2, 5, 5])
"""
from __future__ import annotations

from typing import Sequence, Union

import torch
import torch.nn.functional as F

from ..checks.guard import solves

__all__ = ["KERNELS", "KERNEL_DESCRIPTIONS", "kernel", "kernel_names", "kernel_bank", "apply_kernels"]

# Rows top to bottom. Values only: the descriptions below say what each one looks for.
_VALUES: dict[str, list[list[float]]] = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "vertical_line": [[-1, 2, -1], [-1, 2, -1], [-1, 2, -1]],
    "horizontal_line": [[-1, -1, -1], [2, 2, 2], [-1, -1, -1]],
    "diagonal_line": [[2, -1, -1], [-1, 2, -1], [-1, -1, 2]],
    "sobel_x": [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],
    "sobel_y": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
    "laplacian": [[0, 1, 0], [1, -4, 1], [0, 1, 0]],
    "box_blur": [[1 / 9] * 3] * 3,
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
}

#: Kernel name -> what a large positive response means.
KERNEL_DESCRIPTIONS: dict[str, str] = {
    "identity": "copies the image: the centre weight is 1, all others 0",
    "vertical_line": "a thin bright vertical line (each row is -1, 2, -1)",
    "horizontal_line": "a thin bright horizontal line (each column is -1, 2, -1)",
    "diagonal_line": "a thin bright line from top-left to bottom-right",
    "sobel_x": "brightness rising from left to right (a vertical edge)",
    "sobel_y": "brightness falling from top to bottom (a horizontal edge)",
    "laplacian": "a pixel darker than its four neighbours (negative on bright spots and lines)",
    "box_blur": "the local average: a 1/9 box that smooths the image",
    "sharpen": "the pixel minus its neighbours' excess: edges get crisper",
}

#: Kernel name -> 3x3 tensor. Prefer :func:`kernel`, which returns a copy you may change.
KERNELS: dict[str, torch.Tensor] = {name: torch.tensor(v, dtype=torch.float32) for name, v in _VALUES.items()}

KernelLike = Union[str, torch.Tensor, Sequence[Sequence[float]]]


def kernel_names() -> list[str]:
    """Names accepted by :func:`kernel`, in a teaching order.

    >>> kernel_names()[:3]
    ['identity', 'vertical_line', 'horizontal_line']
    """
    return list(KERNELS)


@solves("a1_kernels_channels")
def kernel(name: str) -> torch.Tensor:
    """A fresh copy of the named 3x3 kernel (float32).

    >>> kernel("laplacian").sum().item()
    0.0
    """
    try:
        return KERNELS[name].clone()
    except KeyError:
        raise ValueError(f"unknown kernel {name!r}; the named kernels are: {', '.join(KERNELS)}") from None


def _as_kernel(k: KernelLike) -> torch.Tensor:
    if isinstance(k, str):
        return kernel(k)
    t = torch.as_tensor(k, dtype=torch.float32)
    if t.dim() != 2:
        raise ValueError(f"a kernel is a 2-D grid of weights, got shape {tuple(t.shape)}")
    return t


@solves("a1_kernels_channels")
def kernel_bank(kernels: Sequence[KernelLike], in_channels: int = 1) -> torch.Tensor:
    """Stack 2-D kernels into a conv weight of shape ``(len(kernels), in_channels, k, k)``.

    A kernel always has as many channels as its input: with ``in_channels=3``
    each 2-D kernel is copied onto the three channels, so a "3x3" kernel on an
    RGB image is really 3x3x3.

    >>> kernel_bank(["sobel_x", "sobel_y"], in_channels=3).shape
    torch.Size([2, 3, 3, 3])
    """
    if len(kernels) == 0:
        raise ValueError("give at least one kernel")
    grids = [_as_kernel(k) for k in kernels]
    if len({tuple(g.shape) for g in grids}) != 1:
        raise ValueError(f"all kernels in a bank must have the same size, got {[tuple(g.shape) for g in grids]}")
    bank = torch.stack(grids)[:, None]  # (K, 1, k, k)
    return bank.repeat(1, in_channels, 1, 1)


@solves("a1_kernels_channels")
def apply_kernels(
    image: torch.Tensor,
    kernels: Sequence[KernelLike] | torch.Tensor,
    padding: int = 1,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Convolve ``image`` with a bank of kernels; returns ``(K, H', W')``, one channel per kernel.

    ``image`` is ``(H, W)`` or ``(C, H, W)``. ``kernels`` is a list of names or
    2-D grids (each copied onto every input channel, see :func:`kernel_bank`),
    or a ready weight tensor ``(K, C, k, k)``. ``padding=1`` keeps a 3x3
    output the same size as the input.

    >>> img = torch.zeros(7, 7); img[:, 3] = 1.0        # a vertical line
    >>> out = apply_kernels(img, ["vertical_line", "horizontal_line"])
    >>> out[0, 3, 3].item(), out[1, 3, 3].item()       # strong on the line / nothing
    (6.0, 0.0)
    """
    x = torch.as_tensor(image, dtype=torch.float32)
    if x.dim() == 2:
        x = x[None]
    if x.dim() != 3:
        raise ValueError(f"image must be (H, W) or (C, H, W), got shape {tuple(x.shape)}")
    if isinstance(kernels, torch.Tensor) and kernels.dim() == 4:
        weight = kernels.to(torch.float32)
        if weight.shape[1] != x.shape[0]:
            raise ValueError(
                f"the kernels have {weight.shape[1]} channels but the image has {x.shape[0]}: "
                "a kernel needs as many channels as its input"
            )
    else:
        weight = kernel_bank(list(kernels), in_channels=x.shape[0])
    return F.conv2d(x[None], weight, bias=bias, padding=padding)[0]
