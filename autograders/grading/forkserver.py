"""A warm fork server: torch, IPython and a locked evalib imported once, one sandboxed fork per submission.

Three kinds of process, only the last of which runs a student's code:

- the **server** (``python -m autograders.grading.forkserver``, started by :class:`ForkServer`)
  imports torch, IPython and the evalib package found at the path it is given, then accepts
  connections on a Unix socket in a private folder; it stays single-threaded and never runs
  submitted code, so every fork of it starts from the same clean state;
- a **keeper**, forked by the server for each connection: it reads the request (a plan of steps
  and the files of the work folder), sets up a :class:`~autograders.grading.sandbox.Sandbox` for
  its slot and watches the kernel: it reads the kernel's event pipe with timeouts and size caps,
  parses nothing but bounded JSON lines, checks each event against the plan, interrupts a step
  that runs past its time limit, then kills, kills the whole PID namespace at the notebook's
  budget, and passes clean events to the client;
- the **kernel**, init of the sandbox's PID namespace: a fresh IPython ``InteractiveShell`` runs
  the plan. ``{"op": "cell", "index": i, "source": str, "timeout": s}`` runs a cell (magics work;
  the student's stdout and stderr go to /dev/null, so output costs nothing and never reaches the
  protocol); ``{"op": "probe", "question": id, "call": "module:function", "args": data}`` calls
  ``function(user_namespace, args)`` from the evalib package, which returns JSON-able data.

Events, one JSON object per line, in this order::

    {"event": "sandbox", "report": "sandbox: ... NOT protected: ..."}
    {"event": "cell", "index": i, "status": "ok" | "error", "error": "Type: message", "seconds": s}
    {"event": "probe", "question": id, "data": ..., "seconds": s}        (+ "error" when it raised)
    {"event": "done", "seconds": s}     or     {"event": "killed", "reason": "...", "seconds": s}

Everything a kernel sends is data it chose: a kernel can only hurt its own result. Every kernel
is a fork of the server and could read what the server was started with, so the server gets a
short allowlisted environment and nothing of any other submission. The client API,
:class:`ForkServer`, is thread-safe (one connection per call), so a Dask worker can share one.
"""
from __future__ import annotations

import importlib
import json
import math
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .sandbox import (SLOT_UID_BASE, Report, Resources, Sandbox, SandboxError, check_file_names, die_with_parent,
                      sweep_uid)

__all__ = ["ForkServer", "ForkServerError", "Limits", "validate_plan"]

_HEADER = struct.Struct("!I")
#: What the server keeps of the caller's environment (plus ``env`` given to :class:`ForkServer`).
_SERVER_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH")
#: Imported by the server when installed: notebooks that plot then start warm too (pyplot alone
#: costs about a second, most of it the font list), and the checks' first torch dispatch mode
#: does not import torch._dynamo in every kernel (1.5 s each time).
_WARM_IF_PRESENT = ("matplotlib.pyplot", "matplotlib_inline.backend_inline", "torch._dynamo")
_MAX_HEADER = 64 << 20


class ForkServerError(RuntimeError):
    """The fork server could not be started."""


@dataclass(frozen=True)
class Limits:
    """Time limits and size caps of a run; ``resources`` are the sandbox's rlimits."""

    resources: Resources = field(default_factory=Resources)
    cell_timeout: float = 300.0  # a cell's default limit (a plan step may give its own)
    probe_timeout: float = 60.0  # a probe's default limit
    budget: float = 900.0  # the whole notebook, sandbox set-up included
    interrupt_grace: float = 3.0  # how long an interrupted step has to stop before the kill
    setup_timeout: float = 60.0  # from the fork to a kernel ready for its first step
    max_event_bytes: int = 4 << 20  # one event line
    max_protocol_bytes: int = 64 << 20  # everything one kernel may send
    max_error_chars: int = 1000
    max_source_chars: int = 1 << 20  # one cell
    max_files_bytes: int = 256 << 20  # the files of one request
    threads: int = 1  # torch / OpenMP threads in a kernel

    @classmethod
    def from_json(cls, data: Mapping) -> "Limits":
        data = dict(data)
        data["resources"] = Resources(**data.get("resources", {}))
        return cls(**data)


# ----------------------------------------------------------------------------- plans and events

def _finite_seconds(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 < value <= 7 * 86400:
        raise ValueError(f"{what}: a timeout is a number of seconds above 0")
    return float(value)


def _allowed_call(call: object, modules: Sequence[str]) -> bool:
    if not isinstance(call, str) or call.count(":") != 1:
        return False
    module, function = call.split(":")
    parts = module.split(".")
    return (function.isidentifier() and all(p.isidentifier() for p in parts)
            and any(module == m or module.startswith(m + ".") for m in modules))


def validate_plan(plan: object, limits: Limits = Limits(), probe_modules: Sequence[str] = ("evalib",)) -> list[dict]:
    """The plan as a list of clean steps (defaults filled in), or ValueError saying what is wrong."""
    if not isinstance(plan, (list, tuple)) or len(plan) > 100_000:
        raise ValueError("a plan is a list of steps")
    steps = []
    for n, step in enumerate(plan):
        if not isinstance(step, Mapping):
            raise ValueError(f"step {n}: a step is a dict")
        op = step.get("op")
        if op == "cell":
            index, source = step.get("index"), step.get("source")
            if type(index) is not int or index < 0:
                raise ValueError(f"step {n}: a cell's index is an int from 0")
            if not isinstance(source, str) or len(source) > limits.max_source_chars:
                raise ValueError(f"step {n}: a cell's source is a str of at most {limits.max_source_chars} characters")
            timeout = _finite_seconds(step.get("timeout", limits.cell_timeout), f"step {n}")
            steps.append({"op": "cell", "index": index, "source": source, "timeout": timeout})
        elif op == "probe":
            question, call = step.get("question"), step.get("call")
            if not isinstance(question, str) or not 0 < len(question) <= 200:
                raise ValueError(f"step {n}: a probe's question is a str of 1 to 200 characters")
            if not _allowed_call(call, probe_modules):
                raise ValueError(f"step {n}: a probe calls 'module:function' in {', '.join(probe_modules)}")
            try:
                args = json.loads(json.dumps(step.get("args"), allow_nan=False))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"step {n}: a probe's args are JSON data ({exc})") from None
            timeout = _finite_seconds(step.get("timeout", limits.probe_timeout), f"step {n}")
            steps.append({"op": "probe", "question": question, "call": call, "args": args, "timeout": timeout})
        else:
            raise ValueError(f"step {n}: unknown op {op!r} (cell or probe)")
    return steps


def _describe_step(step: dict | None) -> str:
    if step is None:
        return "set-up"
    return f"cell {step['index']}" if step["op"] == "cell" else f"the probe of {step['question']}"


class _ProtocolError(Exception):
    pass


_EOF = object()


class _LineReader:
    """Bounded JSON lines from a descriptor: never more than ``max_line`` bytes without a newline,
    never more than ``max_total`` bytes in all, never a wait past the caller's timeout."""

    def __init__(self, fd: int, max_line: int, max_total: int):
        self.fd, self.max_line, self.max_total = fd, max_line, max_total
        self.buffer = bytearray()
        self.total = 0
        self.eof = False
        self.poll = select.poll()
        self.poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)

    def line(self, timeout: float):
        """The next line (bytes), None when ``timeout`` passed first, or ``_EOF``."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            cut = self.buffer.find(b"\n")
            if cut >= 0:
                line = bytes(self.buffer[:cut])
                del self.buffer[:cut + 1]
                if len(line) > self.max_line:
                    raise _ProtocolError(f"a line of {len(line)} bytes (at most {self.max_line})")
                return line
            if len(self.buffer) > self.max_line:
                raise _ProtocolError(f"more than {self.max_line} bytes without a line end")
            if self.eof:
                if self.buffer:
                    raise _ProtocolError("the stream ended inside a line")
                return _EOF
            left = deadline - time.monotonic()
            if left <= 0 or not self.poll.poll(max(1, int(left * 1000))):
                if time.monotonic() >= deadline:
                    return None
                continue
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                self.eof = True
                continue
            self.total += len(data)
            if self.total > self.max_total:
                raise _ProtocolError(f"more than {self.max_total} bytes in all")
            self.buffer += data


def _parse(line: bytes) -> dict:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise _ProtocolError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise _ProtocolError("an event is a JSON object")
    return value


def _text(value: object, cap: int) -> str:
    return value[:cap] if isinstance(value, str) else ""


# ----------------------------------------------------------------------------- the keeper

class _Supervisor:
    """Watches one kernel for its keeper: timeouts, the budget, the protocol."""

    def __init__(self, sandbox: Sandbox, fd: int, send, plan: list[dict], limits: Limits, budget: float,
                 started: float):
        self.sandbox, self.send, self.plan, self.limits = sandbox, send, plan, limits
        self.budget, self.started = budget, started
        self.reader = _LineReader(fd, limits.max_event_bytes, limits.max_protocol_bytes)

    def elapsed(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def end(self, reason: str | None) -> None:
        """Kill the kernel's PID namespace, wait for it, send the last event."""
        self.sandbox.kill()
        self.sandbox.wait(30)
        if reason is None:
            self.send({"event": "done", "seconds": self.elapsed()})
        else:
            self.send({"event": "killed", "reason": reason, "seconds": self.elapsed()})

    def exit_reason(self, step: dict | None) -> str:
        status = self.sandbox.wait(5)
        if status is None:
            how = "closed its channel"
        elif os.WIFSIGNALED(status):
            how = f"was killed by {_signal_name(os.WTERMSIG(status))}"
        else:
            how = f"exited with code {os.waitstatus_to_exitcode(status)}"
        return f"the kernel {how} during {_describe_step(step)}"

    def run(self) -> None:
        limits, plan = self.limits, self.plan
        hard = self.started + self.budget
        step_no = -1  # -1: set-up, len(plan): waiting for "done"
        step_start = time.monotonic()
        step_deadline = min(hard, step_start + limits.setup_timeout)
        interrupted = False
        while True:
            now = time.monotonic()
            step = plan[step_no] if 0 <= step_no < len(plan) else None
            if now >= hard:
                return self.end(f"the notebook ran past its budget of {self.budget:g} s")
            if now >= step_deadline:
                if step is not None and not interrupted:
                    try:
                        os.kill(self.sandbox.pid, signal.SIGINT)
                    except ProcessLookupError:
                        pass
                    interrupted = True
                    step_deadline = min(hard, now + limits.interrupt_grace)
                    continue
                if step is None:
                    return self.end("the kernel was not ready in time" if step_no < 0 else "the kernel did not finish")
                return self.end(f"{_describe_step(step)} ran past its {step['timeout']:g} s limit "
                                "and did not stop when interrupted")
            try:
                line = self.reader.line(min(hard, step_deadline) - now)
                if line is None:
                    continue
                if line is _EOF:
                    return self.end(self.exit_reason(step))
                event = _parse(line)
                seconds = round(time.monotonic() - step_start, 3)
                if step_no < 0:
                    self.ready(event)
                elif step is None:
                    if event.get("event") != "done":
                        raise _ProtocolError("an event after the last step")
                    return self.end(None)
                else:
                    self.send(self.checked(event, step, seconds, interrupted))
            except _ProtocolError as exc:
                return self.end(f"protocol: {exc}")
            step_no += 1
            interrupted = False
            step_start = time.monotonic()
            if step_no < len(plan):
                step_deadline = min(hard, step_start + plan[step_no]["timeout"])
            else:
                step_deadline = min(hard, step_start + limits.interrupt_grace + 5)

    def ready(self, event: dict) -> None:
        """The first line, sent before any submitted code ran: the sandbox's own report."""
        if event.get("event") != "ready" or not isinstance(event.get("report"), dict):
            raise _ProtocolError("the kernel did not start")
        report = Report.from_json(event["report"])
        self.send({"event": "sandbox", "report": report.line(), "applied": report.applied,
                   "unprotected": report.unprotected})

    def checked(self, event: dict, step: dict, seconds: float, interrupted: bool) -> dict:
        """The clean event for ``step``, rebuilt from the fields it may have."""
        cap = self.limits.max_error_chars
        timed_out = f"TimeoutError: {_describe_step(step)} ran past its {step['timeout']:g} s limit and was interrupted"
        if step["op"] == "cell":
            if (event.get("event") != "cell" or event.get("index") != step["index"]
                    or type(event.get("index")) is not int or event.get("status") not in ("ok", "error")):
                raise _ProtocolError(f"expected the event of {_describe_step(step)}")
            status, error = event["status"], _text(event.get("error"), cap) if event["status"] == "error" else ""
            if interrupted:
                status, error = "error", timed_out
            return {"event": "cell", "index": step["index"], "status": status, "error": error, "seconds": seconds}
        if event.get("event") != "probe" or event.get("question") != step["question"]:
            raise _ProtocolError(f"expected the event of {_describe_step(step)}")
        clean = {"event": "probe", "question": step["question"], "data": event.get("data"), "seconds": seconds}
        if interrupted:
            clean["data"], clean["error"] = None, timed_out
        elif "error" in event:
            clean["data"], clean["error"] = None, _text(event["error"], cap) or "error"
        return clean


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _recv_exact(conn: socket.socket, size: int, deadline: float) -> bytes:
    data = bytearray()
    while len(data) < size:
        conn.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = conn.recv(min(1 << 20, size - len(data)))
        if not chunk:
            raise ValueError("the request ended early")
        data += chunk
    return bytes(data)


def _receive(conn: socket.socket, limits: Limits, modules: Sequence[str]) -> tuple[list[dict], float, dict]:
    deadline = time.monotonic() + 60
    (size,) = _HEADER.unpack(_recv_exact(conn, _HEADER.size, deadline))
    if size > _MAX_HEADER:
        raise ValueError("request header too large")
    header = json.loads(_recv_exact(conn, size, deadline))
    plan = validate_plan(header.get("plan"), limits, modules)
    budget = _finite_seconds(header.get("budget", limits.budget), "budget")
    listed = header.get("files", [])
    if (not isinstance(listed, list) or any(int(n) < 0 for _, n in listed)
            or sum(int(n) for _, n in listed) > limits.max_files_bytes):
        raise ValueError("files: too many bytes")
    check_file_names(name for name, _ in listed)
    files = {name: _recv_exact(conn, int(n), deadline + 60) for name, n in listed}
    return plan, budget, files


def _keep(conn: socket.socket, slot: int, settings: dict) -> None:
    """The keeper of one connection (a fresh fork of the server)."""
    started = time.monotonic()
    limits = Limits.from_json(settings["limits"])

    def send(event: dict) -> None:
        conn.settimeout(30)
        conn.sendall(json.dumps(event, separators=(",", ":")).encode() + b"\n")

    try:
        plan, budget, files = _receive(conn, limits, settings["probe_modules"])
    except (OSError, ValueError, TypeError, struct.error) as exc:
        send({"event": "killed", "reason": f"bad request: {exc}"[:500], "seconds": 0.0})
        return
    sandbox = Sandbox(slot=slot, resources=limits.resources, allow=settings["allow"], deny=settings["deny"],
                      stage=settings["stage"], files=files, uid_base=settings["uid_base"])
    signal.signal(signal.SIGTERM, lambda *_: (sandbox.kill(), os._exit(1)))
    read_end, write_end = os.pipe()
    try:
        sandbox.start(lambda report: _kernel(plan, write_end, report, limits), keep_fds=[write_end])
    except (SandboxError, OSError) as exc:
        sandbox.kill()
        send({"event": "killed", "reason": f"the sandbox could not be set up: {exc}"[:500], "seconds": 0.0})
        return
    os.close(write_end)
    try:
        _Supervisor(sandbox, read_end, send, plan, limits, budget, started).run()
    except OSError:  # the client went away: nobody wants this run any more
        sandbox.kill()
        sandbox.wait(30)
    except Exception as exc:  # a fault of the keeper itself: end the kernel, say what happened
        sandbox.kill()
        sandbox.wait(30)
        send({"event": "killed", "reason": f"the keeper failed: {type(exc).__name__}: {exc}"[:500],
              "seconds": round(time.monotonic() - started, 3)})


# ----------------------------------------------------------------------------- the kernel

def _emit(fd: int, event: dict) -> None:
    data = json.dumps(event, allow_nan=False, separators=(",", ":")).encode() + b"\n"
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _error_text(exc: BaseException, cap: int) -> str:
    try:
        name, text = type(exc).__name__, str(exc)
    except BaseException:  # a hostile __str__: the type alone
        name, text = type(exc).__name__, ""
    return (f"{name}: {text}" if text else name)[:cap]


def _drain_interrupt() -> None:
    """Throw away an interrupt that came after its step was over (SIGINT is blocked here)."""
    while signal.sigtimedwait([signal.SIGINT], 0) is not None:
        pass


def _new_shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class GradingShell(InteractiveShell):
        """A notebook's shell without a front end: ``%matplotlib inline`` asks for no event loop."""

        def enable_gui(self, gui=None):
            if gui not in (None, "inline"):
                raise RuntimeError(f"no {gui} event loop while grading")

    config = Config()
    config.HistoryManager.enabled = False  # no sqlite file and no history thread
    config.InteractiveShell.colors = "NoColor"
    return GradingShell.instance(config=config)


def _run_step(shell, step: dict, limits: Limits) -> dict:
    """Run one step with SIGINT let through; returns its event."""
    error: BaseException | None = None
    data = None
    _drain_interrupt()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
    try:
        if step["op"] == "cell":
            result = shell.run_cell(step["source"], store_history=True)
            error = result.error_before_exec or result.error_in_exec
        else:
            module, function = step["call"].split(":")
            probe = getattr(importlib.import_module(module), function)
            with shell.builtin_trap:
                data = probe(shell.user_ns, step["args"])
    except BaseException as exc:  # KeyboardInterrupt from a time limit, anything a probe raised
        error = exc
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
    if step["op"] == "cell":
        event = {"event": "cell", "index": step["index"], "status": "error" if error else "ok"}
        if error is not None:
            event["error"] = _error_text(error, limits.max_error_chars)
        return event
    event = {"event": "probe", "question": step["question"], "data": data}
    if error is not None:
        event = {"event": "probe", "question": step["question"], "data": None,
                 "error": _error_text(error, limits.max_error_chars)}
    return event


def _kernel(plan: list[dict], fd: int, report: Report, limits: Limits) -> None:
    """The sandboxed kernel: a fresh shell runs the plan and reports each step on ``fd``."""
    me = os.getpid()
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
        signal.signal(number, signal.SIG_DFL)
    home, tmp = os.environ["HOME"], os.environ["TMPDIR"]
    threads = str(limits.threads)
    os.environ.update({
        "IPYTHONDIR": os.path.join(home, ".ipython"), "MPLCONFIGDIR": os.path.join(home, ".config", "matplotlib"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"), "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
        "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
        "TORCHINDUCTOR_CACHE_DIR": os.path.join(tmp, "torchinductor"), "TRITON_CACHE_DIR": os.path.join(tmp, "triton"),
    })
    sys.dont_write_bytecode = True
    sys.path.insert(0, "")  # the notebook's folder, as in a Jupyter kernel: its own modules import
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = open(1, "w", closefd=False, encoding="utf-8", errors="replace")
    sys.stderr = open(2, "w", closefd=False, encoding="utf-8", errors="replace")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(limits.threads)
    shell = _new_shell()
    _emit(fd, {"event": "ready", "report": report.to_json()})
    for step in plan:
        try:
            event = _run_step(shell, step, limits)
        except KeyboardInterrupt:  # an interrupt in the instant between the step and the mask
            event = _run_step_interrupted(step)
        if os.getpid() != me:  # a process the submission forked came back here: it has no say
            os._exit(0)
        try:
            _emit(fd, event)
        except (TypeError, ValueError) as exc:  # data that is not JSON
            _emit(fd, {"event": "probe", "question": step.get("question", ""), "data": None,
                       "error": _error_text(exc, limits.max_error_chars)})
    _emit(fd, {"event": "done"})


def _run_step_interrupted(step: dict) -> dict:
    if step["op"] == "cell":
        return {"event": "cell", "index": step["index"], "status": "error", "error": "KeyboardInterrupt"}
    return {"event": "probe", "question": step["question"], "data": None, "error": "KeyboardInterrupt"}


# ----------------------------------------------------------------------------- the server

def _preload(settings: dict) -> None:
    package = settings["evalib"]
    if "evalib" in sys.modules:
        raise ForkServerError("evalib was imported before its locked copy")
    sys.path.insert(0, os.path.dirname(package))
    import IPython  # noqa: F401
    import IPython.core.interactiveshell  # noqa: F401
    import torch  # noqa: F401
    import traitlets.config  # noqa: F401

    evalib = importlib.import_module("evalib")
    where = os.path.realpath(os.path.dirname(evalib.__file__))
    if where != os.path.realpath(package):
        raise ForkServerError(f"evalib came from {where}, not from {package}")
    for name in settings.get("preload", []):
        importlib.import_module(name)
    for name in _WARM_IF_PRESENT:
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _threads() -> int:
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))
    except (OSError, StopIteration, ValueError):
        return 1


#: Slot uids of one server: ``uid_base + block * UID_BLOCK + slot``.
UID_BLOCK = 1000


def _claim_uid_block(base: int, slots: int) -> tuple[int, int | None]:
    """The first uid of a block no other live server on this machine holds, and the lock's descriptor.

    Servers as root on one machine (several Dask workers) must never share a slot uid: each one
    holds an exclusive ``flock`` on one block's file for as long as it lives. Without root every
    slot has the caller's uid anyway.
    """
    if slots > UID_BLOCK:
        raise ForkServerError(f"at most {UID_BLOCK} slots")
    if not (sys.platform.startswith("linux") and os.geteuid() == 0):
        return base, None
    import fcntl

    folder = "/run/evalib-sandbox" if os.path.isdir("/run") else os.path.join(tempfile.gettempdir(), "evalib-sandbox")
    os.makedirs(folder, mode=0o700, exist_ok=True)
    for block in range(1000):
        fd = os.open(os.path.join(folder, f"uids-{block}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return base + block * UID_BLOCK, fd
        except BlockingIOError:
            os.close(fd)
    raise ForkServerError("every block of sandbox uids is taken")


def serve(settings: dict) -> None:
    """The server's loop (runs in the process :class:`ForkServer` starts)."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings["uid_base"], _ = _claim_uid_block(settings["uid_base"], settings["slots"])
    _preload(settings)
    if _threads() != 1:
        raise ForkServerError(f"the warm process must stay single-threaded (it has {_threads()} threads)")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(settings["socket"])
    os.chmod(settings["socket"], 0o600)
    listener.listen(64)
    free = set(range(settings["slots"]))
    for slot in free:  # kernels an earlier server left behind (see sweep_uid)
        sweep_uid(settings["uid_base"] + slot)
    keepers: dict[int, int] = {}  # pid -> slot
    wake_read, wake_write = os.pipe()  # a keeper's exit wakes the loop up
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sys.stdout.write(f"ready {os.getpid()} {settings['uid_base']}\n")
    sys.stdout.flush()
    poller = select.poll()
    poller.register(wake_read, select.POLLIN)
    poller.register(0, select.POLLIN | select.POLLHUP)
    listening = False
    try:
        while not stop:
            while keepers:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if not pid:
                    break
                slot = keepers.pop(pid)
                if status != 0:  # a keeper that did not end its run itself: nothing of it may stay
                    sweep_uid(settings["uid_base"] + slot)
                free.add(slot)
            if bool(free) != listening:  # accept only while a slot is free
                (poller.register if free else poller.unregister)(listener.fileno())
                listening = bool(free)
            ready = {fd for fd, _ in poller.poll(1000)}
            if wake_read in ready:
                while True:
                    try:
                        if not os.read(wake_read, 4096):
                            break
                    except BlockingIOError:
                        break
            if 0 in ready and not os.read(0, 4096):
                break  # the client is gone
            if listener.fileno() in ready and free:
                conn, _ = listener.accept()
                slot = min(free)
                pid = os.fork()
                if pid == 0:
                    code = 0
                    try:
                        die_with_parent()  # a keeper, and so its kernel, never outlives the server
                        signal.set_wakeup_fd(-1)
                        for number in (signal.SIGCHLD, signal.SIGTERM):
                            signal.signal(number, signal.SIG_DFL)
                        listener.close()
                        os.close(wake_read)
                        os.close(wake_write)
                        null = os.open(os.devnull, os.O_RDONLY)
                        os.dup2(null, 0)  # the client's pipe stays the server's alone
                        os.close(null)
                        _keep(conn, slot, settings)
                    except BaseException:
                        code = 1
                    os._exit(code)
                conn.close()
                free.discard(slot)
                keepers[pid] = slot
    finally:
        for pid in keepers:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for pid in keepers:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


# ----------------------------------------------------------------------------- the client

def _package_dir(path: str | os.PathLike) -> str:
    """The evalib package folder: ``path`` itself or ``path/evalib``."""
    path = Path(path).resolve()
    for candidate in (path, path / "evalib"):
        if candidate.name == "evalib" and (candidate / "__init__.py").is_file():
            return str(candidate)
    raise ForkServerError(f"no evalib package at {path}")


def _forget(current: dict, state: str) -> None:
    proc = current.get("server")
    if proc is not None and proc.poll() is None:
        proc.kill()
        proc.wait()
    shutil.rmtree(state, ignore_errors=True)


class ForkServer:
    """Client of a warm fork server; ``run`` grades one submission in a fresh sandboxed fork.

    >>> with ForkServer("build/locked/a1", slots=2) as server:            # doctest: +SKIP
    ...     events = server.run([{"op": "cell", "index": 0, "source": "x = 1"}])
    """

    def __init__(self, evalib_path: str | os.PathLike, slots: int = 1, limits: Limits = Limits(), *,
                 allow: Iterable[str] = (), deny: Iterable[str] = (), preload: Iterable[str] = (),
                 probe_modules: Sequence[str] = ("evalib",), uid_base: int = SLOT_UID_BASE,
                 python: str | None = None, start_timeout: float = 180.0, env: Mapping[str, str] | None = None):
        if slots < 1:
            raise ValueError("slots: at least 1")
        self.package = _package_dir(evalib_path)
        self.slots, self.limits = slots, limits
        self.probe_modules = tuple(probe_modules)
        self.python = python or sys.executable
        self.start_timeout = start_timeout
        self.env = dict(env or {})  # more environment for the server (and so every kernel)
        self.state = tempfile.mkdtemp(prefix="forkserver-")
        os.mkdir(os.path.join(self.state, "stage"))
        self.settings = {
            "evalib": self.package, "slots": slots, "limits": asdict(limits),
            "allow": [self.package, *map(str, allow)], "deny": [self.state, *map(str, deny)],
            "preload": list(preload), "probe_modules": list(self.probe_modules), "uid_base": uid_base,
            "stage": os.path.join(self.state, "stage"), "socket": os.path.join(self.state, "socket"),
        }
        self.report: str | None = None  # the sandbox line of the latest run
        self.uid_base = uid_base
        self._proc: subprocess.Popen | None = None
        self._free = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._current: dict[str, subprocess.Popen] = {}  # the running server, for the finalizer
        # A server nobody closes still goes (it also ends by itself when this process ends).
        self._finalizer = weakref.finalize(self, _forget, self._current, self.state)
        self._start()

    @property
    def pid(self) -> int | None:
        """The server's pid (it runs no submitted code)."""
        return self._proc.pid if self._proc else None

    def _start(self) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the folder holding the autograders package
        # Every kernel is a fork of the server and can read the environment it was started with
        # (/proc/self/environ keeps it whatever os.environ says): only these names pass.
        env = {name: os.environ[name] for name in _SERVER_ENVIRONMENT if name in os.environ}
        env.update(self.env)
        env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])
        env.update({"OMP_NUM_THREADS": str(self.limits.threads), "MKL_NUM_THREADS": str(self.limits.threads),
                    "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"})
        if os.path.exists(self.settings["socket"]):
            os.unlink(self.settings["socket"])
        log = open(os.path.join(self.state, "server.log"), "ab")
        try:
            self._proc = subprocess.Popen(
                [self.python, "-m", "autograders.grading.forkserver", json.dumps(self.settings)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=self.state, env=env,
                start_new_session=True)
        finally:
            log.close()
        self._current["server"] = self._proc
        reader = _LineReader(self._proc.stdout.fileno(), 200, 4096)
        try:
            line = reader.line(self.start_timeout)
        except _ProtocolError:
            line = None
        if not isinstance(line, bytes) or not line.startswith(b"ready ") or len(line.split()) != 3:
            self._stop()
            raise ForkServerError("the fork server did not start: " + self.log_tail())
        self.uid_base = int(line.split()[2])  # slot n runs as uid_base + n

    def log_tail(self, size: int = 2000) -> str:
        try:
            return Path(self.state, "server.log").read_text(errors="replace")[-size:].strip() or "(no output)"
        except OSError:
            return "(no log)"

    def _ensure_running(self) -> None:
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start()

    def run(self, plan: Sequence[Mapping], files: Mapping[str, bytes] | None = None,
            budget: float | None = None) -> list[dict]:
        """Run ``plan`` in a fresh sandboxed kernel; its events, ending with done or killed.

        ``files`` (relative name -> bytes) are written into the kernel's work folder first.
        Raises ValueError for a malformed plan; never raises for what a kernel does.
        """
        steps = validate_plan(plan, self.limits, self.probe_modules)
        files = {name: bytes(data) for name, data in (files or {}).items()}
        check_file_names(files)
        budget = _finite_seconds(self.limits.budget if budget is None else budget, "budget")
        with self._free:
            self._ensure_running()
            events = self._exchange(steps, files, budget)
            if events is None:  # not reached: a server that died is started again; one more try
                time.sleep(0.1)
                self._ensure_running()
                events = self._exchange(steps, files, budget)
            return events or [{"event": "killed", "reason": "could not reach the fork server: " + self.log_tail(300),
                               "seconds": 0.0}]

    def _exchange(self, steps: list[dict], files: dict[str, bytes], budget: float) -> list[dict] | None:
        """The events of one run; None when the server could not be reached at all."""
        started = time.monotonic()
        header = json.dumps({"plan": steps, "budget": budget,
                             "files": [[name, len(data)] for name, data in files.items()]}).encode()
        events: list[dict] = []

        def final(reason: str) -> list[dict]:
            events.append({"event": "killed", "reason": reason, "seconds": round(time.monotonic() - started, 3)})
            return events

        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.settimeout(60)
                conn.connect(self.settings["socket"])
                conn.sendall(_HEADER.pack(len(header)) + header)
                for data in files.values():
                    conn.sendall(data)
                conn.settimeout(None)
            except OSError:
                return None
            limits = self.limits
            reader = _LineReader(conn.fileno(), 2 * limits.max_event_bytes, 2 * limits.max_protocol_bytes)
            deadline = started + budget + limits.setup_timeout + limits.interrupt_grace + 60
            while True:
                try:
                    line = reader.line(deadline - time.monotonic())
                except _ProtocolError as exc:
                    return final(f"the fork server's answer was malformed: {exc}")
                if line is None:
                    return final(f"no answer from the fork server within {deadline - started:.0f} s")
                if line is _EOF:
                    if not events:  # accepted by a server that was dying: not reached at all
                        return None
                    return final("the fork server ended the run without a last event")
                try:
                    event = _parse(line)
                except _ProtocolError as exc:
                    return final(f"the fork server's answer was malformed: {exc}")
                events.append(event)
                if event.get("event") == "sandbox":
                    self.report = event.get("report")
                if event.get("event") in ("done", "killed"):
                    return events

    def close(self) -> None:
        """Stop the server (its keepers kill their kernels) and remove its private folder."""
        self._stop()
        self._finalizer.detach()
        shutil.rmtree(self.state, ignore_errors=True)

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream:
                stream.close()

    def __enter__(self) -> "ForkServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
