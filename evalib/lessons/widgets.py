"""Interactive explorers for the lessons, built on ipywidgets.

Each explorer is a small class. Its controls are attributes (so a test, or a
curious student, can set them from Python), its latest result is an attribute
too, and ``.widget`` is the box to display; showing the object in a notebook
shows that box. All the computing is done by other evalib functions; the
explorers only wire controls to them and draw the result as a PNG.

* :class:`KernelEditor`: a 3x3 grid of weights plus presets; ``.output`` is the
  convolved image.
* :class:`ReceptiveFieldExplorer`: a stack of layers, a layer and an output
  pixel; ``.region`` is the input box that pixel sees.
* :class:`InitExplorer`: a scheme, a depth and an activation; ``.std_curve`` is the
  activation std after each layer.

ipywidgets and matplotlib are imported when an explorer is created, so
``import evalib`` stays light.

>>> editor = KernelEditor(image="lines", preset="identity")   # doctest: +SKIP
>>> editor.preset.value = "vertical_line"                      # doctest: +SKIP
>>> editor.output.shape                                        # doctest: +SKIP
(15, 15)
"""
from __future__ import annotations

import io
import re
from typing import Any, Callable

import numpy as np
import torch
import torch.nn as nn

from .images import digit, edge_and_gradient_image, line_image, photo
from .initialization import SCHEMES, DepthRecord, depth_experiment
from .kernels import KERNEL_DESCRIPTIONS, apply_kernels, kernel, kernel_names
from ..design.receptive_field import Geometry
from ..design.summary import LayerRow, ModelSummary, summary

__all__ = [
    "KernelEditor",
    "ReceptiveFieldExplorer",
    "InitExplorer",
    "STACK_PRESETS",
    "stack_from_spec",
    "kernel_editor",
    "receptive_field_explorer",
    "init_explorer",
]


def _png(draw: Callable[[Any], None], size: tuple[float, float]) -> bytes:
    """Draw on a fresh figure (no pyplot state) and return it as PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=80)
    FigureCanvasAgg(fig)
    draw(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()


class _Explorer:
    widget: Any

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


# --- kernel editor ---------------------------------------------------------------------------

_IMAGES: dict[str, Callable[[], torch.Tensor]] = {
    "digit": lambda: digit(3, 0),
    "photo": lambda: photo(120),
    "lines": lambda: torch.maximum(line_image(15, "vertical"), line_image(15, "diagonal")),
    "edge and gradient": lambda: edge_and_gradient_image(24),
}


class KernelEditor(_Explorer):
    """Type nine weights (or pick a preset) and see the convolved image at once.

    Controls: ``cells`` (nine ``FloatText``, row by row), ``preset`` (a
    ``Dropdown`` of :func:`evalib.kernel_names` plus ``"custom"``) and
    ``image_choice`` (``"digit"``, ``"photo"``, ``"lines"``, ``"edge and gradient"``).
    Results: ``kernel`` (3x3 array), ``image`` (the input), ``output`` (the
    convolved array, same size thanks to padding 1) and ``picture`` (the drawing).
    """

    def __init__(self, image: str | torch.Tensor = "digit", preset: str = "sobel_x") -> None:
        import ipywidgets as w

        self._busy = False
        self._custom_image = None if isinstance(image, str) else torch.as_tensor(image, dtype=torch.float32)
        choices = list(_IMAGES) + (["yours"] if self._custom_image is not None else [])
        self.image_choice = w.Dropdown(options=choices, value=image if isinstance(image, str) else "yours", description="image")
        self.preset = w.Dropdown(options=kernel_names() + ["custom"], value=preset, description="preset")
        start = kernel(preset).flatten().tolist() if preset != "custom" else [0.0] * 9
        self.cells = [
            w.FloatText(value=round(v, 4), step=0.1, continuous_update=True, layout=w.Layout(width="70px")) for v in start
        ]
        self.grid = w.GridBox(self.cells, layout=w.Layout(grid_template_columns="repeat(3, 76px)"))
        self.note = w.HTML()
        self.picture = w.Image(format="png")
        for cell in self.cells:
            cell.observe(self._on_cell, names="value")
        self.preset.observe(self._on_preset, names="value")
        self.image_choice.observe(lambda _change: self.update(), names="value")
        self.widget = w.HBox([w.VBox([self.image_choice, self.preset, self.grid, self.note]), self.picture])
        self.image: np.ndarray = np.zeros((1, 1))
        self.output: np.ndarray = np.zeros((1, 1))
        self.update()

    @property
    def kernel(self) -> np.ndarray:
        """The 3x3 weights currently in the grid."""
        return np.array([c.value for c in self.cells], dtype=np.float32).reshape(3, 3)

    def _on_cell(self, _change: Any) -> None:
        if self._busy:
            return
        if self.preset.value != "custom" and not np.allclose(self.kernel, kernel(self.preset.value).numpy(), atol=1e-4):
            self._busy = True
            self.preset.value = "custom"  # the grid no longer matches the preset
            self._busy = False
        self.update()

    def _on_preset(self, change: Any) -> None:
        if self._busy or change["new"] == "custom":
            return
        self._busy = True
        for cell, v in zip(self.cells, kernel(change["new"]).flatten().tolist()):
            cell.value = round(v, 4)
        self._busy = False
        self.update()

    def update(self) -> None:
        """Recompute ``output`` from the grid and the image, then redraw."""
        choice = self.image_choice.value
        img = self._custom_image if choice == "yours" else _IMAGES[choice]()
        self.image = img.numpy()
        self.output = apply_kernels(img, [torch.from_numpy(self.kernel)], padding=1)[0].numpy()
        name = self.preset.value
        about = KERNEL_DESCRIPTIONS.get(name, "your own kernel")
        self.note.value = (
            f"<b>{name}</b>: {about}<br>output range {self.output.min():.2f} to {self.output.max():.2f}"
        )
        self.picture.value = _png(self._draw, (7.5, 3.4))

    def _draw(self, fig: Any) -> None:
        left, right = fig.subplots(1, 2)
        left.imshow(self.image, cmap="gray")
        left.set_title("input")
        limit = float(np.abs(self.output).max()) or 1.0
        shown = right.imshow(self.output, cmap="RdBu_r", vmin=-limit, vmax=limit)
        right.set_title("output (red +, blue -)")
        fig.colorbar(shown, ax=right, fraction=0.046)
        for ax in (left, right):
            ax.set_xticks([])
            ax.set_yticks([])


def kernel_editor(image: str | torch.Tensor = "digit", preset: str = "sobel_x") -> KernelEditor:
    """Create a :class:`KernelEditor`; display it as the last line of a cell."""
    return KernelEditor(image=image, preset=preset)


# --- receptive-field explorer ----------------------------------------------------------------

#: Name -> layer spec understood by :func:`stack_from_spec`.
STACK_PRESETS: dict[str, str] = {
    "one 3x3 conv": "c3",
    "two 3x3 convs": "c3 c3",
    "one 5x5 conv": "c5",
    "five 3x3 convs": "c3 c3 c3 c3 c3",
    "block, max pool, block": "c3p1 c3p1 m2 c3p1 c3p1",
    "two blocks of three": "c3p1 c3p1 c3p1 m2 c3p1 c3p1 c3p1 m2 c3 c3",
    "strided 3x3 convs": "c3s2 c3s2 c3",
}

_TOKEN = re.compile(r"^(?P<kind>[cm])(?P<k>\d+)(?:s(?P<s>\d+))?(?:p(?P<p>\d+))?$")


def stack_from_spec(spec: str, channels: int = 1) -> nn.Sequential:
    """Build a stack of layers from a short text: ``c3`` conv 3x3, ``m2`` max pool 2x2.

    A token may add ``s<stride>`` and ``p<padding>``: ``c3p1`` keeps the size,
    ``c3s2`` halves it. Pools default to a stride equal to their window. Tokens
    are separated by spaces, commas or ``>``.

    >>> stack_from_spec("c3p1 m2 c5s2")
    Sequential(
      (0): Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
      (1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
      (2): Conv2d(1, 1, kernel_size=(5, 5), stride=(2, 2))
    )
    """
    tokens = [t for t in re.split(r"[\s,>]+", spec.strip().lower()) if t]
    if not tokens:
        raise ValueError("the stack is empty: write layers like 'c3 c3 m2 c3'")
    layers: list[nn.Module] = []
    for token in tokens:
        match = _TOKEN.match(token)
        if match is None:
            raise ValueError(
                f"cannot read layer {token!r}: write c<kernel> for a convolution or m<window> for a max pool, "
                "optionally followed by s<stride> and p<padding>, e.g. c3, c3p1, c3s2, m2"
            )
        k = int(match["k"])
        p = int(match["p"] or 0)
        if match["kind"] == "c":
            layers.append(nn.Conv2d(channels, channels, k, stride=int(match["s"] or 1), padding=p))
        else:
            layers.append(nn.MaxPool2d(k, stride=int(match["s"] or k), padding=p))
    return nn.Sequential(*layers)


class ReceptiveFieldExplorer(_Explorer):
    """Pick a stack, a layer and an output pixel; see the input region that pixel depends on.

    Controls: ``stack`` (preset ``Dropdown``), ``spec`` (the layers as text, see
    :func:`stack_from_spec`), ``layer`` (``Dropdown`` of layer names), ``row``
    and ``col`` (``IntSlider``, the output pixel) and ``digit_label``.
    Results: ``summary`` (the :func:`evalib.summary` of the stack on a 1x28x28
    digit), ``layer_row`` (its row for the chosen layer) and ``region``, the box
    ``(top, left, bottom, right)`` of input pixels (inclusive) that the output
    pixel sees; it may reach into the padding (negative or past 27).
    ``error`` holds a message when the spec cannot be read or built.
    """

    input_size = (1, 28, 28)

    def __init__(self, stack: str = "five 3x3 convs") -> None:
        import ipywidgets as w

        self._busy = False
        self.stack = w.Dropdown(options=list(STACK_PRESETS) + ["custom"], value=stack, description="stack")
        self.spec = w.Text(value=STACK_PRESETS.get(stack, ""), description="layers", continuous_update=False)
        self.layer = w.Dropdown(description="layer")
        self.row = w.IntSlider(description="out row", min=0, max=0)
        self.col = w.IntSlider(description="out col", min=0, max=0)
        self.digit_label = w.IntSlider(description="digit", value=8, min=0, max=9)
        self.table = w.HTML()
        self.picture = w.Image(format="png")
        self.summary: ModelSummary | None = None
        self.layer_row: LayerRow | None = None
        self.region: tuple[int, int, int, int] | None = None
        self.error = ""
        self.stack.observe(self._on_stack, names="value")
        self.spec.observe(self._on_spec, names="value")
        for control in (self.layer, self.row, self.col, self.digit_label):
            control.observe(self._on_pixel, names="value")
        controls = w.VBox([self.stack, self.spec, self.layer, self.row, self.col, self.digit_label])
        self.widget = w.VBox([w.HBox([controls, self.picture]), self.table])
        self._rebuild()

    def _on_stack(self, change: Any) -> None:
        if change["new"] in STACK_PRESETS and not self._busy:
            self.spec.value = STACK_PRESETS[change["new"]]  # triggers _on_spec

    def _on_spec(self, change: Any) -> None:
        self._busy = True
        match = [name for name, spec in STACK_PRESETS.items() if spec == change["new"].strip()]
        self.stack.value = match[0] if match else "custom"
        self._busy = False
        self._rebuild()

    def _on_pixel(self, _change: Any) -> None:
        if not self._busy:
            self.update()

    def _rebuild(self) -> None:
        """Summarize the stack again after its layers changed, then update."""
        try:
            self.summary = summary(stack_from_spec(self.spec.value), self.input_size)
            self.error = ""
        except Exception as exc:  # a student's typo must not break the widget
            self.summary, self.error = None, str(exc)
        self._busy = True
        names = [r.name for r in self.summary] if self.summary else []
        self.layer.options = names
        if names:
            self.layer.value = names[-1]
        self._busy = False
        self.update()

    def update(self) -> None:
        """Recompute ``region`` for the chosen layer and pixel, then redraw."""
        if self.summary is None or self.layer.value is None:
            self.layer_row, self.region = None, None
            self.table.value = f"<span style='color:#b00'>{self.error}</span>"
            self.picture.value = _png(self._draw, (3.6, 3.6))
            return
        row = self.summary[self.layer.value]
        height, width = row.output_shape[-2:]
        self._busy = True
        self.row.max, self.col.max = height - 1, width - 1
        self._busy = False
        self.layer_row = row
        vertical = Geometry(row.rf_hw[0], row.jump_hw[0], row.padding_hw[0])
        horizontal = Geometry(row.rf_hw[1], row.jump_hw[1], row.padding_hw[1])
        top, bottom = vertical.span(self.row.value)
        left, right = horizontal.span(self.col.value)
        self.region = (top, left, bottom, right)
        self.table.value = self._table_html()
        self.picture.value = _png(self._draw, (3.6, 3.6))

    def _table_html(self) -> str:
        assert self.summary is not None
        mark = ' style="background:#ffe9a8"'
        cells = "".join(
            f"<tr{mark if r.name == self.layer.value else ''}>"
            f"<td>{r.name}</td><td>{r.kind}</td><td>{r.output_shape[-2]}x{r.output_shape[-1]}</td>"
            f"<td>{r.rf_hw[0]}x{r.rf_hw[1]}</td><td>{r.jump_hw[0]}</td><td>{r.padding_hw[0]}</td></tr>"
            for r in self.summary
        )
        top, left, bottom, right = self.region  # type: ignore[misc]
        return (
            "<table><tr><th>layer</th><th>type</th><th>output</th><th>RF</th><th>jump</th><th>padding</th></tr>"
            f"{cells}</table>"
            f"Output pixel ({self.row.value}, {self.col.value}) of layer {self.layer.value} sees input rows "
            f"{top} to {bottom} and columns {left} to {right}."
        )

    def _draw(self, fig: Any) -> None:
        from matplotlib.patches import Rectangle

        ax = fig.subplots()
        ax.imshow(digit(self.digit_label.value, 0).numpy(), cmap="gray", extent=(-0.5, 27.5, 27.5, -0.5))
        if self.region is not None:
            top, left, bottom, right = self.region
            ax.add_patch(
                Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1, fill=True,
                          facecolor=(1.0, 0.8, 0.0, 0.25), edgecolor="orange", linewidth=2)
            )
            rf = self.layer_row.rf_hw if self.layer_row else ("?", "?")
            ax.set_title(f"RF {rf[0]}x{rf[1]} of layer {self.layer.value}", fontsize=10)
        ax.set_xlim(-4.5, 31.5)
        ax.set_ylim(31.5, -4.5)
        ax.set_xticks([0, 27])
        ax.set_yticks([0, 27])


def receptive_field_explorer(stack: str = "five 3x3 convs") -> ReceptiveFieldExplorer:
    """Create a :class:`ReceptiveFieldExplorer`; display it as the last line of a cell."""
    return ReceptiveFieldExplorer(stack=stack)


# --- initialization explorer -----------------------------------------------------------------


class InitExplorer(_Explorer):
    """Pick a scheme, a depth and an activation; see activation std layer by layer.

    Controls: ``scheme`` (``Dropdown`` of :data:`evalib.SCHEMES`), ``depth``
    (``IntSlider``), ``activation`` (``"relu"`` or ``"tanh"``) and ``kind``
    (``"conv"`` or ``"linear"``). Results: ``record`` (the
    :class:`evalib.DepthRecord`) and ``std_curve`` (its ``act_std``). The stack
    is 64 channels wide on an 8x8 input so that every change redraws quickly.
    """

    def __init__(self, scheme: str = "pytorch_default", depth: int = 50, activation: str = "relu") -> None:
        import ipywidgets as w

        options = [(s.label, s.name) for s in SCHEMES.values()]
        self.scheme = w.Dropdown(options=options, value=scheme, description="scheme")
        self.depth = w.IntSlider(value=depth, min=1, max=100, description="depth", continuous_update=False)
        self.activation = w.Dropdown(options=["relu", "tanh"], value=activation, description="activation")
        self.kind = w.Dropdown(options=["conv", "linear"], value="conv", description="layers")
        self.note = w.HTML()
        self.picture = w.Image(format="png")
        for control in (self.scheme, self.depth, self.activation, self.kind):
            control.observe(lambda _change: self.update(), names="value")
        self.widget = w.HBox([w.VBox([self.scheme, self.depth, self.activation, self.kind, self.note]), self.picture])
        self.record: DepthRecord | None = None
        self.std_curve: list[float] = []
        self.update()

    def update(self) -> None:
        """Rerun the depth experiment for the current controls, then redraw."""
        self.record = depth_experiment(
            self.scheme.value, depth=self.depth.value, kind=self.kind.value,
            activation=self.activation.value, width=64, size=8, batch=4,
        )
        self.std_curve = list(self.record.act_std)
        final = self.std_curve[-1]
        self.note.value = (
            f"std after layer {self.depth.value}: <b>{final:.3g}</b><br>"
            f"{SCHEMES[self.scheme.value].description}"
        )
        self.picture.value = _png(self._draw, (5.0, 3.4))

    def _draw(self, fig: Any) -> None:
        ax = fig.subplots()
        curve = np.array(self.std_curve, dtype=np.float64)
        layers = np.arange(1, len(curve) + 1)
        shown = np.isfinite(curve) & (curve > 0)
        ax.semilogy(layers[shown], curve[shown], marker=".", color="tab:blue")
        if not shown.all():
            ax.text(0.02, 0.05, "missing points: overflow (inf/nan) or exactly 0", transform=ax.transAxes, fontsize=8)
        ax.axhline(1.0, color="gray", linewidth=0.8, linestyle=":")
        ax.set_xlabel("layer")
        ax.set_ylabel("activation std")
        ax.set_title(f"{SCHEMES[self.scheme.value].label}, {self.activation.value}, {self.kind.value}", fontsize=10)


def init_explorer(scheme: str = "pytorch_default", depth: int = 50, activation: str = "relu") -> InitExplorer:
    """Create an :class:`InitExplorer`; display it as the last line of a cell."""
    return InitExplorer(scheme=scheme, depth=depth, activation=activation)
