"""Assignment 3's questions (evalib.exercises.a3_initialization): full marks for the solution, nothing for
the release, a targeted hint for each known mistake, and nothing for torch.nn.init or evalib's helpers."""
from __future__ import annotations

import math

import pytest
import torch

from autograders.source import read_source
from evalib.exercises import a3
from exercise_support import assert_full_marks_and_an_empty_release, handed_in, judge_all, run, solution_outcomes

A = "a3_initialization"


def judged(q, *answers):
    hidden = read_source(A).by_id(q.id).hidden
    return q.judge(q.probe_all(dict(zip(q.names, answers)), q.requests(hidden)), hidden)


def part(outcome, name):
    return next(p for p in outcome.parts if p.name == name)


@pytest.fixture(scope="module")
def solution():
    return solution_outcomes(A)


def test_the_solution_scores_full_marks_and_the_release_nothing(solution):
    assert_full_marks_and_an_empty_release(A, solution, 12)


def _fans(shape):
    c_out, c_in, kh, kw = shape
    return c_in * kh * kw, c_out * kh * kw


@pytest.mark.parametrize("function, hint", [
    (lambda s: (s[1], s[0]), "multiply by the kernel area"),
    (lambda s: (s[0] * s[2] * s[3], s[1] * s[2] * s[3]), "swapped"),
    (lambda s: (s[1] * s[2] * s[3], s[1] * s[2] * s[3]), "output channels"),
])
def test_fan_mistakes(function, hint):
    for outcome in (a3.fans.check(function), judged(a3.fans, function)):
        assert outcome.state == "wrong" and hint in outcome.hint


def test_fans_from_torch_or_evalib_earn_nothing():
    import evalib

    torch_fans = lambda s: torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(*s))  # noqa: E731
    evalib_fans = lambda s: evalib.fans(torch.empty(*s))  # noqa: E731
    for function, name in ((torch_fans, "torch.nn.init._calculate_fan_in_and_fan_out"), (evalib_fans, "evalib.fans")):
        outcome = judged(a3.fans, function)
        assert outcome.points == 0 and name in outcome.message
    assert judged(a3.fans, _fans).points == 2


@pytest.mark.parametrize("xavier, he, where, hint", [
    (lambda fi, fo: 2 / (fi + fo), lambda fi: math.sqrt(2 / fi), "xavier_std", "variance"),
    (lambda fi, fo: math.sqrt(1 / (fi + fo)), lambda fi: math.sqrt(2 / fi), "xavier_std", "2 on top"),
    (lambda fi, fo: math.sqrt(2 / (fi + fo)), lambda fi: math.sqrt(1 / fi), "he_std", "ReLU zeroing half"),
    (lambda fi, fo: math.sqrt(2 / (fi + fo)), lambda fi: 1 / math.sqrt(3 * fi), "he_std", "PyTorch's default"),
])
def test_std_mistakes(xavier, he, where, hint):
    for outcome in (a3.stds.check(xavier, he), judged(a3.stds, xavier, he)):
        assert part(outcome, where).state == "wrong" and hint in part(outcome, where).hint
    assert judged(a3.stds, xavier, he).points == 1  # partial credit: the other function is right


def _he(weight):
    fan_in, _ = _fans(weight.shape)
    with torch.no_grad():
        return weight.normal_(0.0, math.sqrt(2 / fan_in))


def _xavier(weight):
    with torch.no_grad():
        return weight.normal_(0.0, math.sqrt(2 / sum(_fans(weight.shape))))


@pytest.mark.parametrize("he, message", [
    (lambda w: torch.randn_like(w) * math.sqrt(2 / _fans(w.shape)[0]), "does not fill the tensor it is given"),
    (lambda w: (_he(w), None)[1], "returns None"),
    (lambda w: _xavier(w), "the formula's std times 0.71"),
])
def test_init_mistakes(he, message):
    for outcome in (a3.init_functions.check(_xavier, he), judged(a3.init_functions, _xavier, he)):
        assert part(outcome, "init_he_").state == "wrong" and message in part(outcome, "init_he_").message
    assert judged(a3.init_functions, _xavier, he).points == 1.5


def test_torch_init_earns_nothing_but_torch_s_own_default_still_works():
    outcome = judged(a3.init_functions, _xavier, torch.nn.init.kaiming_normal_)
    assert part(outcome, "init_he_").points == 0 and "torch.nn.init.kaiming_normal_" in part(outcome, "init_he_").message
    assert part(outcome, "init_xavier_").points == 1.5


def test_activation_stds_are_read_and_judged_against_ranges(solution):
    good = ([1e-20] * 50, [1e-8] * 50, [0.6] * 50)
    assert judged(a3.activation_stds, *good).points == 3
    assert a3.activation_stds.check(*good).state == "recorded"
    short = a3.activation_stds.check([1e-20] * 49, *good[1:])
    assert "50 values, not 49" in part(short, "stds_default").hint
    assert "never negative" in part(a3.activation_stds.check([-1.0] * 50, *good[1:]), "stds_default").hint
    same_as_he = judged(a3.activation_stds, good[0], good[2], good[2])  # the init function not applied to Xavier
    assert same_as_he.points == 2 and "larger at layer 50" in part(same_as_he, "stds_xavier").hint
    assert a3.activation_stds.check(good[0], good[2], good[2]).state == "recorded"  # the ranges are not told before grading


def test_depth_experiment_earns_nothing():
    cell = ("import evalib\nrecord = evalib.depth_experiment('pytorch_default', depth=50, width=8)\n"
            "stds_default = record.act_std\nstds_xavier = [1e-8] * 50\nstds_he = [0.6] * 50\n")
    outcomes = judge_all(A, run(handed_in(A, {"activation_stds": cell})))
    default = part(outcomes["test_activation_stds"], "stds_default")
    assert default.points == 0 and "evalib.depth_experiment" in default.message


@pytest.mark.parametrize("q, wrong, hint", [
    (a3.best_for_relu, "a", "all but vanished"), (a3.best_for_relu, "Xavier", "suits tanh"),
    (a3.best_for_relu, "(D)", "ignores the fans"), (a3.symmetry, "a", "break the tie"),
    (a3.symmetry, "c", "worth one kernel"), (a3.symmetry, "d", "copies of each other"),
])
def test_choices_get_their_hints_only_after_grading(q, wrong, hint):
    outcome = judged(q, wrong)
    assert outcome.state == "wrong" and hint in outcome.hint
    assert q.check(wrong).state == "recorded" and not q.check(wrong).hint


def test_a_sentence_is_not_an_option():
    assert "not one of the options" in judged(a3.best_for_relu, "c, because He scales with the fan-in").message
    assert judged(a3.best_for_relu, "He").state == "correct"
