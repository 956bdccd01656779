"""Drive each explorer's controls from Python and check that its output changes as it should."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn as nn

pytest.importorskip("ipywidgets")

from evalib.lessons.images import digit, line_image
from evalib.lessons.initialization import depth_experiment
from evalib.lessons.kernels import apply_kernels, kernel
from evalib.design.summary import summary
from evalib.lessons.widgets import (
    STACK_PRESETS,
    InitExplorer,
    KernelEditor,
    ReceptiveFieldExplorer,
    stack_from_spec,
)

torch.set_num_threads(1)


# --- kernel editor ---------------------------------------------------------------------------


def test_kernel_editor_preset_fills_the_grid_and_recomputes():
    editor = KernelEditor(image="digit", preset="identity")
    assert np.allclose(editor.output, digit(3).numpy())
    before_png = editor.picture.value
    editor.preset.value = "sobel_x"
    assert np.allclose(editor.kernel, kernel("sobel_x").numpy())
    expected = apply_kernels(digit(3), ["sobel_x"])[0].numpy()
    assert np.allclose(editor.output, expected, atol=1e-5)
    assert editor.picture.value != before_png and editor.picture.value[:4] == b"\x89PNG"


def test_kernel_editor_typing_a_weight_changes_the_output_and_marks_custom():
    editor = KernelEditor(image="lines", preset="vertical_line")
    before = editor.output.copy()
    editor.cells[4].value = 0.0  # the centre weight, row 1 column 1
    assert editor.preset.value == "custom"
    assert editor.kernel[1, 1] == 0.0
    changed = torch.tensor(editor.kernel)
    expected = apply_kernels(torch.tensor(editor.image), [changed])[0].numpy()
    assert np.allclose(editor.output, expected, atol=1e-5)
    assert not np.allclose(editor.output, before)
    # the centre weight multiplies each pixel itself: the difference is 2 x the image
    assert np.allclose(before - editor.output, 2 * editor.image, atol=1e-5)


def test_kernel_editor_switching_image_and_own_image():
    editor = KernelEditor(image="digit", preset="box_blur")
    editor.image_choice.value = "photo"
    assert editor.output.shape == editor.image.shape == (120, 102)
    mine = KernelEditor(image=line_image(9, "horizontal"), preset="horizontal_line")
    assert mine.image_choice.value == "yours"
    assert mine.output.max() == pytest.approx(6.0)


# --- receptive-field explorer ----------------------------------------------------------------


def _gradient_box(model: nn.Module, layer_index: int, row: int, col: int) -> tuple[int, int, int, int]:
    """Input pixels that reach one output pixel, found by backpropagation (independent truth).

    Max pools are replaced by average pools of the same geometry so that every pixel in a
    window gets gradient, and all weights are 1.
    """
    layers = []
    for layer in list(model)[: layer_index + 1]:
        if isinstance(layer, nn.MaxPool2d):
            layers.append(nn.AvgPool2d(layer.kernel_size, layer.stride, layer.padding))
        else:
            conv = nn.Conv2d(1, 1, layer.kernel_size, layer.stride, layer.padding, bias=False)
            nn.init.ones_(conv.weight)
            layers.append(conv)
    x = torch.ones(1, 1, 28, 28, requires_grad=True)
    nn.Sequential(*layers)(x)[0, 0, row, col].backward()
    rows, cols = torch.nonzero(x.grad[0, 0], as_tuple=True)
    return int(rows.min()), int(cols.min()), int(rows.max()), int(cols.max())


def _clip(region: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    top, left, bottom, right = region
    return max(top, 0), max(left, 0), min(bottom, 27), min(right, 27)


@pytest.mark.parametrize("preset", list(STACK_PRESETS))
def test_rf_explorer_region_matches_the_summary_and_backpropagation(preset):
    explorer = ReceptiveFieldExplorer(stack=preset)
    truth = summary(stack_from_spec(STACK_PRESETS[preset]), (1, 28, 28))
    assert [r.name for r in explorer.summary] == [r.name for r in truth]
    model = stack_from_spec(STACK_PRESETS[preset])
    for index, layer_row in enumerate(truth):
        explorer.layer.value = layer_row.name
        height, width = layer_row.output_shape[-2:]
        explorer.row.value, explorer.col.value = height - 1, width // 2
        top, left, bottom, right = explorer.region
        assert (bottom - top + 1, right - left + 1) == layer_row.rf_hw
        assert explorer.layer_row.rf_hw == layer_row.rf_hw
        assert _clip(explorer.region) == _gradient_box(model, index, height - 1, width // 2)


def test_rf_explorer_moving_the_pixel_moves_the_box_by_the_jump():
    explorer = ReceptiveFieldExplorer(stack="block, max pool, block")
    explorer.layer.value = "4"  # after the pool: jump 2
    explorer.row.value, explorer.col.value = 3, 3
    first = explorer.region
    explorer.col.value = 4
    second = explorer.region
    assert second[1] - first[1] == 2 and second[3] - first[3] == 2 and second[0] == first[0]
    png = explorer.picture.value
    explorer.digit_label.value = 2
    assert explorer.picture.value != png and explorer.region == second


def test_rf_explorer_spec_text_changes_the_stack_and_reports_typos():
    explorer = ReceptiveFieldExplorer(stack="one 3x3 conv")
    explorer.spec.value = "c3 c3"
    assert explorer.stack.value == "two 3x3 convs"
    assert explorer.layer_row.rf == 5
    explorer.spec.value = "c5"
    assert explorer.stack.value == "one 5x5 conv" and explorer.layer_row.rf == 5
    explorer.spec.value = "c3 c3 c3s2"
    assert explorer.stack.value == "custom" and explorer.layer_row.rf == 7 and explorer.layer_row.jump == 2
    explorer.spec.value = "c3 q9"
    assert explorer.region is None and "q9" in explorer.error
    explorer.stack.value = "five 3x3 convs"
    assert explorer.error == "" and explorer.layer_row.rf == 11


def test_stack_from_spec_rejects_nonsense():
    with pytest.raises(ValueError):
        stack_from_spec("")
    with pytest.raises(ValueError, match="c3p1"):
        stack_from_spec("conv3")


# --- initialization explorer -----------------------------------------------------------------


def test_init_explorer_curve_follows_the_controls():
    explorer = InitExplorer(scheme="pytorch_default", depth=30)
    assert len(explorer.std_curve) == 30
    assert explorer.std_curve[-1] < 1e-9  # vanishing
    truth = depth_experiment("pytorch_default", depth=30, width=64, size=8, batch=4)
    assert explorer.std_curve == truth.act_std
    png = explorer.picture.value
    explorer.scheme.value = "he_normal"
    assert 0.01 < explorer.std_curve[-1] < 10  # kept alive
    assert explorer.picture.value != png
    explorer.depth.value = 12
    assert len(explorer.std_curve) == 12
    explorer.activation.value = "tanh"
    assert explorer.record.activation == "tanh"
    explorer.kind.value = "linear"
    assert explorer.record.kind == "linear" and len(explorer.std_curve) == 12
    explorer.scheme.value = "normal_1"  # overflows: the drawing must survive inf and nan
    assert explorer.picture.value[:4] == b"\x89PNG"
