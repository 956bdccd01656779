"""Helpers for tests that run code through the warm fork server: a locked copy of evalib with a
probe that reads a value out of the submission's namespace, plan steps, and the processes a
sandbox slot has left on this machine."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from autograders.grading.forkserver import ForkServer, Limits
from autograders.grading.sandbox import SLOT_UID_BASE, Resources

ROOT = Path(__file__).resolve().parents[1]

ROOT_ON_LINUX = sys.platform.startswith("linux") and os.geteuid() == 0
SKIP_REASON = "the full sandbox needs Linux and root (CI has both)"
needs_root = pytest.mark.skipif(not ROOT_ON_LINUX, reason=SKIP_REASON)

#: Small limits, so that bombs and hangs end in seconds.
TEST_LIMITS = Limits(
    resources=Resources(memory_mb=4096, file_mb=16, work_mb=64, processes=32, open_files=128),
    cell_timeout=20, probe_timeout=10, budget=60, interrupt_grace=2, setup_timeout=30,
    max_event_bytes=1 << 20, max_protocol_bytes=8 << 20,
)

_PROBES = '''"""Test probes: values read out of a submission's namespace."""


def value(namespace, args):
    return namespace.get(args["name"])


def fail(namespace, args):
    raise RuntimeError("the probe failed on purpose")


def unplain(namespace, args):
    return {1, 2, 3}
'''


def locked_copy(dest: Path) -> Path:
    """A copy of this checkout's evalib in ``dest`` (what the grader's locked copy stands for)."""
    shutil.copytree(ROOT / "evalib", dest / "evalib", ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "evalib" / "_test_probes.py").write_text(_PROBES)
    return dest


def start_server(dest: Path, slots: int = 2, limits: Limits = TEST_LIMITS) -> ForkServer:
    """A fork server on a locked copy in ``dest``; skips the test where the full sandbox cannot be had."""
    if not ROOT_ON_LINUX:
        pytest.skip(SKIP_REASON)
    return ForkServer(locked_copy(dest), slots=slots, limits=limits)


def cell(index: int, source: str, timeout: float | None = None) -> dict:
    step = {"op": "cell", "index": index, "source": source}
    if timeout is not None:
        step["timeout"] = timeout
    return step


def read(name: str, question: str | None = None) -> dict:
    """A probe step returning the submission's variable ``name``."""
    return {"op": "probe", "question": question or name, "call": "evalib._test_probes:value", "args": {"name": name}}


def outcome(server: ForkServer, source: str, files: dict | None = None, **limits) -> dict:
    """Run ``source`` as one cell and return the variable ``result`` it leaves (asserts the run ended well)."""
    events = server.run([cell(0, source), read("result")], files=files, **limits)
    assert events[-1]["event"] == "done", events
    assert events[1]["status"] == "ok", events[1]
    return events[2]["data"]


def slot_processes(slots: int = 2, base: int = SLOT_UID_BASE) -> list[int]:
    """Processes on this machine that run as a sandbox slot's uid (``base`` + slot); zombies (dead,
    waiting for a parent to collect them) are not counted."""
    uids = {str(base + n) for n in range(slots)}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        if fields.get("Uid", "").split()[:1] and fields["Uid"].split()[0] in uids \
                and not fields.get("State", "").strip().startswith(("Z", "X")):
            found.append(int(entry))
    return found


def running_kernel(slots: int = 2, base: int = SLOT_UID_BASE) -> tuple[int, int] | None:
    """(slot, host pid) of the init process of a running sandbox (a kernel), if there is one."""
    for pid in sorted(slot_processes(slots, base)):
        try:
            with open(f"/proc/{pid}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        if fields.get("NSpid", "").split()[-1:] == ["1"]:
            return int(fields["Uid"].split()[0]) - base, pid
    return None


def wait_for_kernel(server: ForkServer, timeout: float = 10) -> tuple[int, int]:
    """(slot, host pid) of a kernel of ``server`` once one runs."""
    import time

    deadline = time.monotonic() + timeout
    while (found := running_kernel(server.slots, server.uid_base)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found is not None, "no kernel started"
    return found
