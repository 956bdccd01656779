"""One epoch of training and a test pass, the way the lecture runs them.

The loop is deliberately plain, top to bottom: for each batch, move it to the
device, zero the gradients, run the model, compute the negative log-likelihood
of the log-probabilities it returns, backpropagate, step. A tqdm bar shows the
running loss and accuracy. Any model that returns log-probabilities
(``log_softmax``) and any loader of ``(images, labels)`` batches will do.

>>> import torch, torch.nn as nn
>>> from torch.utils.data import DataLoader, TensorDataset
>>> x = torch.randn(64, 4); y = (x[:, 0] > 0).long()
>>> loader = DataLoader(TensorDataset(x, y), batch_size=16)
>>> model = nn.Sequential(nn.Linear(4, 2), nn.LogSoftmax(dim=1))
>>> history = fit(model, loader, loader, epochs=2, lr=0.1, progress=False, device="cpu")
>>> len(history.batches), [e.epoch for e in history.epochs]
(8, [1, 2])
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

__all__ = [
    "pick_device",
    "seed_everything",
    "BatchRecord",
    "EpochRecord",
    "History",
    "train_epoch",
    "evaluate",
    "fit",
    "one_cycle_sgd",
]


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """``device`` if given, else the best available: CUDA, then Apple's MPS, then the CPU."""
    if device is not None:
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 1) -> None:
    """Seed Python, numpy and torch (CPU and GPU): call it before building a model to fix its weights."""
    random.seed(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover - numpy ships with torch
        pass
    torch.manual_seed(seed)


@dataclass(frozen=True)
class BatchRecord:
    """One training step: the batch's loss and accuracy, and the learning rate used."""

    epoch: int
    step: int
    loss: float
    accuracy: float
    lr: float


@dataclass(frozen=True)
class EpochRecord:
    """One epoch: averages over its training batches, the test pass, and how long training took."""

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    seconds: float
    images: int

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds else float("nan")

    def __str__(self) -> str:
        return (
            f"epoch {self.epoch}: train loss {self.train_loss:.4f}, accuracy {self.train_accuracy:.2%} | "
            f"test loss {self.test_loss:.4f}, accuracy {self.test_accuracy:.2%} | "
            f"{self.seconds:.1f} s ({self.images_per_second:,.0f} images/s)"
        )


@dataclass
class History:
    """What :func:`fit` saw: every batch, and one record per epoch. Plot it with ``evalib.plot_history``."""

    batches: list[BatchRecord] = field(default_factory=list)
    epochs: list[EpochRecord] = field(default_factory=list)

    @property
    def final(self) -> EpochRecord:
        return self.epochs[-1]

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.epochs) or "no epochs yet"


def train_epoch(
    model: nn.Module,
    loader: DataLoader,
    optimizer: torch.optim.Optimizer,
    device: torch.device | str = "cpu",
    *,
    scheduler=None,
    epoch: int = 1,
    history: History | None = None,
    progress: bool = True,
) -> tuple[float, float, float, int]:
    """Train ``model`` for one pass over ``loader``; return (mean loss, accuracy, seconds, images).

    ``scheduler`` (if any) steps after every batch, as a one-cycle schedule expects.
    """
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=f"epoch {epoch}", disable=not progress, leave=True, mininterval=0.5)
    start = time.perf_counter()
    for step, (images, labels) in enumerate(bar, start=1):
        images, labels = images.to(device), labels.to(device)
        optimizer.zero_grad()
        log_probs = model(images)
        loss = F.nll_loss(log_probs, labels)
        loss.backward()
        optimizer.step()
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()

        batch_loss = loss.item()
        batch_correct = (log_probs.argmax(dim=1) == labels).sum().item()
        total_loss += batch_loss * len(labels)
        correct += batch_correct
        seen += len(labels)
        if history is not None:
            history.batches.append(BatchRecord(epoch, step, batch_loss, batch_correct / len(labels), lr))
        bar.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.2%}", refresh=False)
    seconds = time.perf_counter() - start
    bar.close()
    return total_loss / max(seen, 1), correct / max(seen, 1), seconds, seen


def evaluate(model: nn.Module, loader: DataLoader, device: torch.device | str = "cpu", *, progress: bool = False) -> tuple[float, float]:
    """Mean negative log-likelihood and accuracy of ``model`` on ``loader``, without gradients."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.no_grad():
        for images, labels in tqdm(loader, desc="test", disable=not progress, leave=False):
            images, labels = images.to(device), labels.to(device)
            log_probs = model(images)
            total_loss += F.nll_loss(log_probs, labels, reduction="sum").item()
            correct += (log_probs.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
    if seen == 0:
        return float("nan"), float("nan")
    return total_loss / seen, correct / seen


def one_cycle_sgd(model: nn.Module, max_lr: float, total_steps: int, momentum: float = 0.9, weight_decay: float = 0.0):
    """SGD with Nesterov momentum and a one-cycle schedule over ``total_steps`` batches: (optimizer, scheduler)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=max_lr, momentum=momentum, nesterov=True, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps)
    return optimizer, scheduler


def fit(
    model: nn.Module,
    train_loader: DataLoader,
    test_loader: DataLoader | None = None,
    *,
    epochs: int = 1,
    lr: float = 0.01,
    momentum: float = 0.9,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler=None,
    seed: int | None = 1,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> History:
    """Train for ``epochs`` epochs, testing after each; return the :class:`History`.

    Without an ``optimizer`` this is the lecture's recipe: SGD, ``lr=0.01``,
    ``momentum=0.9``. ``seed`` reseeds torch and the training loader's
    shuffling first, so two runs with the same seed see the same batches in
    the same order (seed the model's weights yourself, with
    :func:`seed_everything`, before building it). The model is moved to
    ``device`` (default: :func:`pick_device`). With ``progress`` a bar runs
    during each epoch and one line sums the epoch up after it (the same line
    ``print(history)`` gives); ``progress=False`` prints nothing.
    """
    device = pick_device(device)
    if seed is not None:
        torch.manual_seed(seed)
        if getattr(train_loader, "generator", None) is not None:
            train_loader.generator.manual_seed(seed)
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)

    history = History()
    for epoch in range(1, epochs + 1):
        train_loss, train_acc, seconds, images = train_epoch(
            model, train_loader, optimizer, device, scheduler=scheduler, epoch=epoch, history=history, progress=progress
        )
        test_loss, test_acc = evaluate(model, test_loader, device) if test_loader is not None else (float("nan"), float("nan"))
        history.epochs.append(EpochRecord(epoch, train_loss, train_acc, test_loss, test_acc, seconds, images))
        if progress:
            print(history.epochs[-1])  # one line per epoch, under the bar: the whole record, once
    return history
