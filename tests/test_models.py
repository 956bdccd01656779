"""The lesson-4/5 models: the syllabus table layer by layer, the lean design, the baseline, the bug."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import evalib
from evalib.mnist.models import ClassicNet, LeanNet, LectureNet, LectureNetFC

# The syllabus table of the lecture network: layer -> (output C, H, W, params).
LECTURE_TABLE = {
    "conv1": ((32, 28, 28), 320),
    "conv2": ((64, 28, 28), 18_496),
    "pool1": ((64, 14, 14), 0),
    "conv3": ((128, 14, 14), 73_856),
    "conv4": ((256, 14, 14), 295_168),
    "pool2": ((256, 7, 7), 0),
    "conv5": ((512, 5, 5), 1_180_160),
    "conv6": ((1024, 3, 3), 4_719_616),
    "conv7": ((10, 1, 1), 92_170),
}
LECTURE_RF = {"conv1": 3, "conv2": 5, "pool1": 6, "conv3": 10, "conv4": 14, "pool2": 16, "conv5": 24, "conv6": 32, "conv7": 40}
CLASSIC_TABLE = {
    "conv1": ((32, 26, 26), 320),
    "conv2": ((64, 24, 24), 18_496),
    "pool": ((64, 12, 12), 0),
    "fc1": ((128,), 1_179_776),
    "fc2": ((10,), 1_290),
}


def _real_shapes(model: nn.Module, names) -> dict[str, tuple]:
    """Output shapes recorded by forward hooks on the real torch layers."""
    shapes, modules = {}, dict(model.named_modules())
    hooks = [modules[n].register_forward_hook(lambda m, i, o, n=n: shapes.__setitem__(n, tuple(o.shape[1:]))) for n in names]
    with torch.no_grad():
        model.eval()(torch.zeros(2, 1, 28, 28))
    for h in hooks:
        h.remove()
    return shapes


def _own_params(model: nn.Module, name: str) -> int:
    return sum(p.numel() for p in dict(model.named_modules())[name].parameters())


@pytest.mark.parametrize("final_relu", [True, False])
def test_lecture_network_matches_the_syllabus_table(final_relu):
    model = LectureNet(final_relu=final_relu)
    s = evalib.summary(model, (1, 28, 28))
    real = _real_shapes(model, LECTURE_TABLE)
    for name, (shape, params) in LECTURE_TABLE.items():
        assert s[name].output_shape == shape == real[name], name
        assert s[name].params == params == _own_params(model, name), name
        assert s[name].rf == LECTURE_RF[name], name
    assert s.total_params == sum(p for _, p in LECTURE_TABLE.values()) == 6_379_786


def test_classic_baseline_has_the_pytorch_example_layers():
    model = ClassicNet()
    s = evalib.summary(model, (1, 28, 28))
    real = _real_shapes(model, CLASSIC_TABLE)
    for name, (shape, params) in CLASSIC_TABLE.items():
        assert s[name].output_shape == shape == real[name], name
        assert s[name].params == params == _own_params(model, name), name
    assert s.total_params == 1_199_882
    assert [type(m).__name__ for m in model.children()] == [
        "Conv2d", "Conv2d", "MaxPool2d", "Dropout", "Linear", "Dropout", "Linear"]
    assert (model.dropout1.p, model.dropout2.p) == (0.25, 0.5)


def test_lean_network_follows_every_design_rule():
    model = LeanNet()
    assert evalib.lint(model, (1, 28, 28)) == []
    s = evalib.summary(model, (1, 28, 28))
    assert s.total_params == 42_298 == sum(p.numel() for p in model.parameters())
    convs = s.of_role("conv")
    assert all(row.kernel_size in ((3, 3), (1, 1)) for row in convs)
    pools = s.of_role("maxpool")
    assert [s[p.inputs[0]].rf for p in pools] == [5, 14]  # pool only once edges are covered
    assert all(p.kernel_size == (2, 2) for p in pools)
    assert s["block3.5"].rf >= 28 and s["block3.5"].output_shape == (32, 4, 4)  # whole digit seen, map kept 4x4
    assert s.of_role("globalpool") and s.of_role("norm")
    assert _real_shapes(model, ["classifier"])["classifier"] == (10, 1, 1)


def test_lean_network_is_much_cheaper_than_the_lecture_network():
    assert sum(p.numel() for p in LeanNet().parameters()) * 100 < sum(p.numel() for p in LectureNet().parameters())


def test_lint_sees_the_bug_in_both_lecture_variants():
    assert [w.rule for w in evalib.lint(LectureNet(final_relu=True), (1, 28, 28))] == ["final-activation"]
    assert [w.rule for w in evalib.lint(LectureNetFC(final_relu=True), (1, 28, 28))] == ["final-activation"]
    assert evalib.lint(LectureNetFC(final_relu=False), (1, 28, 28)) == []


def test_fc_variant_replaces_only_the_last_convolution():
    model = LectureNetFC()
    assert not hasattr(model, "conv7")
    assert _own_params(model, "fc1") == 9216 * 128 + 128 and _own_params(model, "fc2") == 128 * 10 + 10


def _scores_before_log_softmax(model, x, monkeypatch) -> torch.Tensor:
    seen = []
    real = F.log_softmax

    def spy(input, *args, **kwargs):
        seen.append(input.detach().clone())
        return real(input, *args, **kwargs)

    monkeypatch.setattr(F, "log_softmax", spy)
    with torch.no_grad():
        out = model.eval()(x)
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(len(x)), atol=1e-5)
    return seen[-1]


@pytest.mark.parametrize("cls", [LectureNet, LectureNetFC])
def test_buggy_network_scores_are_never_negative_before_log_softmax(cls, monkeypatch):
    x = torch.randn(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    buggy = _scores_before_log_softmax(cls(final_relu=True), x, monkeypatch)
    assert buggy.shape == (16, 10) and float(buggy.min()) >= 0.0
    torch.manual_seed(0)  # the same weights again
    fixed = _scores_before_log_softmax(cls(final_relu=False), x, monkeypatch)
    assert float(fixed.min()) < 0.0
    assert torch.equal(buggy, fixed.clamp(min=0))  # same weights: the only difference is the ReLU


@pytest.mark.parametrize("cls", [LeanNet, ClassicNet, LectureNet])
def test_every_model_returns_log_probabilities_for_ten_classes(cls):
    with torch.no_grad():
        out = cls().eval()(torch.randn(3, 1, 28, 28))
    assert out.shape == (3, 10)
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(3), atol=1e-5)
