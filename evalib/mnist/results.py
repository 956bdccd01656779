"""Looking inside a trained MNIST model: predictions, mistakes, kernels and the output units.

Everything here computes and returns tensors or small dataclasses;
:mod:`evalib.plots` draws them. The last group of functions measures the
lesson-5 bug: which output units (class scores) ever become positive, and
whether any gradient reaches them.

>>> import torch, torch.nn as nn
>>> from torch.utils.data import DataLoader, TensorDataset
>>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3), nn.ReLU(), nn.LogSoftmax(dim=1))
>>> loader = DataLoader(TensorDataset(torch.randn(8, 1, 2, 2), torch.zeros(8, dtype=torch.long)), batch_size=4)
>>> units = output_units(net, loader)
>>> units.scores.shape, len(units.positive_fraction)
(torch.Size([8, 3]), 3)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from .training import pick_device

__all__ = [
    "Predictions",
    "Mistakes",
    "OutputUnits",
    "predict",
    "confusion_matrix",
    "misclassified",
    "predicted_class_counts",
    "first_layer_kernels",
    "feature_maps",
    "last_layer",
    "output_units",
    "output_unit_gradients",
]


@dataclass
class Predictions:
    """A model's outputs on a whole loader, in the loader's order."""

    log_probs: torch.Tensor
    predicted: torch.Tensor
    targets: torch.Tensor
    images: torch.Tensor

    @property
    def accuracy(self) -> float:
        return float((self.predicted == self.targets).float().mean()) if len(self.targets) else float("nan")


def predict(model: nn.Module, loader: DataLoader, device=None, *, no_grad: bool = True) -> Predictions:
    """Run ``model`` in eval mode over ``loader``; ``no_grad=False`` builds the autograd graph too (same numbers, more memory)."""
    device = pick_device(device)
    model.to(device).eval()
    outs, targets, images = [], [], []
    with torch.set_grad_enabled(not no_grad):
        for x, y in loader:
            outs.append(model(x.to(device)).detach().cpu())
            targets.append(y)
            images.append(x)
    log_probs = torch.cat(outs)
    return Predictions(log_probs, log_probs.argmax(dim=1), torch.cat(targets), torch.cat(images))


def confusion_matrix(predictions: Predictions, num_classes: int = 10) -> torch.Tensor:
    """Counts ``[true class, predicted class]``: the diagonal holds the correct answers.

    >>> p = Predictions(torch.zeros(3, 2), torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]), torch.zeros(3))
    >>> confusion_matrix(p, 2).tolist()
    [[1, 1], [0, 1]]
    """
    index = predictions.targets * num_classes + predictions.predicted
    return torch.bincount(index, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@dataclass
class Mistakes:
    """Misclassified images, most confident mistakes first."""

    images: torch.Tensor
    predicted: torch.Tensor
    targets: torch.Tensor
    confidence: torch.Tensor  # probability the model gave its (wrong) answer
    total: int  # how many mistakes there were in all


def misclassified(predictions: Predictions, n: int = 24) -> Mistakes:
    """The ``n`` mistakes the model was most sure of."""
    wrong = torch.nonzero(predictions.predicted != predictions.targets).flatten()
    confidence = predictions.log_probs[wrong, predictions.predicted[wrong]].exp()
    order = torch.argsort(confidence, descending=True)[:n]
    pick = wrong[order]
    return Mistakes(
        predictions.images[pick], predictions.predicted[pick], predictions.targets[pick], confidence[order], len(wrong)
    )


def predicted_class_counts(predictions: Predictions, num_classes: int = 10) -> torch.Tensor:
    """How often each class was predicted; a healthy model predicts each about as often as it occurs."""
    return torch.bincount(predictions.predicted, minlength=num_classes)


def _first_conv(model: nn.Module) -> nn.Conv2d:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            return module
    raise ValueError(f"{type(model).__name__} has no Conv2d layer")


def first_layer_kernels(model: nn.Module) -> torch.Tensor:
    """The first convolution's weights ``(out_channels, in_channels, k, k)``, detached, on the CPU."""
    return _first_conv(model).weight.detach().cpu().clone()


def feature_maps(model: nn.Module, image: torch.Tensor) -> torch.Tensor:
    """What the first convolution outputs for one ``image`` ``(C, H, W)``: ``(out_channels, H', W')``."""
    conv = _first_conv(model)
    with torch.no_grad():
        return conv(image.unsqueeze(0).to(conv.weight.device)).squeeze(0).cpu()


def last_layer(model: nn.Module) -> nn.Module:
    """The last Conv2d or Linear layer the model registers: the one that produces the class scores."""
    found = None
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            found = module
    if found is None:
        raise ValueError(f"{type(model).__name__} has no Conv2d or Linear layer")
    return found


@dataclass
class OutputUnits:
    """The class scores straight out of the last layer, before any activation, over many images.

    ``positive_fraction[c]``: share of images on which class ``c``'s score is
    above zero. A ReLU on the scores passes only those; a unit whose score is
    never positive (``dead``) always outputs 0 and gets no gradient.
    ``negative_per_image``: on average, how many of the ten scores are below
    zero for one image; a healthy network says "not this class" to most.
    """

    scores: torch.Tensor
    positive_fraction: torch.Tensor
    mean_score: torch.Tensor
    dead: torch.Tensor
    negative_per_image: float

    @property
    def silent_fraction(self) -> float:
        """Share of images on which no score is positive: after a final ReLU all ten are 0, a tie."""
        return float((self.scores <= 0).all(dim=1).float().mean())

    @property
    def dead_classes(self) -> list[int]:
        return torch.nonzero(self.dead).flatten().tolist()

    def __str__(self) -> str:
        shares = ", ".join(f"{c}: {p:.0%}" for c, p in enumerate(self.positive_fraction.tolist()))
        return (
            f"{len(self.dead_classes)} dead output unit(s) {self.dead_classes}; "
            f"share of images with a positive score per class: {shares}; "
            f"{self.negative_per_image:.1f} of the scores are negative per image"
        )


def output_units(model: nn.Module, loader: DataLoader, device=None, limit: int | None = None) -> OutputUnits:
    """Record the last layer's raw output (see :func:`last_layer`) on the images of ``loader``."""
    device = pick_device(device)
    model.to(device).eval()
    captured: list[torch.Tensor] = []
    handle = last_layer(model).register_forward_hook(lambda m, i, out: captured.append(out.detach().flatten(1).cpu()))
    seen = 0
    try:
        with torch.no_grad():
            for x, _ in loader:
                model(x.to(device))
                seen += len(x)
                if limit is not None and seen >= limit:
                    break
    finally:
        handle.remove()
    scores = torch.cat(captured)[:limit]
    positive = (scores > 0).float().mean(dim=0)
    return OutputUnits(
        scores=scores,
        positive_fraction=positive,
        mean_score=scores.mean(dim=0),
        dead=positive == 0,
        negative_per_image=float((scores < 0).float().sum(dim=1).mean()),
    )


def output_unit_gradients(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device=None) -> torch.Tensor:
    """Gradient norm reaching each output unit's weights (one per class) from one batch's loss.

    Exactly zero for a unit whose score a final ReLU has cut to 0 on every
    image of the batch: no learning rate, large or small, can move it.
    """
    device = pick_device(device)
    model.to(device).eval()  # eval mode: dropout and batch statistics stay out of the measurement
    layer = last_layer(model)
    model.zero_grad()
    F.nll_loss(model(images.to(device)), labels.to(device)).backward()
    grad = layer.weight.grad.detach().flatten(1)
    if layer.bias is not None:
        grad = torch.cat([grad, layer.bias.grad.detach().unsqueeze(1)], dim=1)
    model.zero_grad()
    return grad.norm(dim=1).cpu()
