"""evalib.summary against independent truth.

Shapes are compared with the tensors torch really produces (forward hooks).
Receptive fields are compared with a gradient probe: backpropagate from one
output pixel and measure the extent of the non-zero gradient on the input.
To make that extent exactly the receptive field, the probe copies the model
and makes every path positive (max pools become average pools of the same
geometry, activations become identities, weights become positive constants),
so no gradient cancels or is gated away.
"""
from __future__ import annotations

import copy

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import evalib
from evalib import LectureNet, SummaryError, conv_output_size, summary

torch.set_num_threads(1)

ACTIVATIONS = (nn.ReLU, nn.ReLU6, nn.Hardswish, nn.SiLU, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh)


def positive_copy(model: nn.Module) -> nn.Module:
    """A float64 copy of ``model`` in which every input pixel's influence is positive."""
    probe = copy.deepcopy(model).double().eval()
    for name, module in list(probe.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.MaxPool2d):
                replacement = nn.AvgPool2d(child.kernel_size, child.stride, child.padding, child.ceil_mode)
                setattr(module, child_name, replacement)
            elif isinstance(child, ACTIVATIONS) or isinstance(child, nn.Dropout):
                setattr(module, child_name, nn.Identity())
    with torch.no_grad():
        for module in probe.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                module.weight.fill_(1.0 / module.weight[0].numel())
                if module.bias is not None:
                    module.bias.fill_(0.0)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()
                module.reset_running_stats()
    return probe


def probe_extents(model: nn.Module, input_size, layer_names):
    """{layer: ((row_first, row_last), (col_first, col_last), (out_h, out_w))} measured by gradients.

    The probed pixel is the centre of the layer's output, summed over its channels.
    """
    probe = positive_copy(model)
    modules = dict(probe.named_modules())
    captured = {}
    hooks = [
        modules[name].register_forward_hook(lambda m, i, o, name=name: captured.__setitem__(name, o))
        for name in layer_names
    ]
    x = (torch.rand(1, *input_size, dtype=torch.float64) + 0.5).requires_grad_(True)
    probe(x)
    for h in hooks:
        h.remove()
    out = {}
    for name in layer_names:
        y = captured[name]
        oh, ow = y.shape[-2:]
        (grad,) = torch.autograd.grad(y[0, :, oh // 2, ow // 2].sum(), x, retain_graph=True)
        mask = grad[0].abs().sum(0) > 0
        rows = mask.any(1).nonzero().flatten()
        cols = mask.any(0).nonzero().flatten()
        if len(rows) == 0:  # the probed pixel sees only padding (a strided 1x1 on the padded border)
            out[name] = (None, None, (oh, ow))
            continue
        out[name] = ((int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max())), (oh, ow))
    return out


def expected_extent(row, size, axis):
    """First and last input pixel the summary says output pixel ``size // 2`` sees (may be outside)."""
    index = size // 2
    first = index * row.jump_hw[axis] - row.padding_hw[axis]
    return first, first + row.rf_hw[axis] - 1


def assert_rf_matches_probe(model, input_size, names, min_exact=1):
    """Measured extents equal the summary's where its span lies inside the image.

    Where the span runs past the image, padding, dilation gaps and border pixels
    dropped on the way (a floor in a strided layer) can hide some of it, so there
    the measured extent must only lie within the clipped span. ``min_exact`` layers at least
    must be checked exactly.
    """
    s = summary(model, input_size)
    measured = probe_extents(model, input_size, names)
    h, w = input_size[1:]
    exact = 0
    for name in names:
        row = s[name]
        rows, cols, (oh, ow) = measured[name]
        assert (oh, ow) == row.spatial_size, name
        er0, er1 = expected_extent(row, oh, 0)
        ec0, ec1 = expected_extent(row, ow, 1)
        if rows is None:  # no input pixel reaches it: its span cannot lie wholly inside the image
            assert not (er0 >= 0 and ec0 >= 0 and er1 <= h - 1 and ec1 <= w - 1), f"{name}: sees no pixel"
            continue
        (r0, r1), (c0, c1) = rows, cols
        where = f"{name}: measured rows {r0}-{r1} cols {c0}-{c1}, summary says {er0}-{er1} x {ec0}-{ec1} (rf {row.rf})"
        if er0 >= 0 and ec0 >= 0 and er1 <= h - 1 and ec1 <= w - 1:
            exact += 1
            assert (r0, r1, c0, c1) == (er0, er1, ec0, ec1), where
        else:
            assert max(er0, 0) <= r0 <= r1 <= min(er1, h - 1), where
            assert max(ec0, 0) <= c0 <= c1 <= min(ec1, w - 1), where
    assert exact >= min_exact, f"only {exact} of {len(names)} layers could be checked exactly"


def assert_shapes_match_torch(model, input_size):
    s = summary(model, input_size)
    shapes = {}
    hooks = [
        m.register_forward_hook(lambda mod, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
        for name, m in model.named_modules()
        if name and not list(m.children())
    ]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(2, *input_size))
    for h in hooks:
        h.remove()
    module_rows = [row for row in s if row.name in shapes]
    assert module_rows, "no module rows to compare"
    for row in module_rows:
        assert row.output_shape == shapes[row.name], row.name
    return s


# --- the lecture network ----------------------------------------------------------------------


def test_lecture_network_matches_the_syllabus():
    s = summary(LectureNet(), (1, 28, 28))
    assert s.total_params == 6_379_786 == s.trainable_params
    layers = s.of_role("conv", "maxpool")
    assert [r.name for r in layers] == ["conv1", "conv2", "pool1", "conv3", "conv4", "pool2", "conv5", "conv6", "conv7"]
    assert [r.rf for r in layers] == [3, 5, 6, 10, 14, 16, 24, 32, 40]
    assert [r.output_shape for r in layers] == [
        (32, 28, 28), (64, 28, 28), (64, 14, 14), (128, 14, 14), (256, 14, 14),
        (256, 7, 7), (512, 5, 5), (1024, 3, 3), (10, 1, 1),
    ]
    assert [r.params for r in layers] == [320, 18_496, 0, 73_856, 295_168, 0, 1_180_160, 4_719_616, 92_170]
    assert s["conv7"].jump == 4
    assert s[-1].output_shape == (10,)


def test_lecture_network_rfs_match_the_gradient_probe():
    names = ["conv1", "conv2", "pool1", "conv3", "conv4", "pool2", "conv5", "conv6"]
    assert_rf_matches_probe(LectureNet(final_relu=False), (1, 56, 56), names)
    assert_shapes_match_torch(LectureNet(), (1, 28, 28))


def test_summary_prints_a_table_and_html():
    s = summary(LectureNet(), (1, 28, 28))
    text = str(s)
    assert "conv7" in text and "6,379,786" in text and "[-1, 1024, 3, 3]" in text
    html = s._repr_html_()
    assert html.count("<tr>") == len(s) + 1 and "4,719,616" in html
    assert s["conv3"] is s[s.rows.index(s["conv3"])]
    with pytest.raises(KeyError, match="no layer named"):
        s["conv99"]


# --- random plain networks --------------------------------------------------------------------


@st.composite
def plain_networks(draw):
    size = draw(st.integers(24, 48))
    layers, channels, n = [], 1, size
    for _ in range(draw(st.integers(1, 6))):
        if draw(st.integers(0, 3)) == 0:
            k = draw(st.integers(2, 3))
            s = draw(st.integers(1, 2))
            p = draw(st.integers(0, k // 2))
            pool = draw(st.sampled_from([nn.MaxPool2d, nn.AvgPool2d]))
            layer = pool(k, s, p)
            d = 1
        else:
            k = draw(st.integers(1, 5))
            s = draw(st.integers(1, 2))
            p = draw(st.integers(0, 2))
            d = draw(st.integers(1, 2))
            out = draw(st.integers(1, 4))
            layer = nn.Conv2d(channels, out, k, stride=s, padding=p, dilation=d)
            channels = out
        if d * (k - 1) + 1 > n + 2 * p:
            break
        n = conv_output_size(n, k, s, p, d)
        layers.append(layer)
        if draw(st.booleans()):
            layers.append(nn.ReLU())
    assume(layers)
    return nn.Sequential(*layers), (1, size, size)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(plain_networks())
def test_random_plain_networks_shapes_and_rfs(net_and_size):
    net, size = net_and_size
    s = assert_shapes_match_torch(net, size)
    spatial = [r.name for r in s if r.role in ("conv", "maxpool", "avgpool")]
    assert_rf_matches_probe(net, size, spatial)


# --- branches and merges ----------------------------------------------------------------------


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.a = nn.Conv2d(4, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 5, padding=2)
        self.skip = nn.Conv2d(4, 4, 1)
        self.head = nn.Conv2d(4, 4, 3)

    def forward(self, x):
        x = F.relu(self.stem(x))
        y = self.b(F.relu(self.a(x))) + self.skip(x)
        return self.head(F.relu(y))


class Inception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.one = nn.Conv2d(1, 2, 1)
        self.three = nn.Conv2d(1, 2, 3, padding=1)
        self.five = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Conv2d(2, 2, 5, padding=2))
        self.pool = nn.MaxPool2d(2)
        self.after = nn.Conv2d(6, 3, 3)

    def forward(self, x):
        merged = torch.cat([self.one(x), self.three(x), self.five(x)], dim=1)
        return self.after(self.pool(merged))


def test_residual_merge_takes_the_largest_rf():
    s = assert_shapes_match_torch(Residual(), (1, 32, 32))
    add = s.of_role("merge")[0]
    assert add.rf == 3 + 2 + 4  # stem 3, a +2, b +4; the 1x1 skip sees only 3
    assert s["head"].rf == add.rf + 2
    assert_rf_matches_probe(Residual(), (1, 32, 32), ["stem", "a", "b", "skip", "head"])


def test_inception_merge_takes_the_largest_rf():
    s = assert_shapes_match_torch(Inception(), (1, 30, 30))
    cat = s.of_role("merge")[0]
    assert cat.rf == 7 and cat.output_shape == (6, 30, 30)
    assert s["pool"].rf == 8 and s["after"].rf == 12
    assert_rf_matches_probe(Inception(), (1, 30, 30), ["one", "three", "five.1", "pool", "after"])


# --- torchvision models -----------------------------------------------------------------------


def _spread(names, count):
    step = max(1, len(names) // count)
    return names[::step][:count] + [names[-1]]


@pytest.mark.parametrize(
    "builder, size",
    [
        (lambda: torchvision.models.vgg16(weights=None), 96),
        (lambda: torchvision.models.resnet18(weights=None), 96),
        (lambda: torchvision.models.mobilenet_v2(weights=None), 96),
    ],
    ids=["vgg16", "resnet18", "mobilenet_v2"],
)
def test_torchvision_models_shapes_and_rfs(builder, size):
    torch.manual_seed(0)
    model = builder()
    input_size = (3, size, size)
    s = assert_shapes_match_torch(model, input_size)
    assert s.total_params == sum(p.numel() for p in model.parameters())
    spatial = [r.name for r in s if r.role in ("conv", "maxpool") and r.spatial_size and min(r.spatial_size) >= 3]
    assert_rf_matches_probe(model, input_size, _spread(spatial, 6))


def test_known_resnet18_receptive_field():
    s = summary(torchvision.models.resnet18(weights=None), (3, 224, 224))
    assert s["layer4.1.conv2"].rf == 435 and s["layer4.1.conv2"].jump == 32


# --- errors -----------------------------------------------------------------------------------


class DataDependent(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x * 2
        return x


class Outer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 1, 3)
        self.gate = DataDependent()

    def forward(self, x):
        return self.gate(self.conv(x))


def test_untraceable_model_error_names_the_layer():
    with pytest.raises(SummaryError, match=r"layer gate \(DataDependent\)"):
        summary(Outer(), (1, 8, 8))


def test_wrong_input_size_error_names_the_layer():
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.Linear(10, 2))
    with pytest.raises(SummaryError, match="layer '0'"):
        summary(net, (1, 8, 8))
    with pytest.raises(SummaryError, match="layer '2'"):
        summary(net, (3, 8, 8))


@pytest.mark.parametrize("bad", [(28, 28), (1, 0, 28), "1x28x28", (1, 28.0, 28)])
def test_input_size_must_be_channels_height_width(bad):
    with pytest.raises(ValueError, match="input_size"):
        summary(LectureNet(), bad)


def test_summary_restores_training_mode():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    net.train()
    summary(net, (1, 8, 8))
    assert net.training and net[1].training
    assert evalib.summary is summary
