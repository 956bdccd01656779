"""Receptive-field arithmetic, layer by layer.

The exact rule the course teaches, for one spatial axis, starting from
``rf = 1, jump = 1, padding = 0`` at the input::

    rf_out      = rf_in + (kernel - 1) * dilation * jump_in
    jump_out    = jump_in * stride
    padding_out = padding_in + padding * jump_in

``jump`` is how many input pixels lie between two neighbouring output pixels
(the effective stride) and ``padding`` is the effective padding: output pixel
``i`` sees input pixels ``i * jump - padding`` to ``i * jump - padding + rf - 1``.

>>> steps = receptive_field_steps([(3, 1, 1), (2, 2, 0), (3, 1, 1), (3, 2, 0)])
>>> [s.rf for s in steps]
[3, 4, 8, 12]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from ..checks.guard import solves

__all__ = ["Geometry", "receptive_field_steps", "INPUT_GEOMETRY"]


@dataclass(frozen=True)
class Geometry:
    """Receptive field, jump and effective padding along one axis."""

    rf: int = 1
    jump: int = 1
    padding: int = 0

    @solves("a2_receptive_field", "a4_mnist_one_epoch")
    def after(self, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> "Geometry":
        """The geometry after a layer with this kernel, stride, padding and dilation.

        >>> Geometry().after(3).after(2, stride=2).after(3)
        Geometry(rf=8, jump=2, padding=0)
        """
        for name, value, low in (("kernel_size", kernel_size, 1), ("stride", stride, 1), ("dilation", dilation, 1), ("padding", padding, 0)):
            if value < low:
                raise ValueError(f"{name} must be at least {low}, got {value}.")
        return Geometry(
            rf=self.rf + (kernel_size - 1) * dilation * self.jump,
            jump=self.jump * stride,
            padding=self.padding + padding * self.jump,
        )

    def span(self, index: int) -> tuple[int, int]:
        """First and last input pixel (inclusive, may lie in the padding) seen by output pixel ``index``.

        >>> Geometry(rf=5, jump=1, padding=2).span(0)
        (-2, 2)
        """
        first = index * self.jump - self.padding
        return first, first + self.rf - 1


INPUT_GEOMETRY = Geometry()


def _as_layer(spec: object) -> tuple[int, int, int, int]:
    if isinstance(spec, int):
        return spec, 1, 0, 1
    if isinstance(spec, Sequence) and 1 <= len(spec) <= 4:
        values = list(spec) + [1, 0, 1][len(spec) - 1 :]
        kernel, stride, padding, dilation = (int(v) for v in values)
        return kernel, stride, padding, dilation
    raise ValueError(
        f"a layer is a kernel size or a tuple (kernel, stride, padding, dilation), got {spec!r}."
    )


@solves("a2_receptive_field", "a4_mnist_one_epoch")
def receptive_field_steps(layers: Iterable[object], start: Geometry = INPUT_GEOMETRY) -> list[Geometry]:
    """Geometry after each layer of a plain sequence (no branches).

    Each layer is a kernel size, or a tuple ``(kernel, stride, padding, dilation)``
    where the trailing entries may be left out. For models with branches use
    :func:`evalib.summary`, which follows the real graph.

    >>> [g.rf for g in receptive_field_steps([3] * 5)]
    [3, 5, 7, 9, 11]
    """
    out: list[Geometry] = []
    geometry = start
    for spec in layers:
        kernel, stride, padding, dilation = _as_layer(spec)
        geometry = geometry.after(kernel, stride, padding, dilation)
        out.append(geometry)
    return out
