"""Assignment 4's questions (evalib.exercises.a4_mnist_one_epoch): full marks for the solution, nothing for
the release, annotations read in the shapes students write, the known slips explained, loaders and
networks checked from plain data, and nothing for answers made with evalib's summary or data helpers."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from autograders.source import read_source
from evalib.exercises import a4
from exercise_support import assert_full_marks_and_an_empty_release, handed_in, judge_all, run, solution_outcomes

A = "a4_mnist_one_epoch"
ROWS = [("conv1", (28, 28, 1), (28, 28, 32), 3), ("conv2", (28, 28, 32), (28, 28, 64), 5),
        ("pool1", (28, 28, 64), (14, 14, 64), 6), ("conv3", (14, 14, 64), (14, 14, 128), 10),
        ("conv4", (14, 14, 128), (14, 14, 256), 14), ("pool2", (14, 14, 256), (7, 7, 256), 16),
        ("conv5", (7, 7, 256), (5, 5, 512), 24), ("conv6", (5, 5, 512), (3, 3, 1024), 32),
        ("conv7", (3, 3, 1024), (1, 1, 10), 40)]


def judged(q, namespace):
    hidden = read_source(A).by_id(q.id).hidden
    return q.judge(q.probe_all(namespace, q.requests(hidden)), hidden)


def hwc(size):
    return "x".join(map(str, size))


@pytest.fixture(scope="module")
def solution():
    return solution_outcomes(A)


def test_the_solution_scores_full_marks_and_the_release_nothing(solution):
    assert_full_marks_and_an_empty_release(A, solution, 17)


# --- annotations ---------------------------------------------------------------------------------------------
SHAPES = {
    "strings HxWxC": [(n, hwc(i), hwc(o), rf) for n, i, o, rf in ROWS],
    "tuples": ROWS,
    "lists without names": [[list(i), list(o), rf] for _, i, o, rf in ROWS],
    "a dict by name": {n: {"input": hwc(i), "output": hwc(o), "rf": f"{rf}x{rf}"} for n, i, o, rf in ROWS},
    "code comments": "\n".join(f"# {n}: {hwc(i)} > {hwc(o)}  RF {rf}" for n, i, o, rf in ROWS),
    "spaced sizes": [(n, " x ".join(map(str, i)), " x ".join(map(str, o)), str(rf)) for n, i, o, rf in ROWS],
}


@pytest.mark.parametrize("shape", SHAPES)
def test_annotations_are_read_in_every_shape(shape):
    answer = SHAPES[shape]
    for q in (a4.sizes, a4.rfs):
        assert q.check(answer).state == "recorded", (shape, q.check(answer))
        assert judged(q, {"lecture_annotations": answer}).state == "correct", shape


def _rows(**changes):
    rows = [list(r) for r in ROWS]
    for where, value in changes.items():  # "i3": the input of layer 3, "o3": its output, "r3": its RF
        rows[int(where[1:])][{"i": 1, "o": 2, "r": 3}[where[0]]] = value
    return [(n, hwc(i), hwc(o), rf) for n, i, o, rf in rows]


def _sizes_without_padding():
    rows, side = [], 28
    for (name, _, (_, _, c), _), spec in zip(ROWS, a4.LECTURE_SPECS):
        before = side
        side = side // 2 if spec[1] == "pool" else side - 2
        rows.append((name, before, side, c))
    out, channels = [], 1
    for name, before, after, c in rows:
        out.append((name, f"{before}x{before}x{channels}", f"{after}x{after}x{c}", 3))
        channels = c
    return out


@pytest.mark.parametrize("answer, hint", [
    ([(n, f"{i[2]}x{i[0]}x{i[1]}", f"{o[2]}x{o[0]}x{o[1]}", rf) for n, i, o, rf in ROWS], "height x width x channels"),
    ([(n, f"{i[0]}x{i[1]}", f"{o[0]}x{o[1]}", rf) for n, i, o, rf in ROWS], "Give the channels too"),
    (_rows(i0=(30, 30, 1)), "padding is not part of the input"),
    (_sizes_without_padding(), "has padding=1"),
    (_rows(o6=(7, 7, 512), i7=(7, 7, 512), o7=(5, 5, 1024), i8=(5, 5, 1024), o8=(3, 3, 10)), "conv5 has no padding"),
    (_rows(o0=(28, 28, 1), i1=(28, 28, 1)), "one output channel per kernel"),
    (_rows(o2=(28, 28, 64), i3=(28, 28, 64), o3=(28, 28, 128), i4=(28, 28, 128), o4=(28, 28, 256), i5=(28, 28, 256)),
     "divides the size by 2"),
    (_rows(i3=(14, 14, 32)), "the output of the layer before it, pool1"),
    (_rows()[:7], "One entry per layer"),
])
def test_each_slip_in_the_sizes_gets_its_hint(answer, hint):
    for outcome in (a4.sizes.check(answer), judged(a4.sizes, {"lecture_annotations": answer})):
        assert outcome.state == "wrong" and hint in outcome.hint, outcome


def test_sizes_get_partial_credit_for_the_channels():
    outcome = judged(a4.sizes, {"lecture_annotations": _sizes_without_padding()})
    assert outcome.points == 1 and "channels are right" in outcome.message


@pytest.mark.parametrize("rfs, hint", [
    ([3, 5, 10, 12, 14, 28, 30, 32, 34], "shortcut"),
    ([3, 5, 6, 8, 10, 11, 13, 15, 17], "jump"),
    ([3, 5, 6, 10, 14, 16, 18, 20, 22], "jump"),
])
def test_receptive_field_slips(rfs, hint):
    answer = [(n, hwc(i), hwc(o), rf) for (n, i, o, _), rf in zip(ROWS, rfs)]
    for outcome in (a4.rfs.check(answer), judged(a4.rfs, {"lecture_annotations": answer})):
        assert outcome.state == "wrong" and hint in outcome.hint


def test_annotations_from_evalib_summary_earn_nothing():
    cell = ("rows = [r for r in evalib.summary(evalib.LectureNet(final_relu=False), (1, 28, 28)) if r.role in ('conv', 'maxpool')]\n"
            "shapes = [(1, 28, 28)] + [r.output_shape for r in rows]\n"
            "lecture_annotations = [(r.name, f'{a[1]}x{a[2]}x{a[0]}', f'{b[1]}x{b[2]}x{b[0]}', r.rf) for r, a, b in zip(rows, shapes, shapes[1:])]\n")
    namespace = run(handed_in(A, {"lecture_annotations": cell}))
    for q in (a4.sizes, a4.rfs):
        outcome = judged(q, namespace)
        assert outcome.points == 0 and "evalib.summary" in outcome.message


# --- mean and std ------------------------------------------------------------------------------------------------
def _stats_ns(function=lambda x: (x.double().mean().item(), x.double().std().item()), mean=0.1311479, std=0.3083401):
    return {"pixel_mean_std": function, "train_mean": mean, "train_std": std}


@pytest.mark.parametrize("function, hint", [
    (lambda x: (x.mean().item(), x.var().item()), "variance"),
    (lambda x: (x.mean().item(), x.flatten(1).std(dim=1, unbiased=False).mean().item()), "averaged the std of each image"),
    (lambda x: (x.flatten(1).mean(dim=1).median().item(), x.std().item()), "every pixel of every image together"),
])
def test_pixel_mean_std_slips(function, hint):
    outcome = judged(a4.mean_std, _stats_ns(function))
    assert hint in outcome.parts[0].hint and outcome.points == 1


@pytest.mark.parametrize("mean, std, hint", [
    (0.1307, 0.3081, "published values"), (33.4, 78.6, "0 to 255"), (0.3083401, 0.1311479, "swapped"),
    (0.1311479, 0.3083401 ** 2, "variance"), (0.1328650, 0.3104312, "measured the validation digits"),
    (0.1313196, 0.3085503, "included the validation digits"),
])
def test_measured_statistics_slips(mean, std, hint):
    outcome = judged(a4.mean_std, _stats_ns(mean=mean, std=std))
    assert outcome.points == 1 and hint in outcome.parts[1].hint
    assert a4.mean_std.check(*_stats_ns(mean=mean, std=std).values()).state in ("recorded", "wrong")
    assert judged(a4.mean_std, _stats_ns(mean=torch.tensor(0.13114792), std=torch.tensor(0.3083401))).points == 2


def test_statistics_from_evalib_earn_nothing():
    cell = ("def pixel_mean_std(images):\n    return images.mean().item(), images.std().item()\n\n"
            "train_mean, train_std = data.stats.mean, data.stats.std\n")
    outcome = judge_all(A, run(handed_in(A, {"mean_std": cell})))["test_mean_std"]
    assert outcome.points == 1 and "evalib.MnistData.stats" in outcome.parts[1].message


# --- loaders --------------------------------------------------------------------------------------------------
LOADER = '''
import torch
from torch.utils.data import DataLoader, TensorDataset


def make_loaders(data, mean, std, batch_size=32):
    train = TensorDataset(TRAIN, data.train_labels)
    val = TensorDataset(VAL, data.test_labels)
    return DataLoader(train, batch_size=batch_size, shuffle=SHUFFLE), DataLoader(val, batch_size=100)
'''


def _loaders(train="(data.train_images - mean) / std", val="(data.test_images - mean) / std", shuffle="True"):
    namespace: dict = {}
    exec(LOADER.replace("TRAIN", train).replace("VAL", val).replace("SHUFFLE", shuffle), namespace)
    return namespace["make_loaders"]


@pytest.mark.parametrize("function, hint", [
    (_loaders(shuffle="False"), "Shuffle the training digits"),
    (_loaders(val="(data.test_images - data.test_images.mean()) / data.test_images.std()"), "their own mean and std"),
    (_loaders(train="(data.train_images - 0.1307) / 0.3081"), "published constants"),
    (_loaders(train="data.train_images"), "not normalized yet"),
    (_loaders(train="data.train_images - mean"), "divide by the std too"),
    (_loaders(train="((data.train_images - mean) / std).flatten(1)"), "do not flatten"),
    (_loaders(train="((data.train_images - mean) / std).double()"), "float32"),
])
def test_loader_slips(function, hint):
    for outcome in (a4.loaders.check(function), judged(a4.loaders, {"make_loaders": function})):
        assert outcome.state == "wrong" and hint in outcome.hint, outcome


def test_right_loaders_and_loaders_from_evalib():
    assert judged(a4.loaders, {"make_loaders": _loaders()}).state == "correct"
    import evalib

    def helper(data, mean, std, batch_size=32):
        loaders = evalib.mnist_loaders(data, batch_size=batch_size, normalize=(mean, std))
        return loaders.train, loaders.test

    outcome = judged(a4.loaders, {"make_loaders": helper})
    assert outcome.points == 0 and "evalib.mnist_loaders" in outcome.message


# --- networks ------------------------------------------------------------------------------------------------------
class Tiny(nn.Module):
    def __init__(self, end="log_softmax"):
        super().__init__()
        self.conv = nn.Conv2d(1, 10, 3)
        self.end = end

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.conv(x), 1).flatten(1)
        return F.log_softmax(x, dim=1) if self.end == "log_softmax" else F.softmax(x, dim=1)


class Wide(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3)
        self.fc = nn.Linear(8 * 26 * 26, 10)

    def forward(self, x):
        return F.log_softmax(self.fc(self.conv1(x).flatten(1)), dim=1)


class Memorizer(Tiny):
    def __init__(self):
        super().__init__()
        self.memory = {i: [i % 10] * 40 for i in range(500)}  # 20,500 numbers kept aside


def test_my_net_requirements_are_told_in_full():
    assert a4.my_net.check(Tiny).state == "recorded" and judged(a4.my_net, {"MyNet": Tiny}).state == "correct"
    wide = a4.my_net.check(Wide)
    assert "over the budget" in wide.message and "fc" in wide.message
    probabilities = a4.my_net.check(lambda: Tiny("softmax"))
    assert "probabilities (softmax)" in probabilities.hint
    memorizer = judged(a4.my_net, {"MyNet": Memorizer})
    assert memorizer.points == 0 and "in its attributes" in memorizer.message
    assert a4.held_numbers(Memorizer())["attributes"] == 20_500
    import evalib

    assert "reuses evalib's LeanNet" in a4.my_net.check(evalib.LeanNet).message


def test_accuracy_is_judged_from_predictions():
    untrained = {"model": Tiny(), "MyNet": Tiny, "train_mean": 0.13, "train_std": 0.31}
    outcome = judged(a4.accuracy, untrained)
    assert outcome.points == 0 and ("About chance" in outcome.hint or "only" in outcome.hint)
    assert "not right" not in a4.accuracy.check(*untrained.values()).message
    other = dict(untrained, MyNet=Wide)
    assert "should be the MyNet" in judged(a4.accuracy, other).message
