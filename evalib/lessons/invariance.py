"""How much max pooling shrugs off small shifts, rotations and scalings.

:func:`transform_images` moves, turns or resizes images with an affine
resampling. :func:`pooling_invariance` measures how much a transform changes
the picture before and after one or more 2x2 max pools: the relative change
``||P(T(x)) - P(x)|| / ||P(x)||``, averaged over images, where ``P`` is the
pooling and ``T`` the transform. A smaller number means the pooled picture
cares less about the transform. Pooling gives only a *slight* invariance:
the change shrinks, it does not vanish.

>>> import torch
>>> x = torch.zeros(1, 8, 8); x[0, 2, 2] = 1.0
>>> transform_images(x, "shift", 1)[0, 2, 3].item()
1.0
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
import torch.nn.functional as F

__all__ = ["TRANSFORMS", "transform_images", "InvarianceRow", "pooling_invariance"]

#: Transform name -> what ``amount`` means.
TRANSFORMS = {
    "shift": "pixels to the right",
    "rotate": "degrees of rotation about the centre",
    "scale": "zoom factor (1 leaves the image as it is)",
}


def transform_images(images: torch.Tensor, kind: str, amount: float) -> torch.Tensor:
    """Shift, rotate or scale ``images`` of shape ``(N, H, W)`` about their centre.

    Pixels that come from outside the frame are 0 (black). Shifts by whole pixels
    are exact; rotations and scalings interpolate bilinearly.

    >>> x = torch.rand(2, 28, 28)
    >>> torch.allclose(transform_images(x, "rotate", 0), x, atol=1e-5)
    True
    """
    if images.dim() != 3:
        raise ValueError(f"images must be (N, H, W), got shape {tuple(images.shape)}")
    n, height, width = images.shape
    if kind == "shift":
        shift = int(round(amount))
        if shift != amount:
            raise ValueError(f"shift by whole pixels, got {amount!r}")
        out = torch.zeros_like(images)
        if shift >= 0:
            out[..., shift:] = images[..., : width - shift]
        else:
            out[..., :shift] = images[..., -shift:]
        return out
    if kind == "rotate":
        angle = math.radians(amount)
        # The grid maps output positions to input positions: turn by -angle.
        cos, sin = math.cos(angle), math.sin(angle)
        theta = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0]], dtype=images.dtype)
    elif kind == "scale":
        if amount <= 0:
            raise ValueError(f"the zoom factor must be positive, got {amount!r}")
        theta = torch.tensor([[1.0 / amount, 0.0, 0.0], [0.0, 1.0 / amount, 0.0]], dtype=images.dtype)
    else:
        raise ValueError(f"kind must be one of {', '.join(TRANSFORMS)}, got {kind!r}")
    grid = F.affine_grid(theta.expand(n, 2, 3), [n, 1, height, width], align_corners=False)
    return F.grid_sample(images[:, None], grid, mode="bilinear", padding_mode="zeros", align_corners=False)[:, 0]


@dataclass(frozen=True)
class InvarianceRow:
    """The mean relative change caused by one transform after ``pools`` 2x2 max pools."""

    kind: str
    amount: float
    pools: int
    change: float


def _pool(images: torch.Tensor, pools: int, mode: str) -> torch.Tensor:
    x = images[:, None]
    for _ in range(pools):
        x = F.max_pool2d(x, 2) if mode == "max" else F.avg_pool2d(x, 2)
    return x.flatten(1)


def pooling_invariance(
    images: torch.Tensor,
    kind: str = "shift",
    amounts: Sequence[float] = (1, 2, 3),
    pools: Sequence[int] = (0, 1, 2),
    mode: str = "max",
) -> list[InvarianceRow]:
    """Relative change caused by each transform, with 0, 1, 2 ... 2x2 pools in front.

    ``images`` is ``(N, H, W)``. ``mode="avg"`` uses average pooling instead,
    as a control: any pooling blurs a little; max pooling also keeps the
    strongest response in each window.

    >>> from evalib import mnist_digits
    >>> digits = mnist_digits()[0][::50]
    >>> rows = pooling_invariance(digits, "shift", [1], pools=[0, 1])
    >>> rows[1].change < rows[0].change
    True
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode must be 'max' or 'avg', got {mode!r}")
    images = torch.as_tensor(images, dtype=torch.float32)
    rows: list[InvarianceRow] = []
    for amount in amounts:
        moved = transform_images(images, kind, amount)
        for p in pools:
            before, after = _pool(images, p, mode), _pool(moved, p, mode)
            change = (after - before).norm(dim=1) / before.norm(dim=1).clamp_min(1e-12)
            rows.append(InvarianceRow(kind, float(amount), int(p), float(change.mean())))
    return rows
