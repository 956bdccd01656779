"""Initialization schemes against torch.nn.init's samples, the depth experiment, the symmetry demo."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn as nn

from evalib.lessons.initialization import (
    SCHEMES,
    deep_stack,
    depth_experiment,
    fans,
    init_model_,
    init_weights_,
    scheme_std,
    symmetry_demo,
)

torch.set_num_threads(1)

# Each scheme and how torch.nn.init draws the same distribution.
TORCH_EQUIVALENT = {
    "constant": lambda w: nn.init.constant_(w, 0.1),
    "normal_1": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "normal_0.01": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "xavier_uniform": nn.init.xavier_uniform_,
    "xavier_normal": nn.init.xavier_normal_,
    "he_uniform": lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"),
    "he_normal": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
    "pytorch_default": lambda w: nn.init.kaiming_uniform_(w, a=math.sqrt(5)),
}
SHAPES = [(64, 32, 3, 3), (128, 300), (16, 3, 5, 5)]


def test_every_scheme_has_a_torch_counterpart():
    assert set(SCHEMES) == set(TORCH_EQUIVALENT)


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_match_torch(shape):
    w = torch.empty(shape)
    assert fans(w) == nn.init._calculate_fan_in_and_fan_out(w)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(SCHEMES))
def test_samples_have_the_statistics_of_torch_nn_init(name, shape):
    ours, theirs = torch.empty(shape), torch.empty(shape)
    torch.manual_seed(0)
    init_weights_(ours, name, value=0.1, generator=torch.Generator().manual_seed(1))
    TORCH_EQUIVALENT[name](theirs)
    n = ours.numel()
    # the sample std of n draws is within a few (std / sqrt(2n)) of the truth
    tolerance = 6 * float(theirs.std()) / math.sqrt(2 * n) + 1e-6
    assert abs(float(ours.std()) - float(theirs.std())) < 2 * tolerance
    assert abs(float(ours.mean()) - float(theirs.mean())) < 6 * float(theirs.std()) / math.sqrt(n) + 1e-7
    # the formula's std agrees with the samples
    fan_in, fan_out = fans(ours)
    assert abs(scheme_std(name, fan_in, fan_out) - float(theirs.std())) < 2 * tolerance
    if SCHEMES[name].distribution == "uniform":
        bound = math.sqrt(3) * scheme_std(name, fan_in, fan_out)
        assert float(ours.abs().max()) <= bound
        assert float(theirs.abs().max()) <= bound * (1 + 1e-6)
        assert float(ours.abs().max()) > 0.99 * bound


def test_pytorch_default_is_what_a_fresh_conv_layer_draws_and_a_sixth_of_he():
    conv = nn.Conv2d(64, 64, 3).requires_grad_(False)
    fan_in, fan_out = fans(conv.weight)
    assert float(conv.weight.abs().max()) <= 1 / math.sqrt(fan_in)
    assert abs(float(conv.weight.std()) - scheme_std("pytorch_default", fan_in, fan_out)) < 0.02 * float(conv.weight.std())
    assert math.isclose(scheme_std("he_normal", fan_in, fan_out) ** 2, 6 * scheme_std("pytorch_default", fan_in, fan_out) ** 2)


def test_init_model_sets_biases_to_zero_and_rejects_unknown_schemes():
    model = init_model_(deep_stack(3, width=4), "he_normal")
    assert all(float(m.bias.detach().abs().max()) == 0 for m in model if isinstance(m, nn.Conv2d))
    with pytest.raises(ValueError, match="he_normal"):
        init_model_(model, "he")


# The syllabus's figures for a 50-layer 3x3 ReLU conv stack with zero bias (activation std at
# layer 50): about 1e-20 (PyTorch default), 1e-8 (Xavier), 0.6 (He), 1e-39 (N(0, 0.01)).
# Our defaults: 64 channels, 16x16 noise input with std 1, batch 8, padding 1.
@pytest.mark.parametrize(
    "scheme, low, high",
    [
        ("pytorch_default", 1e-22, 1e-19),
        ("xavier_normal", 1e-10, 1e-7),
        ("xavier_uniform", 1e-10, 1e-7),
        ("he_normal", 0.03, 3.0),
        ("he_uniform", 0.03, 3.0),
        ("normal_0.01", 1e-41, 1e-38),
    ],
)
def test_fifty_layer_stack_reproduces_the_syllabus_orders_of_magnitude(scheme, low, high):
    record = depth_experiment(scheme, depth=50)
    assert record.depth == 50 and len(record.grad_norm) == 50
    assert low < record.final_std < high, record.final_std


@pytest.mark.parametrize("scheme, factor", [("pytorch_default", 1 / 6), ("xavier_normal", 1 / 2)])
def test_std_shrinks_by_the_predicted_factor_per_layer(scheme, factor):
    # with a ReLU, each layer multiplies E[x^2] by fan_in * Var(w) / 2; the zero padding at the
    # borders of a 16x16 map and the finite width make the measured decay a little faster
    record = depth_experiment(scheme, depth=40)
    slope = (math.log(record.act_std[-1]) - math.log(record.act_std[9])) / 30
    assert 0.5 * math.log(factor) * 1.2 < slope < 0.5 * math.log(factor) * 0.95


def test_gradients_vanish_on_the_way_back_with_small_weights_but_not_with_he():
    small = depth_experiment("xavier_normal", depth=30, size=8, batch=4)
    he = depth_experiment("he_normal", depth=30, size=8, batch=4)
    assert small.grad_norm[0] < 1e-3 * small.grad_norm[-1]
    assert he.grad_norm[0] > 1e-2 * he.grad_norm[-1]
    assert all(m > 0 for m in he.act_mean)  # after a ReLU the mean is positive


def test_normal_1_explodes_and_tanh_and_linear_stacks_run():
    exploded = depth_experiment("normal_1", depth=50, size=8, batch=4)
    assert exploded.act_std[3] > 1e4 and not math.isfinite(exploded.final_std)
    tanh = depth_experiment("xavier_normal", depth=20, activation="tanh", size=8, batch=4)
    assert 0.05 < tanh.final_std < 1
    assert all(abs(m) < 0.1 for m in tanh.act_mean)
    linear = depth_experiment("he_normal", depth=20, kind="linear", width=256, batch=64)
    assert 0.1 < linear.final_std < 5
    assert linear.rows()[0][0] == 1


def test_depth_experiment_leaves_the_thread_count_alone():
    before = torch.get_num_threads()
    depth_experiment("he_normal", depth=2, size=4, threads=1)
    assert torch.get_num_threads() == before


def test_constant_weights_stay_identical_random_ones_stay_different():
    same = symmetry_demo("constant", steps=5)
    assert same.distinct == [1] * 6
    assert max(same.spread) == 0.0
    assert same.losses[-1] < same.losses[0]  # it does train, just as one channel
    different = symmetry_demo("he_normal", steps=5)
    assert different.distinct == [different.channels] * 6
    assert min(different.spread) > 0.1
