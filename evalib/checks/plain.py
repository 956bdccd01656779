"""Plain data: what may cross from a student's process to the side that judges it.

:func:`to_plain` turns any value into JSON-able data and never runs the value's
own methods (no ``__eq__``, ``__iter__``, ``__repr__``, ``item`` or
``__torch_function__`` of a subclass): containers are read through the base
classes' methods, tensors under ``torch._C.DisableTorchFunction()``. Anything
else becomes a type name and a neutral description. :func:`from_plain` rebuilds
plain Python values (and, optionally, tensors) on the other side.

The encoding: ``None``, ``bool``, ``int``, ``float`` (non-finite as
``{"__float__": "nan"}``), ``str``, ``list``; ``{"__tuple__": [...]}``,
``{"__dict__": [[key, value], ...]}``, ``{"__set__": [...]}``,
``{"__tensor__": {"dtype", "shape", "data", "truncated"}}`` and
``{"__object__": {"type", "repr"}}``.

>>> to_plain((1, [2.5, "x"], {"a": None}))
{'__tuple__': [1, [2.5, 'x'], {'__dict__': [['a', None]]}]}
>>> from_plain(to_plain((1, [2.5, float("inf")])))
(1, [2.5, inf])
>>> class Liar(int):
...     def __eq__(self, other):
...         return True
>>> to_plain(Liar(3))
3
"""
from __future__ import annotations

import json
import math
import types
from dataclasses import dataclass
from typing import Any

__all__ = ["Limits", "PlainObject", "to_plain", "from_plain", "dumps"]


@dataclass(frozen=True)
class Limits:
    """Caps on what one conversion produces."""

    max_items: int = 10_000  # entries of one list, tuple, dict or set
    max_elements: int = 200_000  # numbers of one tensor or array
    max_chars: int = 100_000  # characters of one string
    max_depth: int = 24
    max_nodes: int = 1_000_000  # values in the whole result


@dataclass(frozen=True)
class PlainObject:
    """Something that is not plain data, rebuilt as its type's name and a description."""

    type: str
    repr: str


def _float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return {"__float__": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}


def _type_name(cls: type) -> str:
    module = getattr(cls, "__module__", "?")
    name = getattr(cls, "__qualname__", getattr(cls, "__name__", "?"))
    return f"{module if isinstance(module, str) else '?'}.{name if isinstance(name, str) else '?'}"[:200]


def _describe(value: Any) -> dict:
    cls = type(value)
    if issubclass(cls, type):
        text = f"<class {_type_name(value)}>"
    elif issubclass(cls, (types.FunctionType, types.BuiltinFunctionType)):
        text = f"<function {value.__qualname__}>"
    elif issubclass(cls, types.MethodType):
        text = f"<method {value.__func__.__qualname__}>"
    else:
        text = object.__repr__(value)
    return {"__object__": {"type": _type_name(cls), "repr": text[:200]}}


class _Budget:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.nodes = 0

    def take(self) -> bool:
        self.nodes += 1
        return self.nodes <= self.limits.max_nodes


def _tensor(value: Any, limits: Limits) -> dict:
    import torch

    with torch._C.DisableTorchFunction():
        t = torch.Tensor.detach(value)
        shape = [int(n) for n in torch.Tensor.size(t)]
        dtype = str(t.dtype).replace("torch.", "")
        if t.is_complex() or t.layout != torch.strided or t.device.type == "meta":
            return {"__object__": {"type": "torch.Tensor", "repr": f"tensor of dtype {dtype} and shape {tuple(shape)}"}}
        flat = torch.Tensor.reshape(torch.Tensor.cpu(t), (-1,))
        count = int(flat.numel())
        kept = flat[: limits.max_elements]
        data = torch.Tensor.tolist(kept)
    if t.is_floating_point():
        data = [_float(float(v)) for v in data]
    return {"__tensor__": {"dtype": dtype, "shape": shape, "data": data, "truncated": count > limits.max_elements}}


def _array(value: Any, limits: Limits) -> dict:
    import numpy as np

    arr = np.asarray(value).view(np.ndarray)
    if arr.dtype.kind not in "biuf":
        return {"__object__": {"type": "numpy.ndarray", "repr": f"array of dtype {arr.dtype} and shape {arr.shape}"}}
    flat = arr.reshape(-1)
    data = np.ndarray.tolist(flat[: limits.max_elements])
    if arr.dtype.kind == "f":
        data = [_float(float(v)) for v in data]
    return {"__tensor__": {"dtype": str(arr.dtype), "shape": [int(n) for n in arr.shape], "data": data,
                           "truncated": flat.size > limits.max_elements}}


def _convert(value: Any, limits: Limits, depth: int, budget: _Budget) -> Any:
    if not budget.take():
        return {"__object__": {"type": "truncated", "repr": "more values than the limit"}}
    if value is None or value is True or value is False:
        return value
    cls = type(value)  # the real type: isinstance() would trust a faked __class__
    if issubclass(cls, int):
        return int.__int__(value)
    if issubclass(cls, float):
        return _float(float.__float__(value))
    if issubclass(cls, str):
        text = str.__str__(value)
        return text[: limits.max_chars]
    if depth >= limits.max_depth:
        return {"__object__": {"type": _type_name(cls), "repr": "nested too deeply"}}
    if issubclass(cls, (list, tuple)):
        base = list if issubclass(cls, list) else tuple
        items = []
        for i, item in enumerate(base.__iter__(value)):
            if i >= limits.max_items:
                break
            items.append(_convert(item, limits, depth + 1, budget))
        return items if base is list else {"__tuple__": items}
    if issubclass(cls, dict):
        pairs = []
        for i, (k, v) in enumerate(dict.items(value)):
            if i >= limits.max_items:
                break
            pairs.append([_convert(k, limits, depth + 1, budget), _convert(v, limits, depth + 1, budget)])
        return {"__dict__": pairs}
    if issubclass(cls, (set, frozenset)):
        base = set if issubclass(cls, set) else frozenset
        items = [_convert(item, limits, depth + 1, budget) for _, item in zip(range(limits.max_items), base.__iter__(value))]
        return {"__set__": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    module = getattr(cls, "__module__", "") or ""
    if module.startswith("torch"):
        import torch

        if issubclass(cls, torch.Tensor):
            try:
                return _tensor(value, limits)
            except Exception:  # a tensor that cannot be read as numbers
                return _describe(value)
        if issubclass(cls, torch.dtype):
            return {"__object__": {"type": "torch.dtype", "repr": str(value)}}
    import sys

    if "torch" in sys.modules:
        import torch

        if issubclass(cls, torch.Tensor):  # a subclass defined elsewhere
            try:
                return _tensor(value, limits)
            except Exception:
                return _describe(value)
    if "numpy" in sys.modules:
        import numpy as np

        if issubclass(cls, np.ndarray):
            return _array(value, limits)
        if issubclass(cls, np.bool_):
            return bool(np.generic.item(value))
        if issubclass(cls, np.integer):
            return int(np.generic.item(value))
        if issubclass(cls, np.floating):
            return _float(float(np.generic.item(value)))
    return _describe(value)


def to_plain(value: Any, limits: Limits | None = None) -> Any:
    """``value`` as JSON-able plain data (see the module's docstring for the encoding).

    >>> import torch
    >>> to_plain(torch.tensor([[1.0, float("nan")]]))["__tensor__"]["data"]
    [1.0, {'__float__': 'nan'}]
    """
    limits = limits or Limits()
    return _convert(value, limits, 0, _Budget(limits))


def dumps(data: Any) -> str:
    """Compact JSON of plain data (what a probe writes on its pipe)."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, set):
        return frozenset(_hashable(v) for v in value)
    return value


def from_plain(data: Any, tensors: bool = True) -> Any:
    """Rebuild Python values from plain data; tensors as ``torch`` tensors when ``tensors``.

    A truncated tensor, or one with ``tensors=False``, comes back as a dict with
    its dtype, shape and (possibly partial) data. Unknown markers become a
    :class:`PlainObject`.

    >>> from_plain({"__set__": [1, 2]}), from_plain({"__object__": {"type": "m.C", "repr": "<m.C>"}})
    ({1, 2}, PlainObject(type='m.C', repr='<m.C>'))
    """
    if data is None or isinstance(data, (bool, int, str)):
        return data
    if isinstance(data, float):
        return data
    if isinstance(data, list):
        return [from_plain(v, tensors) for v in data]
    if not isinstance(data, dict) or len(data) != 1:
        return PlainObject("invalid", str(type(data).__name__))
    (marker, inner), = data.items()
    if marker == "__float__":
        return float(inner) if inner in ("nan", "inf", "-inf") else PlainObject("invalid", "float")
    if marker == "__tuple__" and isinstance(inner, list):
        return tuple(from_plain(v, tensors) for v in inner)
    if marker == "__dict__" and isinstance(inner, list):
        out = {}
        for pair in inner:
            if isinstance(pair, list) and len(pair) == 2:
                key = _hashable(from_plain(pair[0], tensors=False))
                try:
                    out[key] = from_plain(pair[1], tensors)
                except TypeError:  # an unhashable key that survived
                    continue
        return out
    if marker == "__set__" and isinstance(inner, list):
        return {_hashable(from_plain(v, tensors=False)) for v in inner}
    if marker == "__tensor__" and isinstance(inner, dict):
        return _rebuild_tensor(inner, tensors)
    if marker == "__object__" and isinstance(inner, dict):
        return PlainObject(str(inner.get("type", "?"))[:200], str(inner.get("repr", ""))[:200])
    return PlainObject("invalid", str(marker)[:50])


def _rebuild_tensor(inner: dict, tensors: bool) -> Any:
    shape = inner.get("shape")
    values = inner.get("data")
    dtype = str(inner.get("dtype", "float32"))
    ok = isinstance(shape, list) and all(isinstance(n, int) and n >= 0 for n in shape) and isinstance(values, list)
    numbers = [from_plain(v) for v in values] if ok else []
    if not ok or not all(isinstance(v, (bool, int, float)) for v in numbers):
        return PlainObject("invalid", "tensor")
    if not tensors or inner.get("truncated") or math.prod(shape) != len(numbers):
        return {"dtype": dtype, "shape": tuple(shape), "data": numbers, "truncated": bool(inner.get("truncated"))}
    import torch

    torch_dtype = getattr(torch, dtype.replace("numpy.", ""), None)
    if not isinstance(torch_dtype, torch.dtype):
        torch_dtype = torch.float64 if any(isinstance(v, float) for v in numbers) else torch.int64
    return torch.tensor(numbers, dtype=torch_dtype).reshape(shape)
