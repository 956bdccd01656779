"""Shift, rotation and scale of digits, and how much max pooling shrugs them off."""
from __future__ import annotations

import pytest
import torch

from evalib.lessons.images import mnist_digits
from evalib.lessons.invariance import pooling_invariance, transform_images

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    return mnist_digits()[0][::25]  # 200 digits, 20 of each class


def test_shift_moves_pixels_exactly_and_fills_with_black():
    x = torch.arange(1.0, 17.0).reshape(1, 4, 4)
    right = transform_images(x, "shift", 1)
    assert torch.equal(right[0, :, 1:], x[0, :, :3]) and right[0, :, 0].abs().sum() == 0
    left = transform_images(x, "shift", -2)
    assert torch.equal(left[0, :, :2], x[0, :, 2:])
    with pytest.raises(ValueError, match="whole pixels"):
        transform_images(x, "shift", 0.5)


def test_rotation_and_scale_match_simple_cases():
    x = torch.rand(3, 28, 28)
    assert torch.allclose(transform_images(x, "scale", 1.0), x, atol=1e-5)
    quarter = transform_images(x, "rotate", 90)
    assert torch.allclose(quarter, torch.rot90(x, 1, dims=(1, 2)), atol=1e-4) or torch.allclose(
        quarter, torch.rot90(x, -1, dims=(1, 2)), atol=1e-4
    )
    dot = torch.zeros(1, 28, 28)
    dot[0, 10:18, 10:18] = 1.0
    assert transform_images(dot, "scale", 2.0).sum() > 3 * dot.sum()  # zooming in makes it bigger
    with pytest.raises(ValueError):
        transform_images(x, "shear", 1)


@pytest.mark.parametrize("kind, amounts", [("shift", [1, 2]), ("rotate", [5, 10]), ("scale", [0.9, 1.1])])
def test_each_max_pool_makes_the_picture_care_less(digits, kind, amounts):
    rows = pooling_invariance(digits, kind, amounts, pools=[0, 1, 2])
    for amount in amounts:
        changes = [r.change for r in rows if r.amount == amount]
        assert changes[0] > changes[1] > changes[2] > 0  # slight invariance: smaller, never zero


def test_bigger_transforms_change_more(digits):
    rows = pooling_invariance(digits, "rotate", [5, 20], pools=[1])
    assert rows[0].change < rows[1].change


def test_the_measure_is_a_relative_change(digits):
    (row,) = pooling_invariance(digits[:1], "shift", [0], pools=[0])
    assert row.change == 0.0
    flat = torch.ones(1, 8, 8)
    (row,) = pooling_invariance(flat, "shift", [1], pools=[0])
    assert row.change == pytest.approx(1 / 8 ** 0.5)  # one column of 8 lost out of 64 ones
