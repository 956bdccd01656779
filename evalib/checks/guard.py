"""Guards: the evalib and torch helpers that would solve an exercise earn nothing.

Each evalib function that solves exercises is marked where it is defined::

    @solves("a2_receptive_field", "a4_mnist_one_epoch")
    def receptive_field_steps(layers): ...

The marks are read at run time (:func:`registered`) and statically from the
source files (:func:`static_registry`; the decorator's arguments are literals),
so a test can assert that every mark resolves and that a renamed helper cannot
silently stop being guarded. torch-level helpers are listed per assignment in
:data:`TORCH_HELPERS` and the aten operators that betray them in
:data:`FORBIDDEN_OPS`.

Three ways to apply the guard:

- :func:`helpers_off` (a context manager) switches the helpers off in this
  process while a student's function runs, and records what was called;
- :func:`computed_with` traces a value answer back through the notebook's cells
  to the helpers it was computed with;
- :func:`locked_copy` writes a copy of the evalib package whose helpers raise
  :class:`HelperNotAllowed`, for grading kernels (``reload``, ``getattr`` tricks
  and ``exec`` of the module file all find the stub); :func:`install` replaces
  the torch-level helpers there before any student code runs.

Everything above runs in the student's own process, where the student's code can
undo it (patch this module, trace the calls, switch torch's dispatch modes off,
use another thread). What that code cannot undo is :func:`lock_operators`: before
any of it runs, a grading kernel replaces the kernels of the operators that do an
assignment's work (every convolution of every namespace, for assignment 1) in
torch's dispatcher itself, through registrations that no Python object refers to.

>>> static_registry()["evalib.design.shapes:shrink_chain"]
('a2_receptive_field',)
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import shutil
import sys
import types
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

__all__ = [
    "ASSIGNMENTS",
    "HelperNotAllowed",
    "solves",
    "registered",
    "static_registry",
    "resolve",
    "TORCH_HELPERS",
    "FORBIDDEN_OPS",
    "helpers_off",
    "install",
    "uses_helpers",
    "computed_with",
    "locked_copy",
    "helper_names",
    "LOCKED_OPERATORS",
    "LOCKED_PACKAGES",
    "lock_operators",
    "lock_step",
]

#: The assignments a helper can be marked for.
ASSIGNMENTS = (
    "a1_kernels_channels",
    "a2_receptive_field",
    "a3_initialization",
    "a4_mnist_one_epoch",
    "a5_buggy_code",
)


class HelperNotAllowed(RuntimeError):
    """Raised by a helper that is switched off because it solves the exercise being graded."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"{name} solves this exercise and is switched off while grading; write it yourself")


_REGISTRY: dict[str, tuple[str, ...]] = {}


def solves(*assignments: str) -> Callable:
    """Mark a function (or a method, or a property's getter) as solving exercises of ``assignments``.

    The function is returned unchanged; the mark goes into the registry under
    ``"module:QualName"``.
    """
    unknown = [a for a in assignments if a not in ASSIGNMENTS]
    if unknown or not assignments:
        raise ValueError(f"solves() takes assignment names from {ASSIGNMENTS}, got {assignments}")

    def mark(function: Callable) -> Callable:
        spec = f"{function.__module__}:{function.__qualname__}"
        _REGISTRY[spec] = tuple(sorted(set(_REGISTRY.get(spec, ())) | set(assignments)))
        return function

    return mark


#: torch-level helpers that solve an exercise, as "module:attribute".
TORCH_HELPERS: dict[str, tuple[str, ...]] = {
    "a1_kernels_channels": (
        "torch.nn.functional:conv2d",
        "torch.nn.functional:unfold",
        "torch:conv2d",
        "torch:convolution",
        "torch:_convolution",
    ),
    "a3_initialization": (
        "torch.nn.init:xavier_normal_",
        "torch.nn.init:xavier_uniform_",
        "torch.nn.init:kaiming_normal_",
        "torch.nn.init:kaiming_uniform_",
        "torch.nn.init:_calculate_fan_in_and_fan_out",
        "torch.nn.init:_calculate_correct_fan",
        "torch.nn.init:calculate_gain",
    ),
}

#: aten operators that only those helpers (or nn layers built on them) run, by assignment.
FORBIDDEN_OPS: dict[str, frozenset[str]] = {
    "a1_kernels_channels": frozenset({
        "convolution", "_convolution", "convolution_overrideable", "conv2d", "im2col", "mkldnn_convolution",
        "_slow_conv2d_forward", "thnn_conv2d", "cudnn_convolution", "miopen_convolution", "_conv_depthwise2d",
        "slow_conv_dilated2d", "_nnpack_spatial_convolution",
    }),
}


#: Operators switched off for good in an assignment's grading kernels: a pattern of the operator
#: names (any namespace: aten, mkldnn, quantized ...) that do the exercise's work. Assignment 1's:
#: every convolution, its backward (a transposed convolution is one too), im2col and col2im.
LOCKED_OPERATORS: dict[str, str] = {"a1_kernels_channels": r"conv|im2col|col2im"}
#: Libraries with convolutions of their own (scipy.signal's, or torchvision's operators, which exist only
#: once it is imported, after the switch): a grading kernel of these assignments does not see them at all.
LOCKED_PACKAGES: dict[str, tuple[str, ...]] = {
    "a1_kernels_channels": ("scipy", "sklearn", "torchvision", "skimage", "cv2", "jax", "tensorflow"),
}
_LOCK_KEYS = ("CPU", "MkldnnCPU", "QuantizedCPU", "CompositeExplicitAutograd", "CompositeImplicitAutograd")


_STATIC: dict[str, tuple[str, ...]] | None = None


def _import_marked_modules() -> None:
    global _STATIC
    if _STATIC is None:
        _STATIC = static_registry()
    for module in sorted({spec.partition(":")[0] for spec in _STATIC}):
        importlib.import_module(module)


def registered(assignment: str | None = None) -> dict[str, tuple[str, ...]]:
    """The marked evalib helpers -> their assignments (every module that holds a mark imported first)."""
    _import_marked_modules()
    return {spec: a for spec, a in sorted(_REGISTRY.items())
            if (assignment is None or assignment in a) and not spec.startswith("evalib.checks.guard:")}


def static_registry(root: Path | None = None) -> dict[str, tuple[str, ...]]:
    """The marks read from evalib's source files without importing them.

    >>> "evalib.design.shapes:shrink_chain" in static_registry()
    True
    """
    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(root.rglob("*.py")):
        module = ".".join(("evalib",) + path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        if module.startswith("evalib.checks"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for qualname, node in _functions(tree):
            for deco in node.decorator_list:
                if isinstance(deco, ast.Call) and getattr(deco.func, "id", getattr(deco.func, "attr", None)) == "solves":
                    names = tuple(sorted(ast.literal_eval(arg) for arg in deco.args))
                    found[f"{module}:{qualname}"] = names
    return found


def _functions(tree: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.FunctionDef]]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield prefix + node.name, node
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node, prefix + node.name + ".")


def resolve(spec: str) -> tuple[Any, str, Any]:
    """``"module:Qual.name"`` -> (owner, attribute name, the object), or raises LookupError."""
    module_name, _, path = spec.partition(":")
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise LookupError(f"{spec}: module {module_name} cannot be imported ({error})") from None
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part, None)
        if owner is None:
            raise LookupError(f"{spec}: {part} not found")
    if isinstance(owner, type):
        value = owner.__dict__.get(name, None)
    else:
        value = getattr(owner, name, None)
    if value is None:
        raise LookupError(f"{spec}: {name} not found")
    return owner, name, value


def _shown(spec: str) -> str:
    module, _, path = spec.partition(":")
    flat = path.split(".")[0]
    if module.startswith("evalib") and hasattr(sys.modules.get("evalib"), flat):
        return f"evalib.{path}"
    return f"{module}.{path}"


def _function_of(value: Any) -> Any:
    return value.fget if isinstance(value, property) else value


# ---------------------------------------------------------------------------------------------
# Switching helpers off in this process
# ---------------------------------------------------------------------------------------------
def _raiser(spec: str, used: list[str], original: Any, pass_torch_callers: bool) -> Callable:
    shown = _shown(spec)

    def switched_off(*args: Any, **kwargs: Any) -> Any:
        if pass_torch_callers:
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if isinstance(caller, str) and (caller == "torch" or caller.startswith("torch.")):
                return original(*args, **kwargs)
        used.append(shown)
        raise HelperNotAllowed(shown)

    switched_off.__name__ = getattr(original, "__name__", "helper")
    switched_off.__evalib_switched_off__ = spec  # type: ignore[attr-defined]
    return switched_off


def _targets(assignment: str) -> list[tuple[str, bool]]:
    specs = [(spec, False) for spec in registered(assignment)]
    return specs + [(spec, True) for spec in TORCH_HELPERS.get(assignment, ())]


@contextlib.contextmanager
def helpers_off(assignment: str, ops: bool = True) -> Iterator[list[str]]:
    """Switch off the helpers that solve ``assignment``'s exercises for the duration of the block.

    Yields a list that collects the helpers called (as the student would write
    them, ``evalib.shrink_chain``); each call raises :class:`HelperNotAllowed`.
    evalib's flat re-exports are switched off too. Calls made by torch itself
    (``nn.Conv2d`` initializing its weight) pass through. With ``ops``, a
    TorchDispatchMode also records the aten operators of :data:`FORBIDDEN_OPS`,
    so aliases and default arguments cannot hide a convolution.
    """
    import evalib

    used: list[str] = []
    saved: list[tuple[Any, str, Any]] = []
    try:
        for spec, torch_level in _targets(assignment):
            try:
                owner, name, value = resolve(spec)
            except LookupError:
                continue
            function = _function_of(value)
            stub = _raiser(spec, used, function, torch_level)
            replacement = property(stub) if isinstance(value, property) else stub
            places = [(owner, name)]
            if getattr(evalib, name, None) is value and owner is not evalib:
                places.append((evalib, name))
            for place, attr in places:
                saved.append((place, attr, place.__dict__[attr] if isinstance(place, type) else getattr(place, attr)))
                setattr(place, attr, replacement)
        with _recording_ops(assignment if ops else None, used):
            yield used
    finally:
        for place, attr, original in reversed(saved):
            setattr(place, attr, original)


@contextlib.contextmanager
def _recording_ops(assignment: str | None, used: list[str]) -> Iterator[None]:
    forbidden = FORBIDDEN_OPS.get(assignment or "", frozenset())
    if not forbidden:
        yield
        return
    from torch.utils._python_dispatch import TorchDispatchMode

    class Recorder(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.overloadpacket.__name__
            if name in forbidden:
                used.append(f"torch's {name} operator")
                raise HelperNotAllowed(f"torch's {name}")
            return func(*args, **(kwargs or {}))

    with Recorder():
        yield


def install(assignment: str) -> list[str]:
    """Replace ``assignment``'s torch-level helpers by raisers for good (a grading kernel,
    before any student code runs); returns what was replaced."""
    used: list[str] = []
    replaced = []
    for spec in TORCH_HELPERS.get(assignment, ()):
        owner, name, value = resolve(spec)
        setattr(owner, name, _raiser(spec, used, value, True))
        replaced.append(spec)
    return replaced


def _locked_names(assignment: str) -> list[str]:
    import re

    import torch

    pattern = LOCKED_OPERATORS.get(assignment)
    if not pattern:
        return []
    found = set()
    for full in torch._C._dispatch_get_all_op_names():
        namespace, _, name = full.partition("::")
        base = name.split(".")[0]
        if re.search(pattern, base) and "convert" not in base:
            found.add(f"{namespace}::{base}")
    return sorted(found)


def lock_operators(assignment: str) -> list[str]:
    """Switch off, in torch's dispatcher and for the rest of this process, the operators that do
    ``assignment``'s work (:data:`LOCKED_OPERATORS`); returns them (``"aten::convolution"`` ...).

    Every kernel of those operators (CPU, MKL-DNN, quantized and the composite ones others are
    made of) is replaced by one that raises :class:`HelperNotAllowed`, whatever calls it: F.conv2d,
    an nn.Conv2d, the aten operator by any name, with torch's dispatch modes off, in another thread
    or in a forked child. The registrations are kept alive by a reference that no Python object
    holds, so no code of the process can find them to undo them. For grading kernels only.

    >>> lock_operators("a2_receptive_field")  # nothing to switch off there
    []
    """
    import ctypes
    import warnings

    import torch

    names = _locked_names(assignment)
    if not names:
        return []

    def switched_off(*args: Any, **kwargs: Any) -> Any:
        raise HelperNotAllowed("torch's convolution")

    libraries: dict[str, Any] = {}
    done = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "overriding a previously registered kernel", once per kernel
        for full in names:
            namespace, _, name = full.partition("::")
            registered_one = False
            for key in _LOCK_KEYS:
                library = libraries.get(namespace)
                if library is None:
                    library = libraries[namespace] = torch._C._dispatch_library("IMPL", namespace, "", "evalib", 0)
                try:
                    library.impl(name, key, switched_off, False)
                    registered_one = True
                except Exception:  # an operator this key does not take
                    continue
            if registered_one:
                done.append(full)
    for library in libraries.values():  # never released: a registration lives as long as its library
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(library))
    libraries.clear()
    return done


def lock_step(namespace: dict, args: dict) -> dict:
    """A grading plan's first step (before any of the notebook's code): :func:`lock_operators`."""
    locked = lock_operators(str(args.get("assignment", "")))
    return {"locked": len(locked)}


# ---------------------------------------------------------------------------------------------
# What a function refers to, and what a value was computed with
# ---------------------------------------------------------------------------------------------
def _forbidden_objects(assignment: str) -> dict[int, str]:
    out: dict[int, str] = {}
    for spec, _ in _targets(assignment):
        try:
            _, _, value = resolve(spec)
        except LookupError:
            continue
        out.setdefault(id(value), _shown(spec))  # one object under two names keeps the first (F.conv2d is torch.conv2d)
        out.setdefault(id(_function_of(value)), _shown(spec))
    return out


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def uses_helpers(function: Any, assignment: str, _forbidden: dict[int, str] | None = None,
                 _seen: set[int] | None = None) -> list[str]:
    """The helpers ``function`` refers to by name, directly or through a module
    (``from evalib import shrink_chain``, ``evalib.shrink_chain``, ``shapes.shrink_chain``)."""
    forbidden = _forbidden if _forbidden is not None else _forbidden_objects(assignment)
    seen = _seen if _seen is not None else set()
    seen.add(id(function))
    if id(function) in forbidden:  # the helper itself, handed in as the answer
        return [forbidden[id(function)]]
    code = getattr(function, "__code__", None)
    if not isinstance(code, types.CodeType):
        return []
    namespace = dict(getattr(function, "__globals__", {}) or {})
    for name, cell in zip(code.co_freevars, getattr(function, "__closure__", None) or ()):
        try:
            namespace[name] = cell.cell_contents
        except ValueError:  # an empty cell
            pass
    found = set()
    # Default arguments are bound when the function is defined: ``def f(x, conv=F.conv2d)``.
    defaults = list(getattr(function, "__defaults__", None) or ()) + list((getattr(function, "__kwdefaults__", None) or {}).values())
    for value in defaults:
        if id(value) in forbidden:
            found.add(forbidden[id(value)])
        elif isinstance(value, types.FunctionType) and id(value) not in seen:
            found.update(uses_helpers(value, assignment, forbidden, seen))
    for c in _code_objects(code):
        for name in c.co_names + c.co_freevars:
            value = namespace.get(name)
            if value is None:
                continue
            if id(value) in forbidden:
                found.add(forbidden[id(value)])
            if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] in ("evalib", "torch"):
                for other in c.co_names:
                    attr = getattr(value, other, None)
                    if attr is not None and id(attr) in forbidden:
                        found.add(forbidden[id(attr)])
    return sorted(found)


def _top_level_names(tree: ast.AST) -> set[str]:
    """Names a cell binds at its top level (not inside functions, classes or comprehensions)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _defines(statement: ast.stmt, name: str) -> bool:
    """Whether a top-level statement binds ``name`` or changes its value in place
    (``x = ...``, ``x += ...``, ``x[i] = ...``, ``x.append(...)``, loops holding them);
    a ``print(x)`` that only shows it does not."""
    if name in _top_level_names(statement):
        return True

    def rooted(node: ast.AST) -> bool:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return isinstance(node, ast.Name) and node.id == name

    for node in ast.walk(statement):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)) and rooted(node):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and rooted(node.func.value):
            return True
    return False


#: Where a copied namespace keeps the cells it came from (so a value can be traced in the copy).
HISTORY_KEY = "__evalib_cells__"


def _shell_history() -> tuple[list[str], dict]:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with Jupyter
        return [], {}
    shell = get_ipython()
    if shell is None:
        return [], {}
    return list(shell.history_manager.input_hist_parsed), shell.user_ns


def computed_with(name: str, assignment: str, cells: Sequence[str] | None = None,
                  namespace: dict | None = None) -> list[str]:
    """The helpers solving ``assignment`` behind the current value of the variable ``name``.

    Reads the statements that assign or change ``name`` in the last cell that
    bound it (IPython's history, or ``cells``), and flags every marked helper they
    refer to: directly, through a module, through a property (``data.stats``) or
    through a function of the notebook, or through a value that only a helper
    makes (a model summary's rows). Variables they read are followed back a few
    steps. A ``print(evalib.summary(...))`` beside a value worked out by hand is
    not held against it. Outside IPython and without ``cells`` it finds nothing.

    >>> import evalib
    >>> cells = ["import evalib", "n = len(evalib.shrink_chain(31)) - 1"]
    >>> computed_with("n", "a2_receptive_field", cells, {"evalib": evalib})
    ['evalib.shrink_chain']
    >>> computed_with("n", "a2_receptive_field", ["n = 4"], {})
    []
    """
    if cells is None:
        history, user_ns = _shell_history()
        if namespace is None:
            namespace = user_ns
        if HISTORY_KEY in namespace:
            cells = namespace[HISTORY_KEY]
        else:
            cells = history if namespace is user_ns else []
    namespace = namespace if namespace is not None else {}
    forbidden = _forbidden_objects(assignment)
    allowed = {spec for spec, _ in _targets(assignment)}
    made_by = {kind: _shown(maker) for kind, maker in _helper_result_types().items() if maker in allowed}
    found: set[str] = set()

    def inspect(value: Any) -> bool:
        """Flag ``value``; True when it is plain data worth following back."""
        if id(value) in forbidden:
            found.add(forbidden[id(value)])
            return False
        items = value if isinstance(value, (list, tuple)) else [value]
        makers = {made_by[kind] for item in list(items)[:50] for kind in made_by if isinstance(item, kind)}
        if makers:
            found.update(makers)
            return False
        if isinstance(value, types.ModuleType):
            return False
        if isinstance(value, (types.FunctionType, types.MethodType)):
            found.update(uses_helpers(value, assignment, forbidden))
            return False
        if isinstance(value, type):
            for attr in vars(value).values():
                function = _function_of(attr)
                if id(function) in forbidden:
                    found.add(forbidden[id(function)])
                elif isinstance(function, types.FunctionType):
                    found.update(uses_helpers(function, assignment, forbidden))
            return False
        return not callable(value)

    todo, seen = [name], set()
    while todo and len(seen) < 12:
        var = todo.pop()
        if var in seen:
            continue
        seen.add(var)
        statements: list[ast.stmt] = []
        for cell in reversed(list(cells)):
            try:
                tree = ast.parse(cell)
            except (SyntaxError, ValueError):
                continue
            if var in _top_level_names(tree):
                statements = [stmt for stmt in tree.body if _defines(stmt, var)]
                break
        for node in (n for stmt in statements for n in ast.walk(stmt)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in namespace:
                    if inspect(namespace[node.id]) and node.id not in seen:
                        todo.append(node.id)
                elif not hasattr(builtins, node.id) and node.id not in seen:
                    todo.append(node.id)
            elif isinstance(node, ast.Attribute):
                chain, root = [], node
                while isinstance(root, ast.Attribute):
                    chain.append(root.attr)
                    root = root.value
                if not isinstance(root, ast.Name) or root.id not in namespace:
                    continue
                value = namespace[root.id]
                if isinstance(value, types.ModuleType):
                    for attr in reversed(chain):
                        value = getattr(value, attr, None)
                        if value is None:
                            break
                        inspect(value)
                else:  # a property or a method of the object's class, such as ``data.stats``
                    member = inspect_member(type(value), chain[-1])
                    if member is not None:
                        inspect(member)
    return sorted(found)


def inspect_member(cls: type, name: str) -> Any:
    """The function behind ``cls.name`` when it is a property or a method, else None."""
    for klass in getattr(cls, "__mro__", ()):
        member = klass.__dict__.get(name)
        if isinstance(member, property):
            return member.fget
        if isinstance(member, (types.FunctionType, staticmethod, classmethod)):
            return member
        if member is not None:
            return None
    return None


#: Classes that only evalib's helpers make (an answer built from them was not worked out by hand) -> the helper.
_RESULT_TYPES = {
    "evalib.design.summary:ModelSummary": "evalib.design.summary:summary",
    "evalib.design.summary:LayerRow": "evalib.design.summary:summary",
    "evalib.design.receptive_field:Geometry": "evalib.design.receptive_field:receptive_field_steps",
    "evalib.design.shapes:PoolingPlan": "evalib.design.shapes:plan_to_one",
    "evalib.mnist.data:PixelStats": "evalib.mnist.data:pixel_stats",
    "evalib.mnist.data:Loaders": "evalib.mnist.data:mnist_loaders",
}


def _helper_result_types() -> dict[type, str]:
    kinds = {}
    for spec, maker in _RESULT_TYPES.items():
        try:
            kind = resolve(spec)[2]
        except LookupError:
            continue
        if isinstance(kind, type):
            kinds[kind] = maker
    return kinds


# ---------------------------------------------------------------------------------------------
# A locked copy of evalib for grading kernels
# ---------------------------------------------------------------------------------------------
def _stub_source(source: str, qualnames: dict[str, str]) -> str:
    """``source`` with the bodies of the functions named in ``qualnames`` (-> shown name) replaced by a raise."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    edits = []
    for qualname, node in _functions(tree):
        if qualname not in qualnames:
            continue
        body = node.body
        first = 1 if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) \
            and isinstance(body[0].value.value, str) else 0
        start = body[first] if first < len(body) else None
        end = body[-1]
        if start is None:  # only a docstring
            line, col = end.end_lineno, end.end_col_offset
            edits.append((line, col, line, col, "; "))
            start_line, start_col, end_line, end_col = line, col, line, col
        else:
            start_line, start_col, end_line, end_col = start.lineno, start.col_offset, end.end_lineno, end.end_col_offset
        message = repr(qualnames[qualname])
        stmt = f"raise __import__('evalib.checks.guard', fromlist=['HelperNotAllowed']).HelperNotAllowed({message})"
        edits.append((start_line, start_col, end_line, end_col, stmt))
    for start_line, start_col, end_line, end_col, text in sorted(edits, reverse=True):
        head = lines[start_line - 1][:start_col]
        tail = lines[end_line - 1][end_col:]
        lines[start_line - 1:end_line] = [head + text + tail]
    return "".join(lines)


def locked_copy(assignment: str, dest: Path) -> Path:
    """Write a copy of the evalib package into ``dest/evalib`` in which every helper
    marked for ``assignment`` raises :class:`HelperNotAllowed`; returns ``dest/evalib``.

    A grading kernel puts ``dest`` first on ``sys.path``; the stubs are in the
    files themselves, so reloading or executing a module's file finds them too.
    """
    if assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}")
    source_root = Path(__file__).resolve().parents[1]
    target = Path(dest) / "evalib"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source_root, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    by_file: dict[Path, dict[str, str]] = {}
    for spec, assignments in static_registry(source_root).items():
        if assignment not in assignments:
            continue
        module, _, qualname = spec.partition(":")
        relative = Path(*module.split(".")[1:])
        path = target / relative.with_suffix(".py")
        if not path.exists():
            path = target / relative / "__init__.py"
        by_file.setdefault(path, {})[qualname] = _shown_static(spec)
    for path, qualnames in by_file.items():
        path.write_text(_stub_source(path.read_text(encoding="utf-8"), qualnames), encoding="utf-8")
    return target


def _shown_static(spec: str) -> str:
    module, _, path = spec.partition(":")
    return f"evalib.{path}" if module.startswith("evalib") else f"{module}.{path}"


def helper_names(assignment: str) -> list[str]:
    """What a student would call: evalib's marked helpers and the torch-level ones, as written in code."""
    return sorted({_shown_static(spec) for spec, a in static_registry().items() if assignment in a}
                  | {f"{m}.{n}" for m, _, n in (s.partition(":") for s in TORCH_HELPERS.get(assignment, ()))})
