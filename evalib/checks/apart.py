"""Train a student's network, and run it, each in a process of its own.

A grader that must say how well a student's network learns cannot trust the
notebook's own training run, nor let the network near the labels it is judged
on. So the network's class is taken out of the notebook and used twice, in two
fresh sandboxed processes, through the two probes below:

- :func:`train` (the training process) builds the class, trains it for one epoch
  with the course's recipe on the training digits and returns *everything the
  network holds* as plain data: its state dict and any tensors or containers of
  numbers in its modules' attributes;
- :func:`predict` (the evaluation process, which sees no digits and no labels)
  builds the class again, loads what the first process returned and predicts the
  images it is given.

The trusted side counts what the network holds, sends images whose labels it
keeps, and computes the accuracy itself.

>>> import torch.nn as nn
>>> class Tiny(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.fc = nn.Linear(784, 10)
...         self.memory = [1, 2, 3]
...     def forward(self, x):
...         return self.fc(x.flatten(1)).log_softmax(dim=1)
>>> held = dump(Tiny())
>>> count_held(held)["parameters"], count_held(held)["attributes"]
(7850, 3)
>>> model = load(Tiny, held)
>>> model.memory
[1, 2, 3]
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from .plain import Limits, from_plain, to_plain

__all__ = ["train", "predict", "dump", "load", "count_held", "MAX_HELD", "LIMITS"]

#: A network holding more numbers than this is over any budget of the course; it is not sent back whole.
MAX_HELD = 2_000_000
#: Caps for what crosses between the processes: a network's state, a batch of images.
LIMITS = Limits(max_items=100_000, max_elements=MAX_HELD, max_nodes=4 * MAX_HELD)


def _count(value: Any, seen: set[int], depth: int = 0) -> int:
    import numpy as np
    import torch

    if depth > 20 or id(value) in seen:
        return 0
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, (int, float, complex)):
        return 1
    if isinstance(value, (str, bytes, bytearray)):
        return (len(value) + 3) // 4  # four characters or bytes hold about what one number does
    if isinstance(value, torch.Tensor):
        return int(torch.Tensor.numel(value))
    if isinstance(value, np.ndarray):
        return int(value.size)
    seen.add(id(value))
    if isinstance(value, Mapping):
        return sum(_count(k, seen, depth + 1) + _count(v, seen, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(_count(v, seen, depth + 1) for v in value)
    return 0


def _setting(value: Any) -> bool:
    """A scalar or a short tuple of scalars, as torch's layers keep their constructor arguments."""
    scalar = (int, float, bool, str, type(None))
    return isinstance(value, scalar) or isinstance(value, tuple) and len(value) <= 4 and all(isinstance(v, scalar) for v in value)


def _attributes(model: Any) -> dict[str, Any]:
    """Module path -> {attribute: value} for what modules hold besides parameters, buffers and sub-modules."""
    import torch.nn as nn

    out: dict[str, Any] = {}
    for path, module in nn.Module.named_modules(model):
        own = {}
        builtin = type(module).__module__.startswith("torch.nn.")
        for key, value in vars(module).items():
            if key in ("training", "_parameters", "_buffers", "_modules") or isinstance(value, nn.Module):
                continue
            if key.startswith("_") and builtin or builtin and _setting(value):
                continue  # a torch layer's own settings (kernel_size=(3, 3), eps=1e-5) are not data
            if _count(value, set()) > 0:
                own[key] = value
        if own:
            out[path] = own
    return out


def dump(model: Any) -> dict:
    """Everything ``model`` holds, as plain data: ``{"state": {name: tensor}, "attributes": {path: {name: value}}}``."""
    import torch.nn as nn

    state = {name: value.detach().cpu() for name, value in nn.Module.state_dict(model).items()}
    return {"state": to_plain(state, LIMITS), "attributes": to_plain(_attributes(model), LIMITS)}


def count_held(held: Mapping) -> dict:
    """How many numbers a dump holds: ``parameters`` (the state dict without batch-norm statistics),
    ``norm_statistics`` and ``attributes``. Computed from the plain data alone."""
    state = from_plain(held.get("state", {})) or {}
    norm = other = 0
    for name, value in state.items() if isinstance(state, dict) else []:
        size = int(getattr(value, "numel", lambda: 0)()) if hasattr(value, "numel") else _count(value, set())
        if str(name).rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked"):
            norm += size
        else:
            other += size
    seen: set[int] = set()
    modules = from_plain(held.get("attributes", {})) or {}
    attributes = sum(_count(value, seen) for own in (modules.values() if isinstance(modules, dict) else [])
                     for value in (own.values() if isinstance(own, dict) else [own]))
    return {"parameters": other, "norm_statistics": norm, "attributes": attributes}


def load(cls: Any, held: Mapping) -> Any:
    """A new ``cls()`` holding exactly what ``held`` describes (strict: names and shapes must match)."""
    import torch
    import torch.nn as nn

    model = cls()
    if not isinstance(model, nn.Module):
        raise TypeError(f"{getattr(cls, '__name__', cls)} does not build an nn.Module")
    state = from_plain(held.get("state", {})) or {}
    state = {k: (v if isinstance(v, torch.Tensor) else torch.as_tensor(v)) for k, v in dict(state).items()}
    nn.Module.load_state_dict(model, state, strict=True)
    modules = dict(nn.Module.named_modules(model))
    for path, values in dict(from_plain(held.get("attributes", {})) or {}).items():
        module = modules.get(path)
        if module is None:
            raise KeyError(f"the network has no module {path!r} to hold {sorted(values)}")
        for key, value in dict(values).items():
            object.__setattr__(module, str(key), value)
    return model


def _class(namespace: dict, name: str) -> Any:
    cls = namespace.get(name)
    if not isinstance(cls, type):
        raise LookupError(f"{name} is not defined as a class")
    return cls


def train(namespace: dict, args: Mapping) -> dict:
    """Probe of the training process: one epoch of the course's recipe, then :func:`dump`.

    ``args``: ``class`` (name of the network class), ``lr_name`` (the variable with the peak
    learning rate, default 0.1 when missing or not a number in (0, 10]), ``seed``, ``batch_size``,
    ``epochs``, ``limit`` (training digits used, for tests). Every error comes back as data.
    """
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from ..mnist.data import load_mnist
    from ..mnist.training import fit, one_cycle_sgd, seed_everything

    try:
        cls = _class(namespace, args.get("class", "MyNet"))
        lr = namespace.get(args.get("lr_name", "MAX_LR"), 0.1)
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or not 0 < lr <= 10:
            lr = 0.1
        seed = int(args.get("seed", 1))
        data = load_mnist(source="offline", val_size=int(args.get("val_size", 500)), seed=seed, verbose=False)
        # Written out here rather than with evalib's loaders: a grading kernel has those switched off.
        images, labels = data.train_images.double(), data.train_labels
        if args.get("limit"):
            images, labels = images[: int(args["limit"])], labels[: int(args["limit"])]
        mean, std = float(images.mean()), float(images.std(unbiased=False))
        train_set = TensorDataset(((images - mean) / std).float(), labels)
        loader = DataLoader(train_set, batch_size=int(args.get("batch_size", 32)), shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        seed_everything(seed)
        model = cls()
        if not any(True for _ in torch.nn.Module.parameters(model)):
            return {"ok": False, "empty": True, "error": f"{args.get('class', 'MyNet')} has no layers yet"}
        epochs = int(args.get("epochs", 1))
        optimizer, scheduler = one_cycle_sgd(model, max_lr=float(lr), total_steps=epochs * len(loader))
        history = fit(model, loader, None, optimizer=optimizer, scheduler=scheduler, epochs=epochs, seed=seed,
                      device="cpu", progress=False)
        held = dump(model)
        counted = count_held(held)
        if sum(counted.values()) > MAX_HELD:
            return {"ok": False, "error": f"the network holds {sum(counted.values()):,} numbers", "held": counted}
        return {"ok": True, "held": held, "counted": counted, "mean": mean, "std": std,
                "lr": float(lr), "loss": [round(float(b.loss), 4) for b in history.batches[:: max(1, len(history.batches) // 20)]]}
    except BaseException as error:  # the student's network, reported as data
        return {"ok": False, "error": f"{type(error).__name__}: {str(error)[:300]}"}
    finally:
        torch.set_grad_enabled(True)


def predict(namespace: dict, args: Mapping) -> dict:
    """Probe of the evaluation process: rebuild the class, load ``args["held"]``, predict ``args["images"]``.

    ``images`` are plain (N, 1, 28, 28) pixels in [0, 1]; they are normalized with ``mean`` and
    ``std`` as in training. Returns the predicted class of each image and what the rebuilt network holds.
    """
    import torch
    import torch.nn as nn

    try:
        cls = _class(namespace, args.get("class", "MyNet"))
        model = load(cls, args["held"])
        images = from_plain(args["images"])
        x = (torch.as_tensor(images, dtype=torch.float32) - float(args["mean"])) / float(args["std"])
        nn.Module.eval(model)
        predictions: list[int] = []
        with torch.no_grad():
            for start in range(0, len(x), 250):
                out = model(x[start:start + 250])
                predictions += [int(v) for v in torch.Tensor.argmax(torch.as_tensor(out), dim=1).tolist()]
        return {"ok": True, "predictions": predictions, "counted": count_held(dump(model))}
    except BaseException as error:
        return {"ok": False, "error": f"{type(error).__name__}: {str(error)[:300]}"}
