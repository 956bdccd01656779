"""Run a student's Jupyter kernel in a sandbox.

A grading kernel is started through a kernelspec whose command is::

    python autograders/sandbox.py [--memory-mb N] [--file-mb N] [--hide P]... [--keep K]... -- <kernel command>

Before it starts the kernel, the launcher applies what the platform allows:

- everywhere: limits on address space (``--memory-mb``), on the size of any
  file written (``--file-mb``), on processes, and no core dumps;
- on Linux as root: a private network namespace (no network at all: the
  kernel talks to the grader over Unix sockets), a private mount namespace in
  which every ``--hide`` path is covered by an empty read-only tmpfs (paths
  listed with ``--keep`` are bound back read-only, those listed with
  ``--writable`` and the kernel's working directory read-write), then every capability is dropped for good, so the
  student's code cannot undo any of it, read other processes' memory, or
  regain privileges.

What was applied is written to the kernel's stderr and, as JSON, to the file
named by ``--report`` (if given). :func:`write_kernelspec` writes the
kernelspec; point ``JUPYTER_PATH`` at its folder and the ``python3`` kernel
of every notebook runs sandboxed.
"""
from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["write_kernelspec", "launch", "SANDBOX_KERNEL_NAME"]

SANDBOX_KERNEL_NAME = "python3"

_CLONE_NEWNS = 0x00020000
_CLONE_NEWNET = 0x40000000
_MS_RDONLY = 0x1
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_PR_CAPBSET_DROP = 24
_PR_SET_SECUREBITS = 28
_PR_SET_NO_NEW_PRIVS = 38
# SECBIT_NOROOT, its lock, SECBIT_NO_SETUID_FIXUP, its lock, SECBIT_KEEP_CAPS_LOCKED
_SECUREBITS = 0x1 | 0x2 | 0x4 | 0x8 | 0x20


def write_kernelspec(
    folder: Path,
    memory_mb: int = 6144,
    file_mb: int = 64,
    hide: Sequence[Path] = (),
    keep: Sequence[Path] = (),
    writable: Sequence[Path] = (),
    report: Path | None = None,
    python: str = sys.executable,
) -> Path:
    """Write ``folder/kernels/python3/kernel.json`` that starts a sandboxed ipykernel.

    Returns ``folder``: put it first on ``JUPYTER_PATH`` for the grading process.

    >>> import tempfile, json
    >>> spec = write_kernelspec(Path(tempfile.mkdtemp()), memory_mb=1024)
    >>> json.loads((spec / "kernels/python3/kernel.json").read_text())["argv"][2:4]
    ['--memory-mb', '1024']
    """
    # The launcher runs by path, so the kernel needs nothing installed beyond ipykernel.
    argv = [python, str(Path(__file__).resolve()), "--memory-mb", str(memory_mb), "--file-mb", str(file_mb)]
    for path in hide:
        argv += ["--hide", str(Path(path).resolve())]
    for path in keep:
        argv += ["--keep", str(Path(path).resolve())]
    for path in writable:
        argv += ["--writable", str(Path(path).resolve())]
    if report is not None:
        argv += ["--report", str(Path(report).resolve())]
    argv += ["--", python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec_dir = Path(folder) / "kernels" / SANDBOX_KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": argv,
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        "env": {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return Path(folder)


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _hide_paths(libc: ctypes.CDLL, hide: list[str], keep: list[str], writable: list[str]) -> list[str]:
    """Cover each hidden folder with an empty read-only tmpfs, binding the kept folders back."""
    _check(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make mounts private")
    # Open kept folders before they disappear, to bind them back from their file descriptors.
    kept = [(path, os.open(path, os.O_RDONLY | os.O_DIRECTORY)) for path in keep if os.path.isdir(path)]
    hidden: list[str] = []
    for path in sorted(set(hide), key=len):  # outermost first; what lies inside is covered already
        if os.path.isdir(path) and not any(_inside(path, h) for h in hidden):
            _check(libc.mount(b"tmpfs", path.encode(), b"tmpfs", 0, b"size=64k,mode=755"), f"cover {path}")
            hidden.append(path)
    for path, fd in kept:
        if any(_inside(path, h) for h in hidden):
            os.makedirs(path, exist_ok=True)
            _check(libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, _MS_BIND | _MS_REC, None), f"keep {path}")
            if os.path.realpath(path) not in {os.path.realpath(w) for w in writable}:
                flags = _MS_BIND | _MS_REMOUNT | _MS_RDONLY
                _check(libc.mount(None, path.encode(), None, flags, None), f"make {path} read-only")
        os.close(fd)
    for path in hidden:  # nothing new may be written where the hidden files were
        _check(libc.mount(None, path.encode(), None, _MS_REMOUNT | _MS_RDONLY, None), f"seal {path}")
    os.chdir(writable[0])  # re-enter the working folder through the new mounts
    return hidden


def _tasks_of_this_user() -> int:
    uid, count = str(os.geteuid()), 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("Uid", "").split()[:1] == [uid]:
            count += int(fields.get("Threads", "1"))
    return count


def _drop_privileges(libc: ctypes.CDLL) -> None:
    for cap in range(64):
        libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    _check(libc.prctl(_PR_SET_SECUREBITS, _SECUREBITS, 0, 0, 0), "lock securebits")
    _check(libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "set no_new_privs")


def launch(argv: Sequence[str]) -> None:
    """Apply the sandbox described by ``argv`` (see the module docstring), then exec the kernel."""
    parser = argparse.ArgumentParser(prog="autograders/sandbox.py")
    parser.add_argument("--memory-mb", type=int, default=6144)
    parser.add_argument("--file-mb", type=int, default=64)
    parser.add_argument("--processes", type=int, default=512)
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--keep", action="append", default=[])
    parser.add_argument("--writable", action="append", default=[])
    parser.add_argument("--report")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the kernel command after --")

    applied: dict[str, object] = {}
    # Opened now: the report's folder may be hidden or sealed a moment later.
    report = open(args.report, "w") if args.report else None
    _limit(resource.RLIMIT_AS, args.memory_mb * 1024 * 1024)
    _limit(resource.RLIMIT_FSIZE, args.file_mb * 1024 * 1024)
    _limit(resource.RLIMIT_CORE, 0)
    applied["memory_mb"], applied["file_mb"] = args.memory_mb, args.file_mb
    applied["network"] = applied["hidden"] = applied["privileges"] = "not isolated"
    if sys.platform.startswith("linux") and os.geteuid() == 0:
        libc = _libc()
        workdir = os.getcwd()
        try:
            _check(libc.unshare(_CLONE_NEWNET), "new network namespace")
            applied["network"] = "none (private network namespace)"
        except OSError as exc:
            applied["network"] = f"open ({exc})"
        try:
            _check(libc.unshare(_CLONE_NEWNS), "new mount namespace")
            writable = [workdir, *args.writable]  # the working folder always stays
            applied["hidden"] = _hide_paths(libc, args.hide, args.keep + writable, writable)
        except OSError as exc:
            applied["hidden"] = f"nothing ({exc})"
        try:
            # The limit counts every task of the user, so leave room for those already running.
            _limit(resource.RLIMIT_NPROC, _tasks_of_this_user() + args.processes)
            _drop_privileges(libc)
            applied["privileges"] = "all capabilities dropped"
        except OSError as exc:
            applied["privileges"] = f"kept ({exc})"
    else:
        applied["note"] = "network and file isolation need Linux and root; only resource limits apply"
    if report is not None:
        report.write(json.dumps(applied))
        report.close()
    print(f"grading sandbox: {json.dumps(applied)}", file=sys.stderr, flush=True)
    os.execv(command[0], command)


if __name__ == "__main__":
    launch(sys.argv[1:])
