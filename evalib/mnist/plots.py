"""Figures for lessons 4 and 5: training curves, confusion matrix, mistakes, kernels, output units.

Each function draws what :mod:`evalib.training` or :mod:`evalib.results`
computed and returns the matplotlib ``Figure``. Several results can be put
side by side by passing a dict ``{"name": result}``. pyplot is imported
inside the functions, so ``import evalib`` does not load it.

>>> import torch
>>> fig = plot_class_histogram({"a": torch.ones(10, dtype=torch.long), "b": torch.arange(10)})
>>> len(fig.axes)
2
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from ..lessons.plots import _tiles
from .results import Mistakes, OutputUnits
from .training import History

__all__ = [
    "plot_history",
    "plot_confusion",
    "plot_misclassified",
    "plot_kernels",
    "plot_feature_maps",
    "plot_class_histogram",
    "plot_output_units",
]


def _named(results, kind) -> dict:
    return dict(results) if isinstance(results, Mapping) else {"": results}


def _running_mean(values: list[float], window: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return v
    window = max(1, min(window, len(v)))
    cumulative = np.cumsum(np.insert(v, 0, 0.0))
    out = np.empty_like(v)
    for i in range(len(v)):
        lo = max(0, i + 1 - window)
        out[i] = (cumulative[i + 1] - cumulative[lo]) / (i + 1 - lo)
    return out


def plot_history(histories: History | Mapping[str, History], window: int = 20):
    """Training loss and accuracy per batch (running mean over ``window`` batches), one line per history.

    The test accuracy after each epoch is marked with a dot on the accuracy
    panel, and its value (the last epoch's) is written in that panel's legend,
    where no curve can hide it.
    """
    import matplotlib.pyplot as plt

    named = _named(histories, History)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 3.6))
    for name, h in named.items():
        steps = np.arange(1, len(h.batches) + 1)
        line, = ax_loss.plot(steps, _running_mean([b.loss for b in h.batches], window), label=name or None)
        tested = f"test {h.final.test_accuracy:.1%}" if h.epochs else ""
        label = f"{name} ({tested})" if name and tested else (name or tested or None)
        ax_acc.plot(steps, 100 * _running_mean([b.accuracy for b in h.batches], window), color=line.get_color(), label=label)
        per_epoch = len(h.batches) / max(len(h.epochs), 1)
        for e in h.epochs:
            ax_acc.plot(e.epoch * per_epoch, 100 * e.test_accuracy, "o", color=line.get_color())
    ax_loss.set(xlabel="batch", ylabel="training loss (NLL)", title="loss")
    ax_acc.set(xlabel="batch", ylabel="accuracy (%)", title="accuracy (dot: held-out digits after the epoch)", ylim=(0, 100))
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    if any(named):
        ax_loss.legend(fontsize=8)
    if any(named) or any(h.epochs for h in named.values()):
        ax_acc.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


def plot_confusion(matrix: torch.Tensor, title: str = "confusion matrix"):
    """Rows: the true digit; columns: the predicted one; each cell shows its count."""
    import matplotlib.pyplot as plt

    m = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    image = ax.imshow(m, cmap="Blues")
    n = m.shape[0]
    ax.set(xticks=range(n), yticks=range(n), xlabel="predicted", ylabel="true", title=title)
    threshold = m.max() / 2 if m.size else 0
    for i in range(n):
        for j in range(n):
            if m[i, j]:
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=7,
                        color="white" if m[i, j] > threshold else "black")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def _grid(count: int, cols: int, size: float):
    fig, axes, _ = _tiles(count, cols, size, 0.25)
    return fig, axes


def plot_misclassified(mistakes: Mistakes, cols: int = 8):
    """The mistakes with "true > predicted (confidence)" above each digit, drawn white on black."""
    count = len(mistakes.targets)
    fig, axes = _grid(count, cols, 1.5)
    for ax, image, t, p, c in zip(axes, mistakes.images, mistakes.targets, mistakes.predicted, mistakes.confidence):
        ax.imshow(image.squeeze(0).numpy(), cmap="gray")  # white strokes on black, as everywhere
        ax.set_title(f"{int(t)} > {int(p)} ({float(c):.0%})", fontsize=8)
    fig.suptitle(f"{count} most confident of {mistakes.total} mistakes (true > predicted)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_kernels(kernels: torch.Tensor, cols: int = 8):
    """First-layer kernels ``(out, 1, k, k)``: red positive, blue negative, white zero."""
    count = kernels.shape[0]
    limit = float(kernels.abs().max()) or 1.0
    fig, axes = _grid(count, cols, 1.0)
    for index, (ax, k) in enumerate(zip(axes, kernels)):
        ax.imshow(k[0].numpy(), cmap="bwr", vmin=-limit, vmax=limit)
        ax.set_title(str(index), fontsize=7)
    fig.suptitle(f"{count} first-layer kernels of {kernels.shape[-2]}x{kernels.shape[-1]}", fontsize=10)
    fig.tight_layout()
    return fig


def plot_feature_maps(image: torch.Tensor, maps: torch.Tensor, cols: int = 8):
    """The input digit, then one map per first-layer kernel (same colours as :func:`plot_kernels`)."""
    count = maps.shape[0] + 1
    fig, axes = _grid(count, cols, 1.2)
    axes = list(axes)
    axes[0].imshow(image.squeeze(0).numpy(), cmap="gray")
    axes[0].set_title("input", fontsize=7)
    limit = float(maps.abs().max()) or 1.0
    for index, (ax, fmap) in enumerate(zip(axes[1:], maps)):
        ax.imshow(fmap.numpy(), cmap="bwr", vmin=-limit, vmax=limit)
        ax.set_title(str(index), fontsize=7)
    fig.suptitle("what each first-layer kernel responds to (red: strong positive)", fontsize=10)
    fig.tight_layout()
    return fig


def plot_class_histogram(counts: torch.Tensor | Mapping[str, torch.Tensor], expected: float | None = None):
    """How many times each digit was predicted, one panel per model; ``expected`` draws a reference line."""
    import matplotlib.pyplot as plt

    named = _named(counts, torch.Tensor)
    fig, axes = plt.subplots(1, len(named), figsize=(4.6 * len(named), 3.2), squeeze=False, sharey=True)
    for ax, (name, c) in zip(axes.flat, named.items()):
        c = np.asarray(c)
        ax.bar(range(len(c)), c, color=["tab:blue" if v else "tab:red" for v in c])
        never = [str(i) for i, v in enumerate(c) if v == 0]
        ax.set(xticks=range(len(c)), xlabel="predicted digit", title=name)
        if never:
            ax.set_title(f"{name}\nnever predicted: {', '.join(never)}", fontsize=10)
        if expected is not None:
            ax.axhline(expected, color="gray", ls="--", lw=1)
    axes.flat[0].set_ylabel("images")
    fig.tight_layout()
    return fig


def plot_output_units(units: OutputUnits | Mapping[str, OutputUnits]):
    """Share of images on which each class score comes out of the last layer positive; dead units in red."""
    import matplotlib.pyplot as plt

    named = _named(units, OutputUnits)
    fig, axes = plt.subplots(1, len(named), figsize=(4.6 * len(named), 3.2), squeeze=False, sharey=True)
    for ax, (name, u) in zip(axes.flat, named.items()):
        share = 100 * u.positive_fraction.numpy()
        ax.bar(range(len(share)), share, color=["tab:red" if d else "tab:green" for d in u.dead.tolist()])
        for c in u.dead_classes:
            ax.text(c, 2, "dead", rotation=90, ha="center", va="bottom", fontsize=8, color="tab:red")
        ax.set(xticks=range(len(share)), xlabel="output unit (class)", ylim=(0, 100),
               title=f"{name}\n{len(u.dead_classes)} dead, {u.negative_per_image:.1f}/10 scores negative per image")
    axes.flat[0].set_ylabel("% of images with score > 0")
    fig.tight_layout()
    return fig
