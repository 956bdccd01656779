"""The assignments' questions, one module per assignment.

A notebook imports its module under a short name, ``from evalib.exercises import a2``,
and each check cell names one question: ``a2.chain_199.check(chain_199)``.
The modules load when first asked for.

>>> from evalib.exercises import a2
>>> a2.chain_199.id, a2.chain_199.points
('test_chain_199', 2.0)
"""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["a1", "a2", "a3", "a4", "a5", "MODULES"]

#: Short name -> module.
MODULES = {
    "a1": "evalib.exercises.a1_kernels_channels",
    "a2": "evalib.exercises.a2_receptive_field",
    "a3": "evalib.exercises.a3_initialization",
    "a4": "evalib.exercises.a4_mnist_one_epoch",
    "a5": "evalib.exercises.a5_buggy_code",
}


def __getattr__(name: str) -> ModuleType:
    if name in MODULES:
        return importlib.import_module(MODULES[name])
    raise AttributeError(f"module 'evalib.exercises' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(MODULES))
