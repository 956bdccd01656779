"""Figures for lessons 1-3: image grids, kernels with their weights, depth curves and invariance curves.

Each function draws what another evalib function computed and returns the
matplotlib ``Figure``; in a notebook it shows up below the cell. pyplot is
imported inside the functions, so ``import evalib`` does not load it.

>>> import torch
>>> fig = show_images([torch.zeros(4, 4), torch.eye(4)], ["blank", "diagonal"])
>>> len(fig.axes)
2
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch

from .initialization import SCHEMES, DepthRecord
from .invariance import InvarianceRow

__all__ = ["show_images", "show_kernels", "plot_depth", "plot_invariance"]

# One colour per initialization scheme, the same in every figure.
_SCHEME_COLOURS = {
    "constant": "tab:gray",
    "normal_1": "tab:purple",
    "normal_0.01": "tab:blue",
    "pytorch_default": "tab:orange",
    "xavier_uniform": "tab:olive",
    "xavier_normal": "tab:green",
    "he_uniform": "tab:pink",
    "he_normal": "tab:red",
}

# The unit in which each transform of :mod:`evalib.lessons.invariance` is measured.
_TRANSFORM_UNITS = {"shift": ("", " px"), "rotate": ("", "\u00b0"), "scale": ("x", "")}


def _as_picture(image: Any) -> np.ndarray:
    array = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3):
        array = array[0] if array.shape[0] == 1 else np.clip(array.transpose(1, 2, 0), 0, 1)
    return array


def show_images(
    images: Sequence[Any],
    titles: Sequence[str] | None = None,
    cols: int | None = None,
    signed: bool = False,
    size: float = 2.2,
):
    """Show images side by side; ``signed=True`` colours positive red and negative blue around 0.

    With ``signed=True``, images without negative values are still shown in grey.

    Images are ``(H, W)``, ``(1, H, W)`` or ``(3, H, W)`` tensors or arrays.
    Grey images are drawn as MNIST stores them: 0 black, bright strokes white.
    """
    count = len(images)
    fig, _, used = _tiles(count, cols or min(count, 6), size, 0.3)
    for index, ax in enumerate(used):
        picture = _as_picture(images[index])
        if signed and picture.ndim == 2 and float(picture.min()) < 0:
            limit = float(np.abs(picture).max()) or 1.0
            ax.imshow(picture, cmap="RdBu_r", vmin=-limit, vmax=limit)
        else:
            ax.imshow(picture, cmap="gray")
        if titles is not None:
            ax.set_title(titles[index], fontsize=9)
    fig.tight_layout()
    return fig


def _tiles(count: int, cols: int, size: float, title_space: float, extra_width: float = 0.0):
    """A figure of ``count`` square tiles, ``cols`` per row, without ticks: (figure, every axes,
    the first ``count`` axes); the tiles left over in the last row are hidden."""
    import matplotlib.pyplot as plt

    rows = max(1, math.ceil(count / cols))
    fig, grid = plt.subplots(rows, cols, figsize=(size * cols + extra_width, size * rows + title_space * rows),
                             squeeze=False)
    axes = list(grid.flat)
    for index, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_visible(index < count)
    return fig, axes, axes[:count]


def _weight_text(value: float) -> str:
    if abs(value - round(value)) < 1e-6:
        return str(int(round(value)))
    return f"{value:.2f}".replace("0.", ".", 1) if abs(value) < 1 else f"{value:.1f}"


def show_kernels(
    kernels: Sequence[Any],
    titles: Sequence[str] | None = None,
    cols: int | None = None,
    size: float = 1.5,
):
    """Draw small kernels with every weight written in its cell, on one shared colour scale.

    Red is positive, blue negative, white zero; the colour bar gives the scale,
    which is the same for all kernels, so a 1/9 box blur shows as nine pale red
    cells reading ``.11`` and the identity as one dark red centre.

    >>> import torch
    >>> fig = show_kernels([torch.eye(3), torch.full((3, 3), 1 / 9)], ["eye", "blur"])
    >>> [t.get_text() for t in fig.axes[1].texts][:2]
    ['.11', '.11']
    """
    arrays = [np.asarray(k.detach().cpu() if isinstance(k, torch.Tensor) else k, dtype=float) for k in kernels]
    count = len(arrays)
    limit = max((float(np.abs(a).max()) for a in arrays), default=1.0) or 1.0
    fig, axes, used = _tiles(count, cols or min(count, 9), size, 0.35, extra_width=0.8)
    image = None
    for index, ax in enumerate(used):
        weights = arrays[index]
        image = ax.imshow(weights, cmap="RdBu_r", vmin=-limit, vmax=limit)
        for (i, j), value in np.ndenumerate(weights):
            ax.text(j, i, _weight_text(value), ha="center", va="center", fontsize=8,
                    color="white" if abs(value) > 0.6 * limit else "black")
        if titles is not None:
            ax.set_title(titles[index], fontsize=9)
    if image is not None:
        fig.colorbar(image, ax=axes, fraction=0.02, pad=0.02, label="weight")
    return fig


def plot_depth(records: Sequence[DepthRecord], value: str = "act_std", title: str | None = None):
    """One line per record: ``act_std``, ``grad_norm`` or ``weight_grad_norm`` per layer, log scale.

    Points that overflowed (inf or nan) or underflowed to exactly 0 are left out.
    Each scheme keeps its colour from one figure to the next.
    """
    import matplotlib.pyplot as plt

    labels = {"act_std": "activation std", "grad_norm": "gradient norm at the layer's output",
              "weight_grad_norm": "weight gradient norm", "act_mean": "activation mean"}
    if value not in labels:
        raise ValueError(f"value must be one of {', '.join(labels)}, got {value!r}")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for record in records:
        curve = np.asarray(getattr(record, value), dtype=np.float64)
        layers = np.arange(1, len(curve) + 1)
        keep = np.isfinite(curve) & (curve > 0)
        label = SCHEMES[record.scheme].label if record.scheme in SCHEMES else record.scheme
        ax.semilogy(layers[keep], curve[keep], label=label, color=_SCHEME_COLOURS.get(record.scheme))
    ax.set_xlabel("layer")
    ax.set_ylabel(labels[value])
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_invariance(rows: Sequence[InvarianceRow], title: str | None = None):
    """Relative change (in %) against the number of 2x2 pools, one line per transform amount.

    The x axis counts whole pools; each legend entry gives the amount in its
    unit (pixels for a shift, degrees for a rotation, a factor for a scale).
    """
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    for amount in sorted({r.amount for r in rows}):
        chosen = sorted((r for r in rows if r.amount == amount), key=lambda r: r.pools)
        before, after = _TRANSFORM_UNITS.get(chosen[0].kind, ("", ""))
        ax.plot([r.pools for r in chosen], [100 * r.change for r in chosen], marker="o",
                label=f"{chosen[0].kind} {before}{amount:g}{after}")
    ax.set_xticks(sorted({r.pools for r in rows}))
    ax.set_xlabel("number of 2x2 max pools")
    ax.set_ylabel("relative change (%)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
