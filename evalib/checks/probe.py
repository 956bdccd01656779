"""The part of a check that runs inside the student's process: it takes answers
out of the namespace as plain data, and calls the student's functions with test
inputs under the guard, a time limit and captured output.

:func:`run` is what a grading runner calls at a test cell's position::

    data = probe.run(shell.user_ns, "test_chain_199", requests)

``requests`` come from the trusted side (``question.requests(hidden)``): values
by name, and calls with the cases' inputs only, never their expected outputs.
The result is plain data (JSON), which the trusted side judges.

>>> out = run({"n_convs_199": "99 times"}, "test_n_convs_199",
...           [{"op": "value", "part": "n_convs_199", "name": "n_convs_199"}], "a2_receptive_field")
>>> out["results"][0]["value"]
'99 times'
"""
from __future__ import annotations

import contextlib
import io
import signal
import threading
import time
from typing import Any, Callable, Iterator, Sequence

from .guard import HelperNotAllowed, computed_with, helpers_off, uses_helpers
from .parse import is_placeholder
from .plain import Limits, to_plain

__all__ = ["run", "step", "lookup", "take_value", "call", "time_limit", "ProbeTimeout"]

OUTPUT_LIMIT = 4000  # characters of a call's captured output kept
ERROR_LIMIT = 300


class ProbeTimeout(Exception):
    """A student's function ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (main thread, where signals work; elsewhere no limit)."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):  # noqa: ARG001 - the signal handler's signature
        raise ProbeTimeout(f"ran past its time limit of {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def lookup(namespace: dict, names: Sequence[str]) -> tuple[bool, str, Any]:
    """The first of ``names`` defined in ``namespace`` with a real answer (else the first defined).

    >>> lookup({"normalise": "a", "normalize": None}, ["normalize", "normalise"])
    (True, 'normalise', 'a')
    """
    defined = [n for n in names if n in namespace]
    for name in defined:
        if not is_placeholder(namespace[name]):
            return True, name, namespace[name]
    if defined:
        return True, defined[0], namespace[defined[0]]
    return False, names[0], None


def take_value(namespace: dict, names: Sequence[str], assignment: str, limits: Limits | None = None) -> dict:
    """A value answer as plain data, with the helpers it was computed with."""
    found, name, value = lookup(namespace, names)
    if not found:
        return {"found": False, "name": name}
    made_with: list[str] = []
    try:
        made_with = computed_with(name, assignment, namespace=namespace) if not is_placeholder(value) else []
    except Exception:  # tracing must never stop a check
        made_with = []
    return {"found": True, "name": name, "value": to_plain(value, limits), "made_with": made_with}


def _text(stream: io.StringIO) -> str:
    text = stream.getvalue()
    return text if len(text) <= OUTPUT_LIMIT else text[:OUTPUT_LIMIT] + "\n[... more output]"


def call(function: Any, args: Sequence[Any] = (), kwargs: dict | None = None, assignment: str | None = None,
         timeout: float | None = 5.0, convert: Callable[[Any], Any] | None = None,
         limits: Limits | None = None) -> dict:
    """Call a student's function and describe what happened, as plain data.

    The helpers that solve ``assignment`` are switched off during the call, its
    output (stdout and stderr) is captured, and it is stopped after ``timeout``
    seconds. The result is converted to plain data inside that window (``convert``,
    default :func:`to_plain`), so nothing evaluated lazily escapes it. Returns
    ``ok``, ``result``, ``output``, ``error``, ``timeout``, ``helpers``,
    ``not_implemented``, ``seconds``.

    >>> r = call(lambda n: print(n), (1,))
    >>> r["ok"], r["result"], r["output"]
    (True, None, '1\\n')
    """
    convert = convert or (lambda value: to_plain(value, limits))
    out: dict[str, Any] = {"ok": False, "result": None, "output": "", "error": None, "timeout": False,
                           "helpers": [], "not_implemented": False, "seconds": 0.0}
    if assignment:
        try:
            out["helpers"] = uses_helpers(function, assignment)
        except Exception:
            out["helpers"] = []
    buffer = io.StringIO()
    start = time.perf_counter()
    guard = helpers_off(assignment) if assignment else contextlib.nullcontext([])
    try:
        with guard as used, contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer), time_limit(timeout):
            try:
                result = function(*args, **(kwargs or {}))
                out["result"] = convert(result)
                out["ok"] = True
            finally:
                out["helpers"] = sorted(set(out["helpers"]) | set(used))
    except ProbeTimeout as error:
        out["timeout"], out["error"] = True, str(error)
    except NotImplementedError:
        out["not_implemented"] = True
    except HelperNotAllowed as error:  # raised by a switched-off helper or operator: that is a helper used
        out["error"] = f"HelperNotAllowed: {error}"
        name = getattr(error, "name", None)
        if isinstance(name, str) and name and not out["helpers"]:
            out["helpers"] = [name]
    except RecursionError:
        out["error"] = "RecursionError: maximum recursion depth exceeded"
    except BaseException as error:  # the student's bug, reported as data (KeyboardInterrupt and SystemExit too)
        out["error"] = f"{type(error).__name__}: {str(error)[:ERROR_LIMIT]}"
    out["seconds"] = round(time.perf_counter() - start, 3)
    out["output"] = _text(buffer)
    return out


def run(namespace: dict, question_id: str, requests: Sequence[dict], assignment: str | None = None) -> dict:
    """Answer one question's ``requests`` from ``namespace``; returns plain data.

    ``question_id`` is the test cell's nbgrader grade id (``"test_chain_199"``);
    ``assignment`` narrows the search when given. Every result is JSON-able; a
    request that fails comes back as ``{"error": ...}``.
    """
    from .question import find_question

    question = find_question(question_id, assignment)
    return {"question": question.id, "results": question.probe_all(namespace, list(requests))}


def step(namespace: dict, args: dict) -> dict:
    """A grading runner's probe step: ``args`` holds ``question``, ``requests`` and ``assignment``.

    >>> step({"n_convs_199": 99}, {"question": "test_n_convs_199", "assignment": "a2_receptive_field",
    ...       "requests": [{"op": "value", "part": "n_convs_199", "name": "n_convs_199"}]})["results"][0]["value"]
    99
    """
    return run(namespace, str(args["question"]), list(args.get("requests", [])), args.get("assignment"))
