"""MNIST data: the three sources, the offline split, normalization and seeded loaders. No network."""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

import evalib
import evalib.mnist.data as data_module
from evalib.mnist.data import MnistUnavailableError, find_idx_files, load_mnist, mnist_loaders, read_idx, stratified_split


@pytest.fixture(scope="module")
def offline():
    return load_mnist("offline", verbose=False)


def _write_idx(path: Path, array: np.ndarray) -> None:
    codes = {np.dtype(np.uint8): 0x08}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    payload = header + array.tobytes()
    if path.suffix == ".gz":
        with gzip.open(path, "wb") as f:
            f.write(payload)
    else:
        path.write_bytes(payload)


def _fake_mnist(folder: Path, n_train: int = 30, n_test: int = 20, gz: bool = True) -> None:
    """A tiny folder in MNIST's own file format: digit ``k`` is a square of brightness ``k * 25``."""
    folder.mkdir(parents=True, exist_ok=True)
    end = ".gz" if gz else ""
    for split, n in (("train", n_train), ("t10k", n_test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = np.zeros((n, 28, 28), np.uint8)
        images[:, 8:20, 8:20] = (labels * 25)[:, None, None]
        _write_idx(folder / f"{split}-images-idx3-ubyte{end}", images)
        _write_idx(folder / f"{split}-labels-idx1-ubyte{end}", labels)


# --- offline subset ---------------------------------------------------------------------------


def test_offline_shapes_dtypes_and_range(offline):
    assert offline.source == "offline"
    assert offline.train_images.shape == (4500, 1, 28, 28) and offline.train_images.dtype == torch.float32
    assert offline.test_images.shape == (500, 1, 28, 28)
    assert offline.train_labels.dtype == torch.int64
    assert 0.0 <= float(offline.train_images.min()) and float(offline.train_images.max()) <= 1.0
    assert offline.test_name == "validation split"


def test_offline_split_is_stratified_disjoint_and_shuffled(offline):
    assert offline.train_labels.bincount().tolist() == [450] * 10
    assert offline.test_labels.bincount().tolist() == [50] * 10
    # the stored data is sorted by class; the split must not be
    assert len(set(offline.train_labels[:50].tolist())) > 5
    train = {tuple(x.flatten()[::7].tolist()) for x in offline.train_images[:300]}
    test = {tuple(x.flatten()[::7].tolist()) for x in offline.test_images}
    assert not train & test


def test_split_depends_only_on_the_seed():
    labels = torch.arange(10).repeat_interleave(20)
    a, b, c = stratified_split(labels, 50, seed=3), stratified_split(labels, 50, seed=3), stratified_split(labels, 50, seed=4)
    assert torch.equal(a[1], b[1]) and torch.equal(a[0], b[0])
    assert not torch.equal(a[1], c[1])
    assert sorted(torch.cat(a).tolist()) == list(range(200))
    with pytest.raises(ValueError, match="equally"):
        stratified_split(labels, 55)


def test_val_size_zero_trains_on_all_5000():
    data = load_mnist("offline", val_size=0, verbose=False)
    assert len(data.train_labels) == 5000 and len(data.test_labels) == 0


def test_normalisation_constants_are_measured_and_close_to_mnist(offline):
    stats = offline.stats
    assert stats.mean == pytest.approx(evalib.MNIST_MEAN, abs=0.01)
    assert stats.std == pytest.approx(evalib.MNIST_STD, abs=0.01)
    assert "0.1307" in str(stats) and "0.3081" in str(stats)
    loaders = mnist_loaders(offline, batch_size=500)
    train = torch.cat([x for x, _ in loaders.train])
    assert float(train.mean()) == pytest.approx(0.0, abs=1e-4)
    assert float(train.std(unbiased=False)) == pytest.approx(1.0, abs=1e-4)
    assert (loaders.mean, loaders.std) == (stats.mean, stats.std)
    assert mnist_loaders(offline, normalize="mnist").mean == 0.1307


def test_loaders_are_deterministic_under_a_seed(offline):
    def first_batches(seed):
        loader = mnist_loaders(offline, batch_size=32, seed=seed).train
        return [y for _, (_, y) in zip(range(3), loader)]

    a, b, c = first_batches(1), first_batches(1), first_batches(2)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not all(torch.equal(x, y) for x, y in zip(a, c))
    x, y = next(iter(mnist_loaders(offline, batch_size=32).train))
    assert x.shape == (32, 1, 28, 28) and x.dtype == torch.float32 and y.dtype == torch.int64


def test_loaders_unpack_and_limit(offline):
    train, test = mnist_loaders(offline, batch_size=100, limit=1000)
    assert len(train.dataset) == 1000 and len(test.dataset) == 500


# --- IDX files, folders and torchvision's layout ----------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_read_idx_round_trip(tmp_path, gz):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("x.idx" + (".gz" if gz else ""))
    _write_idx(path, array)
    assert np.array_equal(read_idx(path), array)


def test_read_idx_rejects_other_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"PK\x03\x04 not an idx file")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(tmp_path / "bad")


def test_folder_source(tmp_path, capsys):
    _fake_mnist(tmp_path / "idx")
    data = load_mnist("folder", folder=tmp_path / "idx")
    assert data.source == "folder" and data.test_name == "MNIST test set"
    assert data.train_images.shape == (30, 1, 28, 28) and data.test_images.shape == (20, 1, 28, 28)
    assert data.train_labels[:10].tolist() == list(range(10))
    assert float(data.train_images[3, 0, 10, 10]) == pytest.approx(75 / 255)
    assert "MNIST source: folder" in capsys.readouterr().out


def test_torchvision_source_reads_an_earlier_download_without_network(tmp_path):
    _fake_mnist(tmp_path / "MNIST" / "raw", gz=False)
    data = load_mnist("torchvision", root=tmp_path, download=False, verbose=False)
    assert data.source == "torchvision"
    assert data.train_images.shape == (30, 1, 28, 28) and data.test_labels.tolist()[:3] == [0, 1, 2]


def test_auto_prefers_full_mnist_then_falls_back_to_offline(tmp_path, capsys):
    _fake_mnist(tmp_path / "MNIST" / "raw", gz=False)
    assert load_mnist(root=tmp_path, download=False).source == "torchvision"
    assert "MNIST source: torchvision" in capsys.readouterr().out
    assert load_mnist(root=tmp_path / "empty", download=False).source == "offline"
    assert "MNIST source: offline" in capsys.readouterr().out


def test_test_folder_replaces_the_validation_split(tmp_path):
    _fake_mnist(tmp_path / "idx")
    data = load_mnist("offline", test_folder=tmp_path / "idx", verbose=False)
    assert data.test_name == "MNIST test set" and len(data.test_labels) == 20


def test_none_available_names_all_three_sources_and_how_to_get_them(tmp_path, monkeypatch):
    def no_network(root, train, download):
        if download:
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz (no network in tests)")
        raise RuntimeError("Dataset not found.")

    def no_package_data():
        raise FileNotFoundError("evalib/data/mnist-5000-images.idx3-ubyte.gz is missing")

    monkeypatch.setattr(data_module, "_torchvision_split", no_network)
    monkeypatch.setattr(data_module, "_offline_digits", no_package_data)
    with pytest.raises(MnistUnavailableError) as info:
        load_mnist(root=tmp_path, folder=tmp_path / "missing", download=True, verbose=False)
    message = str(info.value)
    for source in ("torchvision", "folder", "offline"):
        assert f"- {source}:" in message
    assert "no network in tests" in message and "mnist-5000-images" in message
    assert "reinstall evalib" in message and "folder=" in message and "download" in message


def test_unknown_source_is_refused():
    with pytest.raises(ValueError, match="source must be"):
        load_mnist("kaggle")


def test_real_test_set_files(mnist_test_dir):
    assert set(find_idx_files(mnist_test_dir)) == {"test"}
    images, labels = evalib.load_idx_folder(mnist_test_dir, "test")
    assert images.shape == (10000, 1, 28, 28) and labels.shape == (10000,)
    assert labels.bincount().tolist()[:2] == [980, 1135]
    assert float(images.mean()) == pytest.approx(0.1325, abs=0.001)
    with pytest.raises(FileNotFoundError, match="train"):
        evalib.load_idx_folder(mnist_test_dir, "train")
