"""Assignment 1's questions (evalib.exercises.a1_kernels_channels): full marks for the solution, nothing
for the release, a targeted hint for each known mistake, and nothing for answers that use the
convolution, kernel or shape helpers."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autograders.source import read_source
from evalib.exercises import a1
from exercise_support import assert_full_marks_and_an_empty_release, handed_in, judge_all, run, solution_outcomes

A = "a1_kernels_channels"
GX = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
GY = torch.tensor([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def judged(q, *answers):
    hidden = read_source(A).by_id(q.id).hidden
    return q.judge(q.probe_all(dict(zip(q.names, answers)), q.requests(hidden)), hidden)


@pytest.fixture(scope="module")
def solution():
    return solution_outcomes(A)


def test_the_solution_scores_full_marks_and_its_checks_only_record(solution):
    assert_full_marks_and_an_empty_release(A, solution, 13)


# --- the convolution by hand -------------------------------------------------------------------------
def _loops(x, weight, bias, flip=False, transpose=False, with_bias=True, bias_per_channel=False):
    c_out, c_in, k, _ = weight.shape
    w = weight.flip(-1, -2) if flip else weight.transpose(-1, -2) if transpose else weight
    out = torch.empty(c_out, x.shape[1] - k + 1, x.shape[2] - k + 1)
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            out[:, i, j] = (w * x[:, i:i + k, j:j + k]).sum(dim=(1, 2, 3))
    if with_bias:
        out += (bias * c_in if bias_per_channel else bias)[:, None, None]
    return out


@pytest.mark.parametrize("function, hint", [
    (lambda x, w, b: _loops(x, w, b, with_bias=False), "except the bias"),
    (lambda x, w, b: _loops(x, w, b, bias_per_channel=True), "once per input channel"),
    (lambda x, w, b: _loops(x, w, b, flip=True), "flipped the kernel"),
    (lambda x, w, b: _loops(x, w, b, transpose=True), "Rows and columns"),
    (lambda x, w, b: torch.zeros(w.shape[0] * w.shape[1], x.shape[1] - 2, x.shape[2] - 2), "not summed"),
    (lambda x, w, b: torch.zeros(w.shape[0], x.shape[1], x.shape[2]), "keeps the input size"),
])
def test_each_known_mistake_of_the_convolution_gets_its_hint(function, hint):
    for outcome in (a1.conv2d_by_hand.check(function), judged(a1.conv2d_by_hand, function)):
        assert outcome.state == "wrong" and hint in outcome.hint, outcome


def test_a_right_convolution_is_right_on_hidden_cases_too():
    assert judged(a1.conv2d_by_hand, _loops).state == "correct"
    assert a1.conv2d_by_hand.check(_loops).state == "recorded"


def test_a_literal_result_for_the_example_fails_the_hidden_cases():
    x, w, b = a1._conv_inputs((0, 3, 2, 6, 7, 3))
    literal = F.conv2d(x[None], w, b)[0].tolist()
    outcome = judged(a1.conv2d_by_hand, lambda x, w, b: torch.tensor(literal))
    assert outcome.points == 0 and "fails 4 of 4 hidden cases" in outcome.message


@pytest.mark.parametrize("function", [
    lambda x, w, b: F.conv2d(x[None], w, b)[0],
    lambda x, w, b, conv=torch.conv2d: conv(x[None], w, b)[0],  # an alias bound before the guard
    lambda x, w, b: torch.convolution(x[None], w, b, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)[0],
    lambda x, w, b: torch.einsum("ock,okl->ol", w.flatten(1)[:, None], F.unfold(x[None], w.shape[-1])).reshape(
        w.shape[0], x.shape[1] - w.shape[-1] + 1, -1) + b[:, None, None],
])
def test_torch_convolutions_earn_nothing(function):
    for outcome in (a1.conv2d_by_hand.check(function), judged(a1.conv2d_by_hand, function)):
        assert outcome.state == "wrong" and outcome.points == 0 and "earns no points" in outcome.message, outcome


def test_evalib_convolutions_earn_nothing():
    import evalib

    outcome = judged(a1.conv2d_by_hand, lambda x, w, b: evalib.conv2d_loops(x[None], w, b)[0])
    assert outcome.points == 0 and "evalib.conv2d_loops" in outcome.message


# --- kernels and responses --------------------------------------------------------------------------------
@pytest.mark.parametrize("answers, part, hint", [
    ((GX.T, GY, LAPLACIAN), "sobel_x", "top to bottom"),
    ((-GX, GY, LAPLACIAN), "sobel_x", "signs are flipped"),
    ((GX, GY.T, LAPLACIAN), "sobel_y", "left to right"),
    ((GX, -GY, LAPLACIAN), "sobel_y", "positive row is the top one"),
    ((GX, GY, torch.tensor([[1.0, 1, 1], [1, -8, 1], [1, 1, 1]])), "laplacian", "8-neighbour"),
    ((GX, GY, -LAPLACIAN), "laplacian", "centre is negative"),
    ((GX, GY, LAPLACIAN[:2, :2]), "laplacian", "shape (3, 3)"),
])
def test_each_known_mistake_of_the_kernels_gets_its_hint(answers, part, hint):
    for outcome in (a1.kernels.check(*answers), judged(a1.kernels, *answers)):
        found = {p.name: p for p in outcome.parts}
        assert found[part].state == "wrong" and hint in found[part].hint, outcome
    assert judged(a1.kernels, *answers).points < 2


def test_kernels_as_nested_lists_and_partial_credit():
    outcome = judged(a1.kernels, GX.tolist(), GY.T, LAPLACIAN.tolist())
    assert outcome.points == 1.5 and outcome.state == "wrong"


def test_responses_and_the_blind_kernel():
    image = a1._Responses("responses", 0.5, (3, 13, 13)).key_value(torch.stack([GX, GY, LAPLACIAN]).tolist())
    assert judged(a1.responses, image, "Sobel Y").state == "correct"
    outcome = judged(a1.responses, image, "sobel_x")
    assert outcome.points == 0.5 and "left to right" in outcome.hint
    assert a1.responses.check(image, "sobel_x").state == "recorded"  # a pick among three names is not confirmed
    assert "not one of the names" in a1.responses.check(image, "the second one").parts[1].message


# --- shapes, weights, quiz ----------------------------------------------------------------------------------
@pytest.mark.parametrize("function, hint", [
    (lambda h, w, c, n, k, padding=0: (h + 2 * padding - k + 1, w + 2 * padding - k + 1, c), "one output channel"),
    (lambda h, w, c, n, k, padding=0: (h, w, n), "shrinks by k - 1"),
    (lambda h, w, c, n, k, padding=0: (h + 2 * padding - k, w + 2 * padding - k, n), "One short"),
])
def test_output_shape_mistakes(function, hint):
    outcome = a1.shape_functions.check(function, lambda k, c_in, c_out: k * k * c_in * c_out)
    assert hint in outcome.parts[0].hint, outcome
    assert judged(a1.shape_functions, function, lambda k, c_in, c_out: k * k * c_in * c_out).points == 1


def test_weight_count_mistakes_and_a_literal_that_only_fits_the_example():
    shape = lambda h, w, c, n, k, padding=0: (h + 2 * padding - k + 1, w + 2 * padding - k + 1, n)  # noqa: E731
    assert "biases" in a1.shape_functions.check(shape, lambda k, c, o: k * k * c * o + o).parts[1].hint
    assert "one kernel" in a1.shape_functions.check(shape, lambda k, c, o: k * k * c).parts[1].hint
    outcome = judged(a1.shape_functions, lambda *a, **k: (8, 10, 8), lambda k, c, o: 1200)
    assert outcome.points == 0


@pytest.mark.parametrize("q, answer, hint", [
    (a1.weights_49, 1_180_160, "biases"),
    (a1.weights_49, "2,304", "one kernel"),
    (a1.weights_49, 4608, "256, not 512"),
    (a1.weights_49, 49 * 49 * 256 * 512, "does not matter"),
    (a1.channels_in_memory, 2016, "input image"),
    (a1.channels_in_memory, 1024, "every channel"),
    (a1.channels_in_memory, 1027, "not only the input and the last"),
])
def test_each_known_wrong_quiz_answer_gets_its_hint(q, answer, hint):
    for outcome in (q.check(answer), judged(q, answer)):
        assert outcome.state == "wrong" and hint in outcome.hint


def test_counts_and_booleans_are_read_as_written():
    for answer in (1179648, "1,179,648", 1179648.0, "1_179_648 weights"):
        assert judged(a1.weights_49, answer).state == "correct", answer
    for answer in (False, "False", "no"):
        assert judged(a1.kernels_depend, answer).state == "correct", answer
    outcome = judged(a1.kernels_depend, True)
    assert outcome.state == "wrong" and "designer's choice" in outcome.hint
    assert a1.kernels_depend.check(True).state == "recorded"  # no oracle for True/False
    assert "True or False" in a1.kernels_depend.check(0).hint


# --- evalib's and torch's helpers in value answers -----------------------------------------------------------------
HELPERS = {
    "kernels": "import evalib\nsobel_x = evalib.kernel('sobel_x')\nsobel_y = evalib.kernel_bank(['sobel_y'])[0, 0]\n"
               "laplacian = torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])\n",
    "responses": "import torch.nn.functional as F\nresponses = F.conv2d(image[None], torch.stack([sobel_x, sobel_y, laplacian])[:, None])[0]\n"
                 "blind_to_vertical_line = 'sobel_y'\n",
    "quiz_numbers": "import evalib\nweights_49 = evalib.conv_weight_count(3, 256, 512)\nkernels_depend_on_channels = False\n"
                    "channels_in_memory = 3 + 32 + 64 + 128 + 256 + 512 + 1024\n",
}


def test_value_answers_computed_with_helpers_earn_nothing():
    outcomes = judge_all(A, run(handed_in(A, HELPERS)))
    kernels = {p.name: p for p in outcomes["test_kernels"].parts}
    assert kernels["sobel_x"].points == 0 and "evalib.kernel" in kernels["sobel_x"].message
    assert kernels["sobel_y"].points == 0 and "evalib.kernel_bank" in kernels["sobel_y"].message
    assert kernels["laplacian"].points == 1
    responses = {p.name: p for p in outcomes["test_responses"].parts}
    assert responses["responses"].points == 0 and "torch.nn.functional.conv2d" in responses["responses"].message
    assert outcomes["test_weights_49"].points == 0 and "evalib.conv_weight_count" in outcomes["test_weights_49"].message
    assert outcomes["test_channels_in_memory"].points == 2 and outcomes["test_kernels_depend"].points == 1
