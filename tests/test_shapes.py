"""Shape arithmetic against torch's own layers, and the course's worked numbers."""
from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from hypothesis import given, settings
from hypothesis import strategies as st

import evalib
from evalib import conv_output_size, conv_weight_count, format_chain, layers_for_rf, plan_to_one, shrink_chain

torch.set_num_threads(1)


@st.composite
def layer_configs(draw):
    k = draw(st.integers(1, 7))
    d = draw(st.integers(1, 3))
    p = draw(st.integers(0, 3))
    s = draw(st.integers(1, 4))
    span = d * (k - 1) + 1
    n = draw(st.integers(max(1, span - 2 * p), 40))
    return n, k, s, p, d


@settings(max_examples=150, deadline=None)
@given(layer_configs())
def test_conv_output_size_matches_torch_conv2d(cfg):
    n, k, s, p, d = cfg
    conv = nn.Conv2d(1, 1, k, stride=s, padding=p, dilation=d, bias=False)
    with torch.no_grad():
        out = conv(torch.zeros(1, 1, n, n))
    assert conv_output_size(n, k, s, p, d) == out.shape[-1]


@settings(max_examples=150, deadline=None)
@given(layer_configs(), st.booleans())
def test_conv_output_size_matches_torch_max_pool(cfg, ceil_mode):
    n, k, s, p, d = cfg
    p = min(p, k // 2)  # torch's pooling requires padding <= kernel/2
    span = d * (k - 1) + 1
    if span > n + 2 * p:
        return
    out = nn.functional.max_pool2d(torch.zeros(1, 1, n, n), k, s, p, d, ceil_mode=ceil_mode)
    assert conv_output_size(n, k, s, p, d, ceil_mode=ceil_mode) == out.shape[-1]


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(n=2, kernel_size=5), "kernel covers 5 pixels"),
        (dict(n=0, kernel_size=3), "size must be positive"),
        (dict(n=-4, kernel_size=3), "size must be positive"),
        (dict(n=10, kernel_size=3, stride=0), "stride must be positive"),
        (dict(n=10, kernel_size=0), "kernel_size must be positive"),
        (dict(n=10, kernel_size=3, padding=-1), "padding must be at least 0"),
        (dict(n=10.5, kernel_size=3), "whole number"),
    ],
)
def test_invalid_input_raises_value_error_that_explains(kwargs, fragment):
    with pytest.raises(ValueError, match=fragment):
        conv_output_size(**kwargs)


def test_shrink_chain_199_takes_99_convolutions():
    chain = shrink_chain(199)
    assert chain[0] == 199 and chain[-1] == 1
    assert len(chain) - 1 == 99
    assert all(a - b == 2 for a, b in zip(chain, chain[1:]))
    text = format_chain(chain)
    assert text.startswith("199x199 > 197x197 > 195x195")
    assert text.endswith("5x5 > 3x3 > 1x1")
    assert text.count(">") == 99


def test_shrink_chain_matches_repeated_torch_layers():
    for size, k, s in [(30, 3, 1), (64, 5, 2), (17, 2, 1)]:
        chain = shrink_chain(size, kernel_size=k, stride=s)
        x = torch.zeros(1, 1, size, size)
        seen = [size]
        while x.shape[-1] >= k:
            x = nn.functional.conv2d(x, torch.zeros(1, 1, k, k), stride=s)
            seen.append(x.shape[-1])
        assert chain == seen


def test_rectangular_chain_and_47x49():
    assert shrink_chain((47, 49))[1] == (45, 47)
    assert format_chain(shrink_chain((47, 49))[:2]) == "47x49 > 45x47"


def test_padded_chain_never_ends_is_an_error():
    with pytest.raises(ValueError, match="never ends"):
        shrink_chain(10, padding=1)


def test_weight_counts_from_the_lecture():
    assert conv_weight_count(3, 512, 512) == 2_359_296
    assert conv_weight_count(3, 256, 512) == 1_179_648  # 49x49x256 with 512 kernels: size does not matter
    conv = nn.Conv2d(1, 32, 3)
    assert conv_weight_count(3, 1, 32, bias=True) == sum(p.numel() for p in conv.parameters())


def test_layers_for_rf():
    assert layers_for_rf(21) == 10
    assert [layers_for_rf(rf) for rf in (1, 3, 5, 7, 9, 11)] == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValueError):
        layers_for_rf(0)


def test_pooling_plans_from_the_lecture_and_quiz():
    quiz = plan_to_one(100)
    assert quiz.convolutions == 10 and quiz.pools == 3
    assert str(quiz) == (
        "100x100 > 98x98 > 96x96 | MP > 48x48 > 46x46 > 44x44 | MP > 22x22 > 20x20 > 18x18"
        " | MP > 9x9 > 7x7 > 5x5 > 3x3 > 1x1"
    )
    lecture = plan_to_one(400, convs_before_pool=5, max_pools=4)
    assert lecture.convolutions == 27 and lecture.pools == 4
    assert "390x390 | MP > 195x195" in str(lecture)
    assert "31x31 | MP > 15x15 > 13x13" in str(lecture)


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 300), st.integers(0, 4))
def test_every_plan_is_valid_under_the_rules(size, before):
    try:
        plan = plan_to_one(size, convs_before_pool=before)
    except ValueError:
        return
    steps = list(plan.steps)
    assert steps[-1] == 1 and steps[-2] != "MP"
    since = 0
    for prev, step, nxt in zip(steps, steps[1:], steps[2:] + [None]):
        if step == "MP":
            assert since >= before
            assert nxt == prev // 2
            since = 0
        elif prev != "MP":
            assert step == prev - 2
            since += 1


def test_receptive_field_steps_on_a_plain_stack():
    steps = evalib.receptive_field_steps([3] * 10)
    assert [g.rf for g in steps][-1] == 21
    lecture = [(3, 1, 1), (3, 1, 1), (2, 2), (3, 1, 1), (3, 1, 1), (2, 2), 3, 3, 3]
    assert [g.rf for g in evalib.receptive_field_steps(lecture)] == [3, 5, 6, 10, 14, 16, 24, 32, 40]
    with pytest.raises(ValueError):
        evalib.receptive_field_steps([(3, 0)])
