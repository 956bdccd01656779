"""Assignment 1: kernels and channels, a convolution by hand, shapes and weights.

Each graded question of the notebook is declared here once (``a1.kernels.check(sobel_x,
sobel_y, laplacian)``); the right answers live in the source assignment's hidden tests.

>>> import torch
>>> kernels.check(torch.tensor([[-1., -2., -1.], [0., 0., 0.], [1., 2., 1.]]), None, None).parts[0].hint
'This kernel responds to changes from top to bottom: rows and columns are swapped.'
"""
from __future__ import annotations

from typing import Any

from ..checks import mode
from ..checks.compare import close
from ..checks.parse import Reading, read_size, read_tensor, read_whole_number
from ..checks.question import BoolPart, Example, FunctionPart, NamePart, NumberPart, Question, Rule, TensorPart

ASSIGNMENT = "a1_kernels_channels"


def progress() -> mode.Progress:
    """Every question of this assignment: the last check's state and how often it was checked."""
    return mode.progress(ASSIGNMENT)


# --- 2. A multi-channel convolution by hand ---------------------------------------------------------------
def _conv_inputs(spec: Any) -> tuple:
    """(x, weight, bias) from a case: [seed, in channels, out channels, height, width, kernel]."""
    import torch

    seed, c_in, c_out, height, width, k = (int(v) for v in spec)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(c_in, height, width, generator=g)
    weight = torch.randn(c_out, c_in, k, k, generator=g)
    bias = torch.randn(c_out, generator=g)
    return x, weight, bias


def _torch_conv(x, weight, bias=None):
    """What PyTorch's conv2d gives (the judge's reference; the student's code may not call it)."""
    import torch.nn.functional as F

    return F.conv2d(x[None].double(), weight.double(), None if bias is None else bias.double())[0]


def _same_tensor(got, want) -> bool:
    import torch

    return tuple(got.shape) == tuple(want.shape) and bool(torch.allclose(got.double(), want.double(), atol=1e-4))


def _conv_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    x, weight, bias = inputs
    got = reading.value
    c_out, c_in, k, _ = weight.shape
    shape = (c_out, x.shape[1] - k + 1, x.shape[2] - k + 1)
    if tuple(got.shape) != shape:
        if got.dim() == 4 or (got.dim() == 3 and got.shape[0] == c_out * c_in != c_out):
            return "The channels were not summed: each kernel gives ONE output channel, the sum over all input channels."
        if got.dim() == 3 and tuple(got.shape[1:]) == tuple(x.shape[1:]):
            return "The output keeps the input size: without padding a kxk kernel fits only H - k + 1 times down and W - k + 1 across."
        return f"One output channel per kernel, and H - k + 1 by W - k + 1 positions: shape {shape} here."
    if _same_tensor(got, _torch_conv(x, weight)):
        return "Everything matches except the bias: add bias[o] once to every value of output channel o."
    if _same_tensor(got, _torch_conv(x, weight, bias * c_in)) and c_in > 1:
        return "The bias is added once per input channel; add it once per output value, after summing the channels."
    if _same_tensor(got, _torch_conv(x, weight.flip(-1, -2), bias)):
        return "You flipped the kernel (the textbook convolution). PyTorch's conv2d does not flip it: it multiplies the window by the kernel as it is."
    if _same_tensor(got, _torch_conv(x, weight.transpose(-1, -2), bias)):
        return "Rows and columns of the kernel are swapped: weight[o, c, i, j] multiplies x[c, top + i, left + j]."
    return "The shape is right but the values differ: for each output position multiply the kxk window of every input channel by the kernel, sum everything, then add the bias."


conv2d_by_hand = Question(
    ASSIGNMENT, "test_conv2d_by_hand", "conv2d_by_hand", "A multi-channel convolution by hand",
    prompt="conv2d_by_hand(x, weight, bias): stride 1, no padding, the same numbers as PyTorch's conv2d.",
    parts=[FunctionPart(
        "conv2d_by_hand", 4,
        examples=[Example((0, 3, 2, 6, 7, 3), None, "conv2d_by_hand on a 3x6x7 input with 2 kernels of 3x3x3")],
        reader=lambda v: read_tensor(v, "the result"), compare=_same_tensor, make_inputs=_conv_inputs, truth=_torch_conv,
        diagnose=_conv_diagnosis, timeout=20.0, hidden_about="other numbers of channels, kernel sizes and input sizes",
        hidden_advice="Read the sizes from x.shape and weight.shape; nothing may be fixed for the example.")],
    hints=["The output has shape (C_out, H - k + 1, W - k + 1): start from torch.empty of that shape.",
           "For each position (i, j), the window x[:, i:i + k, j:j + k] has the shape of one kernel, weight[o].",
           "(weight * window).sum(dim=(1, 2, 3)) gives all output channels at once; add the bias."])


# --- 3. Hand-designed kernels -----------------------------------------------------------------------------------
def _row_sums(t):
    return [float(v) for v in t.sum(dim=1)]


def _column_sums(t):
    return [float(v) for v in t.sum(dim=0)]


def _zero(values) -> bool:
    return all(abs(v) < 1e-9 for v in values)


kernels = Question(
    ASSIGNMENT, "test_kernels", "kernels", "Hand-designed kernels",
    prompt="sobel_x, sobel_y and laplacian as 3x3 float tensors, as the question describes them.",
    parts=[
        TensorPart("sobel_x", 0.5, shape=(3, 3), rules=[
            Rule(lambda t: _zero(_column_sums(t)) and not _zero(_row_sums(t)),
                 "This kernel responds to changes from top to bottom: rows and columns are swapped."),
            Rule(lambda t: _zero(_row_sums(t)) and _column_sums(t)[0] > _column_sums(t)[2],
                 "The signs are flipped: negative weights on the left, positive on the right.")]),
        TensorPart("sobel_y", 0.5, shape=(3, 3), rules=[
            Rule(lambda t: _zero(_row_sums(t)) and not _zero(_column_sums(t)),
                 "This kernel responds to changes from left to right: rows and columns are swapped."),
            Rule(lambda t: _zero(_column_sums(t)) and _row_sums(t)[0] < _row_sums(t)[2],
                 "The signs are flipped: the positive row is the top one.")]),
        TensorPart("laplacian", 1, shape=(3, 3), rules=[
            Rule(lambda t: all(abs(float(t[i, j])) > 0 for i in (0, 2) for j in (0, 2)),
                 "That is the 8-neighbour version; this course uses 0 in the corners."),
            Rule(lambda t: float(t[1, 1]) > 0, "The signs are flipped: the centre is negative.")]),
    ],
    hints=["Write each kernel row by row: torch.tensor([[...], [...], [...]]).",
           "Use floats (-1.0 or -1.): the tensors must be float tensors."])


class _Responses(TensorPart):
    """The three kernels' responses to the vertical line: the key gives the kernels, the judge convolves."""

    def key_value(self, key: Any) -> Any:
        import torch

        from ..lessons.images import line_image

        if isinstance(key, torch.Tensor) and key.dim() == 3 and tuple(key.shape) == self.shape:
            return key
        bank = torch.tensor(key, dtype=torch.float64)[:, None]
        image = line_image(15, "vertical")[None].double()
        return _torch_conv(image, bank)


responses = Question(
    ASSIGNMENT, "test_responses", "responses", "The three kernels on a vertical line",
    prompt="responses: the three kernels applied to the vertical line with your own convolution, shape (3, 13, 13); "
           "blind_to_vertical_line: the kernel that gives no response at all.",
    parts=[_Responses("responses", 0.5, shape=(3, 13, 13)),
           NamePart("blind_to_vertical_line", 0.5, choices=("sobel_x", "sobel_y", "laplacian"),
                    hint="Look at responses[i].abs().max() for each kernel: which one stays at zero everywhere?")],
    hints=["torch.stack([sobel_x, sobel_y, laplacian])[:, None] has shape (3, 1, 3, 3).",
           "Call your conv2d_by_hand with a zero bias of shape (3,)."])


# --- 4. Shapes, weights and memory -------------------------------------------------------------------------------------
def _shape_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    h, w, c_in, n, k, *rest = inputs
    p = rest[0] if rest else 0
    got = reading.value
    if got[2] == c_in and c_in != n:
        return "One kernel gives one output channel: n_kernels kernels give n_kernels channels, whatever the input has."
    if got[:2] == (h, w) and p == 0 and k > 1:
        return "Without padding a kxk kernel cannot be centred on the border pixels: each side shrinks by k - 1."
    if got[:2] == (h + 2 * p - k, w + 2 * p - k):
        return "One short: a kxk kernel fits in + 2 * padding - k + 1 times."
    if p and got[:2] == (h - k + 1, w - k + 1):
        return "Padding adds padding pixels on each side: 2 * padding per axis."
    return None


def _weights_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    k, c_in, c_out = inputs
    value = reading.value
    if value == k * k * c_in * c_out + c_out:
        return "That includes the biases; count weights only."
    if value == k * k * c_in:
        return "That is one kernel; there are c_out of them."
    if value == k * c_in * c_out:
        return "A kernel is k x k: use k * k."
    return None


shape_functions = Question(
    ASSIGNMENT, "test_shape_functions", "shape_functions", "The output shape and the weights of a convolution",
    prompt="conv_output_shape(h, w, c_in, n_kernels, k, padding=0) returns (h_out, w_out, c_out); "
           "conv_weight_count(k, c_in, c_out) returns the number of weights (no biases).",
    parts=[FunctionPart("conv_output_shape", 1,
                        examples=[Example((10, 12, 3, 8, 3), (8, 10, 8), "conv_output_shape(10, 12, 3, 8, 3)"),
                                  Example((10, 12, 3, 8, 3, 1), (10, 12, 8), "conv_output_shape(10, 12, 3, 8, 3, padding=1)")],
                        reader=lambda v: read_size(v, 3, "the shape"), compare=lambda a, b: tuple(a) == tuple(b),
                        key_reader=tuple, diagnose=_shape_diagnosis,
                        hidden_about="other sizes, channels, kernels and paddings"),
           FunctionPart("conv_weight_count", 1, examples=[Example((5, 3, 16), 1200, "conv_weight_count(5, 3, 16)")],
                        reader=lambda v: read_whole_number(v, "a number of weights"), compare=close,
                        diagnose=_weights_diagnosis, hidden_about="other kernels and channels")],
    hints=["h_out = h + 2 * padding - k + 1, and the same for the width.",
           "One kernel has k * k * c_in weights, and there is one kernel per output channel."])

weights_49 = Question(
    ASSIGNMENT, "test_weights_49", "weights_49", "Weights of 512 kernels of 3x3 on 49x49x256",
    prompt="weights_49: a 49x49x256 input convolved with 512 kernels of 3x3: how many weights?",
    parts=[NumberPart("weights_49", 1, what="a number of weights",
                      wrong={1_180_160: "That includes the 512 biases; count weights only.",
                             2304: "That is one kernel (3x3x256); there are 512 of them.",
                             4608: "Each kernel has as many channels as the input: 256, not 512."},
                      rules=[Rule(lambda n: n > 10**8, "The input's 49x49 does not matter: weights = k * k * c_in * c_out.")],
                      hint="The input's 49x49 does not matter: weights = k * k * c_in * c_out.")],
    hints=["Only the kernels hold weights; the size of the image does not matter."])

kernels_depend = Question(
    ASSIGNMENT, "test_kernels_depend", "kernels_depend", "Do the kernels depend on the input channels?",
    prompt="kernels_depend_on_channels: does the number of kernels of a layer depend on the number of input "
           "channels? (True/False)",
    parts=[BoolPart("kernels_depend_on_channels", 1)],
    hints=["What does the number of input channels fix: the depth of each kernel, or how many there are?"])

channels_in_memory = Question(
    ASSIGNMENT, "test_channels_in_memory", "channels_in_memory", "Channels held in memory before the max pool",
    prompt="channels_in_memory: how many channels must be held in memory at the first max pool of the quiz network.",
    parts=[NumberPart("channels_in_memory", 2, what="a number of channels",
                      wrong={2016: "Do not forget the 3 channels of the input image itself.",
                             1024: "Not only the last layer's output: every channel computed before the max pool is kept.",
                             1027: "Every layer's output is kept until the max pool, not only the input and the last one."},
                      hint="Add up all the channels produced before the pool, the input's included.")],
    hints=["Every layer's output stays in memory until the max pool.", "Do not forget the input image."])
