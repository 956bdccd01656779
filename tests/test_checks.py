"""Unit tests of the student-facing self-checks: pass on right answers, targeted hints on known wrong ones."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import evalib
from evalib import checks
from evalib.checks import CheckFailed, NotAttempted

CHAIN_199 = " > ".join(f"{n}x{n}" for n in range(199, 0, -2))


def fails(fn, *args, **kwargs) -> CheckFailed:
    with pytest.raises(CheckFailed) as info:
        fn(*args, **kwargs)
    return info.value


@pytest.mark.parametrize("text", [
    CHAIN_199,
    CHAIN_199.replace(" > ", ">").replace("x", "X"),
    CHAIN_199.replace(" > ", " --> "),
    CHAIN_199.replace(" > ", "\n"),
    "| size |\n|---|\n" + "\n".join(f"| {n} x {n} |" for n in range(199, 0, -2)),
    list(range(199, 0, -2)),
])
def test_chain_accepts_every_way_of_writing_it(text, capsys):
    checks.check_chain(text, 199)
    assert "correct" in capsys.readouterr().out


def test_chain_typo_gets_a_typo_hint():
    failure = fails(checks.check_chain, CHAIN_199.replace("187x187", "187 x 1897"), 199)
    assert "typo" in failure.hint and "187x1897" in failure.hint


def test_chain_hints_for_shrinking_by_one_stopping_early_and_padding():
    assert "shrink by 1" in fails(checks.check_chain, "7x7 > 6x6 > 5x5", 7).hint
    assert "stops at 3x3" in fails(checks.check_chain, "7x7 > 5x5 > 3x3", 7).hint
    assert "padding" in fails(checks.check_chain, "7x7 > 7x7 > 5x5", 7).hint
    assert "could not find" in fails(checks.check_chain, "no idea", 7).hint


def test_counting_sizes_instead_of_convolutions(capsys):
    checks.check_conv_count(99)
    assert "correct" in capsys.readouterr().out
    failure = fails(checks.check_conv_count, 100)
    assert "sizes" in failure.hint and failure.answer == "100"
    assert "99" not in str(failure)  # never the right answer


@pytest.mark.parametrize("placeholder", [None, ..., "", "YOUR ANSWER HERE"])
def test_not_attempted(placeholder):
    assert isinstance(fails(checks.check_conv_count, placeholder), NotAttempted)
    assert isinstance(fails(checks.check_number, placeholder, 3), NotAttempted)


def test_rf_shortcut_and_forgotten_jump_get_their_own_hints():
    right = [3, 5, 6, 10, 14, 16, 24, 32, 40]
    shortcut = [3, 5, 10, 12, 14, 28, 30, 32, 34]
    no_jump = [3, 5, 6, 8, 10, 11, 13, 15, 17]
    checks.check_rf_list(right, right, shortcut=shortcut, no_jump=no_jump)
    assert "shortcut" in fails(checks.check_rf_list, shortcut, right, shortcut=shortcut, no_jump=no_jump).hint
    assert "jump" in fails(checks.check_rf_list, no_jump, right, shortcut=shortcut, no_jump=no_jump).hint
    assert "jump" in fails(checks.check_rf_list, right[:-1] + [22], right, shortcut=shortcut).hint


def test_size_hints_for_padded_answer():
    checks.check_size("45x47", (45, 47))
    checks.check_size((45, 47), (45, 47))
    failure = fails(checks.check_size, "26x26", (28, 28), "conv1 output", wrong={(26, 26): "conv1 has padding 1"})
    assert "padding" in failure.hint


def test_pool_plan():
    checks.check_pool_plan("100x100 > 98x98 > 96x96 | MP > 48x48 > 46x46 > 44x44 | MP > 22x22 > 20x20 > 18x18 | MP > 9x9 > 7x7 > 5x5 > 3x3 > 1x1")
    assert "only 1" in fails(checks.check_pool_plan, "100 98 49").hint
    assert "odd" in fails(checks.check_pool_plan, "100 98 96 48 46 44 22 20 18 16 14 7 4").hint


def test_diagnosis_lower_the_learning_rate():
    options = {"a": "the learning rate is too high: lower it", "b": "remove torch.no_grad()", "f": "ReLU on the class scores"}
    checks.check_diagnosis("f", "f", options)
    assert "learning rate" in fails(checks.check_diagnosis, "a", "f", options).hint
    assert "no_grad" in fails(checks.check_diagnosis, "b", "f", options).hint


def _conv(x, w, b):
    return F.conv2d(x[None], w, b)[0]


def test_conv2d_function_hints():
    checks.check_conv2d_function(_conv)
    assert "bias" in fails(checks.check_conv2d_function, lambda x, w, b: F.conv2d(x[None], w)[0]).hint
    assert "flipped" in fails(checks.check_conv2d_function, lambda x, w, b: F.conv2d(x[None], w.flip(-1, -2), b)[0]).hint
    assert "summed" in fails(checks.check_conv2d_function, lambda x, w, b: torch.zeros(6, 4, 5)).hint
    assert isinstance(fails(checks.check_conv2d_function, lambda x, w, b: None), NotAttempted)
    crash = fails(checks.check_conv2d_function, lambda x, w, b: 1 / 0)
    assert "ZeroDivisionError" in crash.hint


def test_fixed_net_detects_the_final_relu():
    checks.check_fixed_net(lambda: _Fixed())
    assert "still has the bug" in str(fails(checks.check_fixed_net, lambda: _Wrapped(True)))
    assert "LectureNet" in str(fails(checks.check_fixed_net, lambda: evalib.LectureNet(final_relu=False)))


class _Wrapped(torch.nn.Module):
    def __init__(self, final_relu):
        super().__init__()
        self.inner = evalib.LectureNet(final_relu)
        # hide the class from the reuse check by copying its layers
        for name, module in list(self.inner.named_children()):
            self.add_module(name, module)
        del self.inner
        self.final_relu = final_relu

    forward = evalib.LectureNet.forward


class _Fixed(_Wrapped):
    def __init__(self):
        super().__init__(False)


def test_helpers_are_forbidden_inside_student_code():
    def student(n):
        return evalib.format_chain(evalib.shrink_chain(n))

    failure = fails(checks.call_without_helpers, student, 7, what="conv_chain")
    assert "shrink_chain" in failure.hint
    from evalib import conv_output_size as cos

    def sneaky(n):
        return cos(n, 3)

    assert "conv_output_size" in fails(checks.call_without_helpers, sneaky, 7).hint
    assert checks.call_without_helpers(lambda n: n - 2, 7) == 5
    assert evalib.conv_output_size(7, 3) == 5  # restored afterwards


def test_failure_renders_without_traceback():
    failure = fails(checks.check_conv_count, 100)
    lines = failure._render_traceback_()
    assert "Traceback" not in "\n".join(lines)
    assert lines[0].endswith("Not the right number of convolutions.\x1b[0m")


def test_checks_do_not_import_nbgrader():
    import subprocess
    import sys

    code = "import sys, evalib.checks; assert 'nbgrader' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- assignment 4: the lecture network annotated, loaders, a small network ----------------------
LECTURE_ANNOTATIONS = [
    ("conv1", "28x28x1", "28x28x32", 3), ("conv2", "28x28x32", "28x28x64", 5), ("pool1", "28x28x64", "14x14x64", 6),
    ("conv3", "14x14x64", "14x14x128", 10), ("conv4", "14x14x128", "14x14x256", 14), ("pool2", "14x14x256", "7x7x256", 16),
    ("conv5", "7x7x256", "5x5x512", 24), ("conv6", "5x5x512", "3x3x1024", 32), ("conv7", "3x3x1024", "1x1x10", 40),
]


def _sizes(text):
    return tuple(int(n) for n in text.split("x"))


@pytest.mark.parametrize("answer", [
    LECTURE_ANNOTATIONS,
    [(a, b, c) for _, a, b, c in LECTURE_ANNOTATIONS],
    [(_sizes(a), _sizes(b), f"{c}x{c}") for _, a, b, c in LECTURE_ANNOTATIONS],
    {name: (a.replace("x", " x "), b, c) for name, a, b, c in LECTURE_ANNOTATIONS},
    [{"layer": name, "input": a, "output": b, "rf": c} for name, a, b, c in LECTURE_ANNOTATIONS],
])
def test_annotations_accept_every_way_of_writing_them(answer, capsys):
    checks.check_layer_sizes(answer)
    checks.check_layer_rfs(answer)
    assert capsys.readouterr().out.count("✓ correct") == 2


def _with(index, entry):
    rows = list(LECTURE_ANNOTATIONS)
    rows[index] = entry
    return rows


def test_annotations_recognise_the_syllabus_wrong_answers():
    failure = fails(checks.check_layer_sizes, _with(0, ("conv1", "28x28x1", "26x26x32", 3)))
    assert "padding=1" in failure.hint and failure.answer == "conv1: 28x28x1 > 26x26x32"
    assert "no padding" in fails(checks.check_layer_sizes, _with(6, ("conv5", "7x7x256", "7x7x512", 24))).hint
    assert "divides height and width" in fails(checks.check_layer_sizes, _with(2, ("pool1", "28x28x64", "28x28x64", 6))).hint
    assert "channels" in fails(checks.check_layer_sizes, _with(2, ("pool1", "28x28x64", "14x14x32", 6))).hint
    assert "one output channel per kernel" in fails(checks.check_layer_sizes, _with(1, ("conv2", "28x28x32", "28x28x32", 5))).hint
    assert "output of the layer before" in fails(checks.check_layer_sizes, _with(3, ("conv3", "28x28x64", "28x28x128", 10))).hint
    assert "channels too" in fails(checks.check_layer_sizes, [(n, a[:-2], b, c) if n == "conv1" else (n, a, b, c) for n, a, b, c in LECTURE_ANNOTATIONS]).hint
    shortcut = [(n, a, b, rf) for (n, a, b, _), rf in zip(LECTURE_ANNOTATIONS, [3, 5, 10, 12, 14, 28, 30, 32, 34])]
    failure = fails(checks.check_layer_rfs, shortcut)
    assert "shortcut" in failure.hint and "40" not in str(failure)
    assert "jump" in fails(checks.check_layer_rfs, _with(8, ("conv7", "3x3x1024", "1x1x10", 22))).hint
    assert "one entry per layer" in str(fails(checks.check_layer_sizes, LECTURE_ANNOTATIONS[:7]))
    assert "could not read" in str(fails(checks.check_layer_sizes, "conv1 28 28 3"))
    assert isinstance(fails(checks.check_layer_rfs, None), NotAttempted)
    assert isinstance(fails(checks.check_layer_sizes, []), NotAttempted)


def test_computed_with_follows_the_answer_back_to_evalib():
    cells = [
        "import evalib",
        "net = evalib.LectureNet()\ns = evalib.summary(net, (1, 28, 28))",
        "rows = [r for r in s if r.role == 'conv']",
        "lecture_annotations = [(None, None, r.rf) for r in rows]",
    ]
    namespace = {"evalib": evalib}
    exec("\n".join(cells), namespace)
    assert checks.computed_with("lecture_annotations", cells=cells, namespace=namespace) == ["evalib.design.summary:summary"]
    # by hand, or with a function of one's own: nothing to report
    namespace["my_rf"] = lambda layers: [3, 5]
    assert checks.computed_with("lecture_annotations", cells=cells + ["lecture_annotations = my_rf([])"], namespace=namespace) == []
    # comparing a hand-written answer with the summary is fine; building it in a loop from the summary is not
    by_hand = "lecture_annotations = [(None, None, 3)]\nprint(evalib.summary(evalib.LectureNet(), (1, 28, 28)))"
    assert checks.computed_with("lecture_annotations", cells=[by_hand], namespace=namespace) == []
    looped = "lecture_annotations = []\nfor r in evalib.summary(net, (1, 28, 28)):\n    lecture_annotations.append(r.rf)"
    assert checks.computed_with("lecture_annotations", cells=[looped], namespace=namespace) == ["evalib.design.summary:summary"]
    # a property that measures for you (data.stats calls evalib.pixel_stats)
    data = evalib.MnistData(torch.rand(4, 1, 28, 28), torch.arange(4), torch.rand(2, 1, 28, 28), torch.arange(2), "t", "", "")
    found = checks.computed_with("train_mean", checks.DATA_HELPERS, cells=["train_mean = data.stats.mean"], namespace={"data": data})
    assert found == ["evalib.mnist.data:pixel_stats"]
    assert checks.computed_with("lecture_annotations") == []  # outside IPython there is no history to read


@pytest.fixture(scope="module")
def small_data():
    g = torch.Generator().manual_seed(0)
    return evalib.MnistData(torch.randint(0, 256, (60, 1, 28, 28), generator=g).float() / 255, torch.arange(60) % 10,
                            torch.randint(0, 256, (20, 1, 28, 28), generator=g).float() / 255 * 0.8, torch.arange(20) % 10,
                            "test", "random", "validation split")


def test_mean_std_hints(small_data, capsys):
    def right(images):
        return images.mean().item(), images.std().item()

    checks.check_mean_std_function(right)
    assert "variance" in fails(checks.check_mean_std_function, lambda x: (x.mean(), x.var())).hint
    assert "each image" in fails(checks.check_mean_std_function, lambda x: (x.mean(), x.flatten(1).std(1).mean())).hint
    assert isinstance(fails(checks.check_mean_std_function, lambda x: None), NotAttempted)
    train, val = small_data.train_images, small_data.test_images
    checks.check_mean_std(*right(train), train, val)
    assert "0.1307" in capsys.readouterr().out
    assert "published" in fails(checks.check_mean_std, 0.1307, 0.3081, train, val).hint
    assert "validation digits" in fails(checks.check_mean_std, *right(val), train, val).hint
    assert "included the validation" in fails(checks.check_mean_std, *right(torch.cat([train, val])), train, val).hint
    assert "255" in fails(checks.check_mean_std, *(255 * v for v in right(train)), train, val).hint
    assert "swapped" in fails(checks.check_mean_std, *reversed(right(train)), train, val).hint


def _loaders(normalise_val=None, shuffle=True, squeeze=False):
    def make_loaders(data, mean, std, batch_size=32):
        x = (data.train_images - mean) / std
        v = data.test_images
        v = (v - mean) / std if normalise_val is None else normalise_val(v)
        train = torch.utils.data.TensorDataset(x.squeeze(1) if squeeze else x, data.train_labels)
        val = torch.utils.data.TensorDataset(v, data.test_labels)
        return torch.utils.data.DataLoader(train, batch_size=batch_size, shuffle=shuffle), torch.utils.data.DataLoader(val, batch_size=7)
    return make_loaders


def test_loader_hints(small_data, capsys):
    checks.check_loaders(_loaders(), small_data, batch_size=16)
    checks.check_loaders(_loaders(), small_data, 0.4, 0.2, batch_size=16)
    assert capsys.readouterr().out.count("✓ correct") == 2
    assert "own mean and std" in fails(checks.check_loaders, _loaders(lambda v: (v - v.mean()) / v.std()), small_data).hint
    assert "not normalized" in fails(checks.check_loaders, _loaders(lambda v: v), small_data).hint
    assert "published" in fails(checks.check_loaders, _loaders(lambda v: (v - 0.1307) / 0.3081), small_data).hint
    assert "shuffle=True" in fails(checks.check_loaders, _loaders(shuffle=False), small_data).hint
    assert "channel axis" in fails(checks.check_loaders, _loaders(squeeze=True), small_data).hint
    assert "two loaders" in str(fails(checks.check_loaders, lambda d, m, s, batch_size=32: d, small_data))
    assert isinstance(fails(checks.check_loaders, lambda d, m, s, batch_size=32: None, small_data), NotAttempted)


class _Tiny(torch.nn.Module):
    def __init__(self, width=8, head=None):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, width, 3)
        self.head = head or torch.nn.Linear(width, 10)

    def forward(self, x):
        return F.log_softmax(self.head(self.conv(x).mean(dim=(2, 3))), dim=1)


class _Liar(_Tiny):
    def parameters(self, recurse=True):  # reports no weights at all
        return iter([])


class _Probabilities(_Tiny):
    def forward(self, x):
        return super().forward(x).exp()


def test_small_net_budget_reuse_and_outputs(capsys):
    checks.check_small_net(_Tiny)
    assert "170 parameters" in capsys.readouterr().out
    big = lambda: _Tiny(8, torch.nn.Sequential(torch.nn.Linear(8, 5000), torch.nn.Linear(5000, 10)))  # noqa: E731
    failure = fails(checks.check_small_net, big)
    assert "over the budget" in str(failure) and "head.1, has 50,010" in failure.hint
    assert "over the budget" in str(fails(checks.check_small_net, lambda: _Liar(8, torch.nn.Linear(8, 30_000))))
    assert "LeanNet" in str(fails(checks.check_small_net, lambda: evalib.LeanNet(widths=(4, 4, 4, 4, 4, 4))))
    assert "log_softmax" in fails(checks.check_small_net, _Probabilities).hint
    assert isinstance(fails(checks.check_small_net, torch.nn.Module), NotAttempted)
    assert checks.count_parameters(_Liar()) == checks.count_parameters(_Tiny())


class _Oracle(torch.nn.Module):
    """Reads the digit off the (normalized) image: the brightness says the label."""

    def __init__(self, mean, std, wrong_every=0):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(1))
        self.mean, self.std, self.wrong_every = mean, std, wrong_every

    def forward(self, x):
        label = torch.round((x.flatten(1).mean(1) * self.std + self.mean) * 10).long().clamp(0, 9)
        if self.wrong_every:
            label[:: self.wrong_every] = (label[:: self.wrong_every] + 1) % 10
        return F.log_softmax(F.one_hot(label, 10).float() * 10 * self.scale, dim=1)


def test_trained_model_is_evaluated_here(capsys):
    labels = torch.arange(100) % 10
    images = (labels.float() / 10).view(-1, 1, 1, 1).expand(100, 1, 28, 28).clone()
    checks.check_trained_model(_Oracle(0.5, 0.25), images, labels, 0.5, 0.25, target=0.95)
    assert "100.0%" in capsys.readouterr().out
    failure = fails(checks.check_trained_model, _Oracle(0.5, 0.25, wrong_every=10), images, labels, 0.5, 0.25, target=0.95)
    assert failure.answer == "90.0% of the held-out digits"
    assert "chance" in fails(checks.check_trained_model, _Oracle(0.5, 0.25, wrong_every=1), images, labels, 0.5, 0.25).hint
    assert isinstance(fails(checks.check_trained_model, torch.nn.Module(), images, labels, 0.5, 0.25), NotAttempted)
    assert "LeanNet" in str(fails(checks.check_trained_model, evalib.LeanNet(), images, labels, 0.5, 0.25))
