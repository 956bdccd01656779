"""Put a freshly forked process into a sandbox that sees and can do almost nothing.

:class:`Sandbox` is used by a process that exists for one submission only (the *keeper*):
``Sandbox(...).start(target)`` moves the keeper into new mount, network, IPC and UTS
namespaces, assembles a new root there, and forks the sandboxed process, which becomes
init of a new PID namespace, finishes entering the sandbox and calls ``target(report)``.
The keeper stays outside, trusted, and can end everything with :meth:`Sandbox.kill`.

On Linux as root, in this order:

1. keeper: ``unshare`` of mount, PID, network, IPC, UTS and cgroup namespaces; every mount
   private;
2. keeper: a new root on a small tmpfs, built by ALLOWLIST from read-only bind mounts (the
   system folders ``/usr``, ``/lib*``, ``/bin``, ``/etc``, the Python prefixes and
   site-packages in use, and the paths the caller names); paths the caller denies are covered
   even where an allowed folder holds them; one writable tmpfs of bounded size, the work
   folder (``/submission``: the caller's files, an empty ``HOME`` and ``TMPDIR``);
   ``/dev`` holds only null, zero, full, random, urandom, a devpts instance of its own and
   ``/dev/shm`` (a folder of the work folder);
3. child (PID 1 of the new namespace): a fresh ``/proc``, ``pivot_root`` into the new root
   (the old root detached), its own hostname and session, every inherited file descriptor
   closed but those asked for, resource limits (address space, file size, processes, open
   files, no core dumps), first in line for the OOM killer;
4. child: capability bounding set emptied, securebits locked, then the uid and gid of its slot
   (:data:`SLOT_UID_BASE` + slot: two sandboxes never share a uid, so they cannot signal or
   read each other even outside their namespaces), no supplementary groups, every capability
   cleared;
5. child: its own user namespace (mapping only that uid), inside which no namespace of any kind
   may be created any more, the capabilities the new namespace grants cleared again, securebits
   locked, no_new_privs, a new session keyring (the inherited one would carry keys from one
   submission to the next); the result is checked in ``/proc/self/status``.

Everything is done with system calls (``os`` and ``ctypes``); no external program runs. What
outlives a keeper that was killed is ended by :func:`sweep_uid`.

Without root the keeper tries an unprivileged user namespace first (the same layers, but every
slot keeps the caller's uid); without that, or off Linux, only resource limits, a session of
its own and no_new_privs apply, and descendants are found through a child subreaper. In every
case :class:`Report` says exactly what was applied and what is NOT protected, in one line.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import select
import shutil
import signal
import site
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

__all__ = [
    "INSIDE",
    "SLOT_UID_BASE",
    "Report",
    "Resources",
    "Sandbox",
    "SandboxError",
    "default_allowlist",
    "check_file_names",
    "default_denylist",
    "die_with_parent",
    "python_paths",
    "sweep_uid",
]

#: uid and gid of slot ``n`` are ``SLOT_UID_BASE + n``: far above the ids of real users and of
#: the subordinate id ranges that container tools hand out.
SLOT_UID_BASE = 2_000_000_000

#: Where the work folder is inside the sandbox (its working directory).
INSIDE = "/submission"

_LINUX = sys.platform.startswith("linux")

_CLONE_NEWNS = 0x00020000
_CLONE_NEWCGROUP = 0x02000000
_CLONE_NEWUTS = 0x04000000
_CLONE_NEWIPC = 0x08000000
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWPID = 0x20000000
_CLONE_NEWNET = 0x40000000

_MS_RDONLY = 0x1
_MS_NOSUID = 0x2
_MS_NODEV = 0x4
_MS_NOEXEC = 0x8
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000
_MS_MOVE = 0x2000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_MNT_DETACH = 0x2

_MOUNT_ATTR_RDONLY = 0x1
_MOUNT_ATTR_NOSUID = 0x2
_MOUNT_ATTR_NODEV = 0x4
_AT_FDCWD = -100
_AT_RECURSIVE = 0x8000

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_GET_SECUREBITS = 27
_PR_SET_SECUREBITS = 28
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
# NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE and the locks of these three and of KEEP_CAPS.
_SECUREBITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
_CAP_VERSION_3 = 0x20080522

# System call numbers that glibc has no wrapper for, by machine.
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "arm64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}
_SYS_MOUNT_SETATTR = 442  # the same number on every architecture (Linux 5.12 and later)
_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219, "arm64": 219, "riscv64": 219, "ppc64le": 271, "s390x": 280}
_KEYCTL_JOIN_SESSION_KEYRING = 1

# Namespace kinds whose count /proc/sys/user limits per user namespace.
_NAMESPACE_LIMITS = ("user", "mnt", "pid", "net", "ipc", "uts", "cgroup", "time")
_DEVICES = ("null", "zero", "full", "random", "urandom")
_SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")


class SandboxError(RuntimeError):
    """The sandbox could not be set up; nothing of the submission has run."""


@dataclass(frozen=True)
class Resources:
    """Resource limits of one sandbox; each process in it gets the rlimits."""

    memory_mb: int = 6144  # address space per process (torch alone maps about 3.2 GB)
    file_mb: int = 64  # largest file a process may write
    work_mb: int = 512  # size of the work folder (a tmpfs: the caller's files, HOME, TMPDIR)
    processes: int = 64  # processes and threads of the sandbox's uid
    open_files: int = 256  # open file descriptors per process


@dataclass
class Report:
    """What a sandbox applied and what it leaves unprotected."""

    applied: list[str] = field(default_factory=list)
    unprotected: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for the first line of a grading report."""
        done = "; ".join(self.applied) or "nothing"
        missing = "; ".join(self.unprotected) or "nothing known"
        return f"sandbox: {done}. NOT protected: {missing}."

    def to_json(self) -> dict:
        return {"applied": list(self.applied), "unprotected": list(self.unprotected)}

    @classmethod
    def from_json(cls, data: Mapping, cap: int = 400) -> "Report":
        """Rebuild from data, keeping only strings and capping each one."""
        def strings(value: object) -> list[str]:
            items = value if isinstance(value, list) else []
            return [item[:cap] for item in items[:40] if isinstance(item, str)]

        return cls(strings(data.get("applied")), strings(data.get("unprotected")))


# ----------------------------------------------------------------------------- system calls

_libc: ctypes.CDLL | None = None


def _lib() -> ctypes.CDLL:
    """libc with the prototypes used here (loaded once, before any sandbox is entered)."""
    global _libc
    if _libc is None:
        lib = ctypes.CDLL(None, use_errno=True)
        lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        lib.unshare.argtypes = [ctypes.c_int]
        lib.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
        lib.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
        lib.syscall.restype = ctypes.c_long
        lib.capset.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        _libc = lib
    return _libc


def _fail(what: str) -> None:
    code = ctypes.get_errno()
    raise OSError(code, f"{what}: {os.strerror(code)}")


def _b(value: str | None) -> bytes | None:
    return None if value is None else os.fsencode(value)


def _mount(source: str | None, target: str, fstype: str | None = None, flags: int = 0, data: str | None = None) -> None:
    if _lib().mount(_b(source), _b(target), _b(fstype), flags, _b(data)) != 0:
        _fail(f"mount {target}")


def _unshare(flags: int) -> None:
    if _lib().unshare(flags) != 0:
        _fail("unshare")


def _prctl(option: int, arg: int = 0, what: str = "prctl") -> int:
    result = _lib().prctl(option, arg, 0, 0, 0)
    if result < 0:
        _fail(what)
    return result


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _statvfs_flags(path: str) -> int:
    """The mount flags a remount of ``path`` must keep (a user namespace may not clear them)."""
    f = os.statvfs(path).f_flag
    pairs = ((os.ST_RDONLY, _MS_RDONLY), (os.ST_NOSUID, _MS_NOSUID), (os.ST_NODEV, _MS_NODEV),
             (os.ST_NOEXEC, _MS_NOEXEC), (os.ST_NOATIME, 0x400), (os.ST_NODIRATIME, 0x800),
             (os.ST_RELATIME, 0x200000))
    return sum(ms for st, ms in pairs if f & st)


def _mounts_under(path: str) -> list[str]:
    """Mount points at or below ``path``, from /proc/self/mountinfo."""
    found = []
    with open("/proc/self/mountinfo", "rb") as info:
        for line in info:
            point = line.split(b" ")[4].decode("unicode_escape", "replace")  # octal escapes such as \040
            if _inside(point, path):
                found.append(point)
    return found


def _read_only(path: str, recursive: bool = True, nodev: bool = True) -> None:
    """Make the mount at ``path`` (and every mount below it) read-only and nosuid."""
    wanted = _MOUNT_ATTR_RDONLY | _MOUNT_ATTR_NOSUID | (_MOUNT_ATTR_NODEV if nodev else 0)
    attr = _MountAttr(wanted, 0, 0, 0)
    flags = _AT_RECURSIVE if recursive else 0
    result = _lib().syscall(ctypes.c_long(_SYS_MOUNT_SETATTR), ctypes.c_int(_AT_FDCWD), _b(path),
                            ctypes.c_uint(flags), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)))
    if result == 0:
        return
    if ctypes.get_errno() not in (errno.ENOSYS, errno.EINVAL):
        _fail(f"read-only {path}")
    extra = _MS_RDONLY | _MS_NOSUID | (_MS_NODEV if nodev else 0)  # older kernels: one remount per mount
    for point in (_mounts_under(path) if recursive else [path]):
        _mount(None, point, None, _MS_REMOUNT | _MS_BIND | _statvfs_flags(point) | extra)


# ----------------------------------------------------------------------------- what is visible

def _inside(path: str, folder: str) -> bool:
    folder = folder.rstrip("/") or "/"
    return path == folder or folder == "/" or path.startswith(folder + "/")


def python_paths() -> list[str]:
    """The folders this Python needs: its prefixes and the site-packages folders in use.

    Other ``sys.path`` entries (the current folder, ``PYTHONPATH`` checkouts) are left out:
    a checkout is exactly what a sandbox must not see.
    """
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    found = set(prefixes)
    candidates = list(sys.path) + list(site.getsitepackages() if hasattr(site, "getsitepackages") else [])
    for entry in candidates:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if any(_inside(real, p) for p in prefixes) or os.path.basename(real) in ("site-packages", "dist-packages"):
            found.add(real)
    return sorted(p for p in found if not any(q != p and _inside(p, q) for q in found))


def default_allowlist(extra: Iterable[str] = ()) -> list[str]:
    """System folders, the Python in use and ``extra``: what a sandboxed Python can see."""
    paths = [p for p in _SYSTEM_FOLDERS if os.path.lexists(p)] + python_paths()
    return list(dict.fromkeys(paths + [os.path.abspath(p) for p in extra]))


def default_denylist(extra: Iterable[str] = ()) -> list[str]:
    """Paths hidden even where an allowed folder holds them: the grader's Jupyter and IPython
    configuration (read at start-up by later tools) and ``extra``."""
    home = os.path.expanduser("~")
    paths = [os.path.join(home, name) for name in (".jupyter", ".ipython", ".local/share/jupyter")]
    paths += ["/etc/jupyter", "/etc/ipython", "/usr/local/etc/jupyter", os.path.join(sys.prefix, "etc", "jupyter")]
    return list(dict.fromkeys(paths + [os.path.abspath(p) for p in extra]))


def _resolve(path: str) -> tuple[str, list[tuple[str, str]]]:
    """(``path`` with every symbolic link resolved, the links met on the way as (where, text))."""
    links: list[tuple[str, str]] = []
    current = "/"
    parts = [p for p in os.path.abspath(path).split("/") if p]
    hops = 0
    while parts:
        name = parts.pop(0)
        candidate = os.path.join(current, name)
        if os.path.islink(candidate) and hops < 40:
            hops += 1
            text = os.readlink(candidate)
            links.append((candidate, text))
            target = text if text.startswith("/") else os.path.join(current, text)
            parts = [p for p in os.path.normpath(target).split("/") if p] + parts
            current = "/"
        else:
            current = candidate
    return current, links


class _RootBuilder:
    """Assembles the new root in ``stage``: read-only binds of allowed paths, covers of denied ones."""

    def __init__(self, stage: str):
        self.stage = stage.rstrip("/")
        self.ops: list[tuple[str, str]] = []  # (path inside, "bind" | "cover"), in the order done

    def _deepest(self, path: str) -> str | None:
        kinds = [(len(p), kind) for p, kind in self.ops if _inside(path, p)]
        return max(kinds)[1] if kinds else None

    def _mkdirs(self, path: str) -> None:
        """Create ``path`` in the stage; never inside a bind (that would write the host)."""
        if self._deepest(path) == "bind":
            raise SandboxError(f"refusing to create {path} inside a bound host folder")
        os.makedirs(self.stage + path, exist_ok=True)

    def build(self, allow: Sequence[str], deny: Sequence[str]) -> int:
        plan: list[tuple[int, int, str, str, str]] = []  # (depth, order, kind, path, link text)
        for path in allow:
            if not os.path.lexists(path):
                continue
            real, links = _resolve(path)
            for where, text in links:
                plan.append((where.count("/"), 0, "link", where, text))
            if os.path.exists(real):
                plan.append((real.count("/"), 2, "bind", real, ""))
        for path in deny:
            real = os.path.realpath(path)
            if os.path.exists(real):
                plan.append((real.count("/"), 1, "cover", real, ""))
        bound = 0
        denied = {p for _, _, kind, p, _ in plan if kind == "cover"}
        for _, _, kind, path, text in sorted(set(plan)):
            visible = self._deepest(path) == "bind"
            if kind == "link":
                if not visible and not os.path.lexists(self.stage + path):
                    self._mkdirs(os.path.dirname(path))
                    os.symlink(text, self.stage + path)
            elif kind == "cover":
                if visible:
                    self._cover(path)
            elif not visible and path not in denied:
                self._bind(path)
                bound += 1
        return bound

    def _bind(self, path: str) -> None:
        target = self.stage + path
        if os.path.isdir(path):
            self._mkdirs(path)
        else:
            self._mkdirs(os.path.dirname(path))
            if not os.path.lexists(target):
                open(target, "w").close()
        _mount(path, target, None, _MS_BIND | _MS_REC)
        self.ops.append((path, "bind"))

    def _cover(self, path: str) -> None:
        target = self.stage + path
        if os.path.isdir(path):
            _mount("tmpfs", target, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=16k,nr_inodes=64,mode=0755")
        else:  # a file: a device node on a nodev mount, which nobody can open
            _mount("/dev/null", target, None, _MS_BIND)
            _read_only(target, recursive=False)
        self.ops.append((path, "cover"))


# ----------------------------------------------------------------------------- the process itself

def _status_fields() -> dict[str, str]:
    with open("/proc/self/status") as status:
        return dict(line.rstrip("\n").split(":\t", 1) for line in status if ":\t" in line)


def _cap_last() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 63


def _clear_capabilities() -> None:
    """Empty the bounding, ambient, effective, permitted and inheritable sets; lock securebits."""
    lib = _lib()
    for cap in range(_cap_last() + 1):
        lib.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)  # EINVAL for numbers this kernel does not know
    lib.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    if lib.prctl(_PR_GET_SECUREBITS, 0, 0, 0, 0) != _SECUREBITS:
        lib.prctl(_PR_SET_SECUREBITS, _SECUREBITS, 0, 0, 0)  # needs CAP_SETPCAP: checked afterwards
    header = _CapHeader(_CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    if lib.capset(ctypes.byref(header), ctypes.byref(data)) != 0:
        _fail("capset")


def _capabilities_left() -> list[str]:
    """Names of the capability sets of this process that are not empty."""
    fields = _status_fields()
    names = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
    return [n for n in names if int(fields.get(n, "1"), 16) != 0]


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _close_fds(keep: Sequence[int]) -> None:
    """Close every descriptor but ``keep``; 0, 1 and 2 become /dev/null."""
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: every number up to the limit
        open_fds = list(range(3, min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 1 << 16)))
    for fd in open_fds:
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)


def _limit(which: int, value: int) -> None:
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def _address_space_in_use() -> int:
    try:
        return int(_status_fields()["VmSize"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0


def _read_all(fd: int, cap: int, timeout: float) -> bytes | None:
    """Up to ``cap`` bytes from ``fd`` until its end (then closed); None after ``timeout``."""
    data, deadline = b"", time.monotonic() + timeout
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP)
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not poller.poll(int(left * 1000) + 1):
                if time.monotonic() >= deadline:
                    return None
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                return data
            data = (data + chunk)[:cap]
    finally:
        os.close(fd)


def _tasks_of(uid: int) -> int:
    """Threads of every process whose real uid is ``uid`` (what RLIMIT_NPROC counts)."""
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = dict(line.split(":", 1) for line in open(f"/proc/{entry}/status") if ":" in line)
                if int(fields["Uid"].split()[0]) == uid:
                    count += int(fields.get("Threads", "1"))
            except (OSError, KeyError, ValueError):
                pass
    return count


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (through /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except (OSError, ValueError):
                continue
            found += kids
            todo += kids
    return found


class Sandbox:
    """One sandbox for one submission; see the module docstring for what it applies.

    ``slot`` picks the uid (``uid_base + slot``): give concurrent sandboxes distinct slots.
    ``files`` (name -> bytes) are written into the work folder before the child starts.
    ``stage`` is an empty folder to assemble the new root in (the same folder may serve every
    concurrent sandbox: each one mounts over it in its own mount namespace).
    """

    def __init__(
        self,
        slot: int = 0,
        resources: Resources = Resources(),
        allow: Iterable[str] = (),
        deny: Iterable[str] = (),
        stage: str | None = None,
        files: Mapping[str, bytes] | None = None,
        uid_base: int = SLOT_UID_BASE,
        hostname: str = "sandbox",
        namespaces: bool = True,
    ):
        self.slot = slot
        self.resources = resources
        self.allow = default_allowlist(allow)
        self.deny = default_denylist(deny)
        self.stage = stage
        self.files = dict(files or {})
        check_file_names(self.files)
        self.uid = self.gid = uid_base + slot
        self.hostname = hostname
        self.namespaces = namespaces  # False: only what works without them (to try the fallback)
        self.pid: int | None = None
        self.mode = "none"  # "root", "userns" or "none": which namespaces the keeper got
        self.report = Report()
        self._workdir = ""

    # -- keeper side ---------------------------------------------------------------------------

    def start(self, target: Callable[[Report], None], keep_fds: Sequence[int] = ()) -> int:
        """Isolate the calling process, fork the sandboxed child and return its pid.

        The child runs ``target(report)`` with the full report once it is inside, then exits;
        it keeps only the descriptors in ``keep_fds`` (and /dev/null as 0, 1 and 2). Returns once
        the child is inside. Raises :class:`SandboxError` when the root could not be built or the
        child could not enter (nothing of ``target`` has run then).
        """
        if self.pid is not None:
            raise SandboxError("a sandbox starts once")
        self._isolate()
        status_read, status_write = os.pipe()  # why entering failed, if it did; closed once inside
        pid = os.fork()
        if pid == 0:  # the sandboxed child
            code = 70
            try:
                os.close(status_read)
                try:
                    report = self._enter([*keep_fds, status_write])
                except BaseException as exc:
                    os.write(status_write, f"{type(exc).__name__}: {exc}".encode(errors="replace")[:1000])
                    raise
                os.close(status_write)
                target(report)
                code = 0
            except BaseException:  # nothing may unwind into the caller's code
                pass
            os._exit(code)
        self.pid = pid
        os.close(status_write)
        failure = _read_all(status_read, 1000, timeout=60)
        if failure is None or failure:
            self.kill()
            self.wait(10)
            raise SandboxError(f"entering the sandbox failed: {failure.decode(errors='replace') if failure else 'timed out'}")
        return pid

    def _isolate(self) -> None:
        applied, missing = self.report.applied, self.report.unprotected
        root = _LINUX and os.geteuid() == 0
        linux = _LINUX and self.namespaces
        flags = _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS | _CLONE_NEWCGROUP
        reason = "" if self.namespaces else "switched off"
        if root and linux:
            try:
                _unshare(flags)
                self.mode = "root"
            except OSError as exc:
                reason = str(exc)
        if linux and self.mode == "none":
            uid, gid = os.geteuid(), os.getegid()
            try:
                _prctl(_PR_SET_DUMPABLE, 1, "dumpable")  # /proc/self/*_map belong to us only then
                _unshare(_CLONE_NEWUSER | flags)
                _write("/proc/self/setgroups", "deny")
                _write("/proc/self/uid_map", f"{uid} {uid} 1")
                _write("/proc/self/gid_map", f"{gid} {gid} 1")
                self.mode = "userns"
                self.uid, self.gid = uid, gid  # the only uid this namespace maps
            except OSError as exc:
                reason = f"{reason}; {exc}" if reason else str(exc)
        if self.mode == "none":
            if _LINUX:
                _prctl(_PR_SET_CHILD_SUBREAPER, 1, "child subreaper")  # orphans come back to us
            missing.append("no namespaces (" + (reason or "not Linux") + "): the whole filesystem, the network, "
                           "other processes and the grader are reachable with the grader's file rights"
                           + (" minus root's" if root else ""))
            self._workdir = self._plain_workdir()
            return
        applied.append("own PID namespace (its init's death ends every descendant)")
        applied.append("own mount, network (no network at all), IPC, UTS and cgroup namespaces")
        try:
            self._build_root()
        except (OSError, SandboxError) as exc:
            raise SandboxError(f"could not build the sandbox's root: {exc}") from exc

    def _plain_workdir(self) -> str:
        base = self.stage or tempfile.gettempdir()
        work = tempfile.mkdtemp(prefix=f"work-{self.slot}-", dir=base)
        self._populate(work)
        if os.geteuid() == 0:
            self._chown_tree(work)
        return work

    def _build_root(self) -> None:
        if not self.stage or not os.path.isdir(self.stage):
            raise SandboxError("give an existing, empty stage folder")
        stage = os.path.realpath(self.stage)
        _mount(None, "/", None, _MS_REC | _MS_PRIVATE)  # nothing we mount leaks to the host
        _mount("tmpfs", stage, "tmpfs", _MS_NOSUID | _MS_NODEV, "size=4m,mode=0755")
        for folder in ("proc", "dev", "dev/shm", "dev/pts", INSIDE.lstrip("/")):
            os.makedirs(os.path.join(stage, folder), exist_ok=True)
        for name in _DEVICES:
            open(os.path.join(stage, "dev", name), "w").close()
        for name, text in (("fd", "/proc/self/fd"), ("ptmx", "pts/ptmx"), ("stdin", "/proc/self/fd/0"),
                           ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            os.symlink(text, os.path.join(stage, "dev", name))
        builder = _RootBuilder(stage)
        bound = builder.build(self.allow, self.deny + [stage])
        _read_only(stage)  # the new root and every bind in it
        work = stage + INSIDE
        owner = f",uid={self.uid},gid={self.gid}"
        _mount("tmpfs", work, "tmpfs", _MS_NOSUID | _MS_NODEV, f"size={self.resources.work_mb}m,mode=0700{owner}")
        self._populate(work)
        self._chown_tree(work)
        _mount(work + "/.shm", stage + "/dev/shm", None, _MS_BIND)  # POSIX semaphores for multiprocessing
        for name in _DEVICES:
            _mount(f"/dev/{name}", os.path.join(stage, "dev", name), None, _MS_BIND)
            _read_only(os.path.join(stage, "dev", name), recursive=False, nodev=False)
        # Pseudo-terminals of its own (IPython runs ``!command`` on one): a new devpts instance.
        _mount("devpts", stage + "/dev/pts", "devpts", _MS_NOSUID | _MS_NOEXEC,
               f"newinstance,ptmxmode=0666,mode=0600,max=16{',gid=' + str(self.gid) if self.mode == 'root' else ''}")
        self._workdir = work
        covered = sum(1 for _, kind in builder.ops if kind == "cover")
        self.report.applied.append(
            f"new read-only root of {bound} allowed folders ({covered} denied paths covered), writable only "
            f"{INSIDE} (tmpfs of {self.resources.work_mb} MB: HOME, TMPDIR, /dev/shm)")

    def _populate(self, work: str) -> None:
        for folder in ("home", "tmp", ".shm"):
            os.makedirs(os.path.join(work, folder), exist_ok=True)
        for name, data in self.files.items():
            path = os.path.join(work, _safe_name(name))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
            with os.fdopen(fd, "wb") as f:
                f.write(data)

    def _chown_tree(self, work: str) -> None:
        for folder, dirs, files in os.walk(work):
            for name in [folder] + [os.path.join(folder, n) for n in dirs + files]:
                os.lchown(name, self.uid, self.gid)

    def kill(self) -> None:
        """End the sandboxed child and everything it started (safe to call more than once)."""
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.mode == "none":
            self._kill_descendants()

    def _kill_descendants(self) -> None:
        """Without a PID namespace: the child's process group, then whatever is left below us."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for _ in range(50):
            rest = _descendants(os.getpid()) if _LINUX else []
            if not rest:
                break
            for pid in rest:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self._reap_others()
            time.sleep(0.01)

    def _reap_others(self) -> None:
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for the child; its wait status, or None if it is still running after ``timeout``."""
        if self.pid is None:
            return None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return 0
            if pid:
                if self.mode == "none":
                    self._kill_descendants()
                    self._remove_workdir()
                return status
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.005)

    def _remove_workdir(self) -> None:
        if self._workdir and self.mode == "none":
            shutil.rmtree(self._workdir, ignore_errors=True)

    # -- child side ----------------------------------------------------------------------------

    def _enter(self, keep_fds: Sequence[int]) -> Report:
        report = Report(list(self.report.applied), list(self.report.unprotected))
        applied, missing = report.applied, report.unprotected
        if self.mode != "none":
            stage = os.path.realpath(self.stage)
            _mount("proc", stage + "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
            self._switch_root(stage, report)
            name = self.hostname.encode()
            if _lib().sethostname(name, len(name)) != 0:
                _fail("sethostname")
            os.chdir(INSIDE)
        else:
            os.chdir(self._workdir)
        os.setsid()
        _close_fds(keep_fds)
        res = self.resources
        floor = _address_space_in_use() + (256 << 20)  # what the warm process maps already, and room
        memory = max(res.memory_mb << 20, floor)
        _limit(resource.RLIMIT_AS, memory)
        _limit(resource.RLIMIT_FSIZE, res.file_mb << 20)
        # The count is per uid (and user namespace): the grader's own tasks count when they share it.
        shared = self.mode == "none" and os.geteuid() != 0 and _LINUX
        _limit(resource.RLIMIT_NPROC, res.processes + (_tasks_of(os.getuid()) if shared else 0))
        _limit(resource.RLIMIT_NOFILE, res.open_files)
        _limit(resource.RLIMIT_CORE, 0)
        applied.append(f"limits: {memory >> 20} MB address space and {res.open_files} open files per process, "
                       f"files up to {res.file_mb} MB, {res.processes} processes, no core dumps")
        if _LINUX:
            self._first_to_go(report)
        self._drop_privileges(report)
        if _LINUX:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, "parent death signal")
        home = os.path.join(os.getcwd(), "home")
        os.environ.clear()
        os.environ.update({"HOME": home, "TMPDIR": os.path.join(os.getcwd(), "tmp"), "USER": "student",
                           "LOGNAME": "student", "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"})
        tempfile.tempdir = None  # computed again from TMPDIR
        missing.append("CPU time (only the time budget bounds it)")
        missing.append("total memory (limited per process, not per sandbox)")
        missing.append("system calls are not filtered (no seccomp)")
        return report

    def _first_to_go(self, report: Report) -> None:
        """Make this process and its descendants the first the kernel's OOM killer picks."""
        locked = "CapEff" in (fields := _status_fields()) and int(fields["CapEff"], 16) >> 24 & 1  # CAP_SYS_RESOURCE
        try:
            _write("/proc/self/oom_score_adj", "1000")
        except OSError:
            return
        report.applied.append("first in line for the out-of-memory killer" + ("" if locked else " (it may lower that)"))

    def _switch_root(self, stage: str, report: Report) -> None:
        os.chdir(stage)
        number = _SYS_PIVOT_ROOT.get(platform.machine())
        if number is not None and _lib().syscall(ctypes.c_long(number), b".", b".") == 0:
            if _lib().umount2(b".", _MNT_DETACH) != 0:  # the old root, stacked on the new one
                _fail("detach the old root")
            os.chdir("/")
            return
        # pivot_root is refused on an initramfs root: move the new root over / and chroot into it.
        _mount(stage, "/", None, _MS_MOVE)
        os.chroot(".")
        os.chdir("/")
        report.unprotected.append("chroot instead of pivot_root (the old root stays mounted, out of reach)")

    def _drop_privileges(self, report: Report) -> None:
        applied, missing = report.applied, report.unprotected
        if not _LINUX:
            missing.append("runs as the grader's own user with its rights")
            return
        was_root = os.geteuid() == 0 and self.mode != "userns"
        if was_root:
            _clear_capabilities_before_uid_change()
            os.setgroups([])
            os.setresgid(self.gid, self.gid, self.gid)
            os.setresuid(self.uid, self.uid, self.uid)
            _clear_capabilities()
            _prctl(_PR_SET_DUMPABLE, 1, "dumpable")  # /proc/self stays ours (core dumps are off)
            applied.append(f"uid and gid {self.uid} (slot {self.slot}), no supplementary groups")
        elif self.mode == "userns":
            missing.append(f"every slot runs as the grader's uid {os.getuid()} (not root: no uid of its own)")
        else:
            missing.append(f"runs as the grader's uid {os.getuid()} with its file rights")
        own_ns = self.mode == "userns"
        if not own_ns and self.namespaces:
            try:
                _unshare(_CLONE_NEWUSER)
                _write("/proc/self/setgroups", "deny")
                _write("/proc/self/uid_map", f"{self.uid} {self.uid} 1")
                _write("/proc/self/gid_map", f"{self.gid} {self.gid} 1")
                own_ns = True
            except OSError as exc:
                missing.append(f"no user namespace of its own ({exc.strerror})")
        if own_ns:
            closed = []
            for kind in _NAMESPACE_LIMITS:
                try:
                    _write(f"/proc/sys/user/max_{kind}_namespaces", "0")
                    closed.append(kind)
                except OSError:
                    pass
            if "user" in closed:
                applied.append("own user namespace, in which no namespace can be created")
            else:
                applied.append("own user namespace")
                missing.append("namespaces may still be created inside it")
        else:
            try:
                with open("/proc/sys/user/max_user_namespaces") as f:
                    if int(f.read()) > 0:
                        missing.append("its code may create user namespaces of its own")
            except (OSError, ValueError):
                pass
        _clear_capabilities()
        _prctl(_PR_SET_NO_NEW_PRIVS, 1, "no_new_privs")
        _prctl(_PR_SET_DUMPABLE, 1, "dumpable")
        # The session keyring is inherited: a key added to the grader's would reach later kernels.
        keyctl = _SYS_KEYCTL.get(platform.machine())
        if keyctl is not None and _lib().syscall(ctypes.c_long(keyctl), ctypes.c_int(_KEYCTL_JOIN_SESSION_KEYRING),
                                                 ctypes.c_char_p(None)) >= 0:
            applied.append("a new session keyring")
        else:
            missing.append("the grader's session keyring is shared")
        left = _capabilities_left()
        locked = _lib().prctl(_PR_GET_SECUREBITS, 0, 0, 0, 0) == _SECUREBITS
        if not left:
            applied.append("no capabilities (bounding, ambient, effective, permitted and inheritable sets checked "
                           "empty)" + (", securebits locked" if locked else "") + ", no_new_privs")
        else:
            applied.append("no_new_privs")
            missing.append("capability sets not empty: " + ", ".join(left))


def _clear_capabilities_before_uid_change() -> None:
    """As root: empty the bounding set and lock securebits while CAP_SETPCAP is still held."""
    lib = _lib()
    for cap in range(_cap_last() + 1):
        lib.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    lib.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    lib.prctl(_PR_SET_SECUREBITS, _SECUREBITS, 0, 0, 0)  # needs CAP_SETPCAP: the report checks


def _live_processes_of(uid: int, me: int) -> int | None:
    """How many processes but ``me`` run with real uid ``uid`` and are not zombies (``/proc``), or
    None when ``/proc`` cannot be read."""
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return None
    live = 0
    for entry in entries:
        if int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:  # gone meanwhile
            continue
        if fields.get("Uid", "").split()[:1] == [str(uid)] and not fields.get("State", "").strip().startswith(("Z", "X")):
            live += 1
    return live


def sweep_uid(uid: int, timeout: float = 10) -> bool:
    """As root: SIGKILL every process whose uid is ``uid``, in any namespace below this one.

    A helper process takes that uid and signals everything it may (``kill(-1)``), until no live
    process of that uid is left in ``/proc``; so a slot's uid is free again even when a kernel
    outlived its keeper. (``kill(-1)`` alone cannot tell: it succeeds whenever any other process
    exists, even one it may not signal.) Returns False when this cannot be done (not root, not
    Linux) or did not finish in ``timeout``.
    """
    if not _LINUX or os.geteuid() != 0:
        return False
    helper = os.fork()
    if helper == 0:
        code = 1
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            me = os.getpid()
            for _ in range(1000):
                try:
                    os.kill(-1, signal.SIGKILL)  # never the sender itself
                except ProcessLookupError:
                    code = 0
                    break
                if _live_processes_of(uid, me) == 0:
                    code = 0
                    break
                time.sleep(0.002)
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid, status = os.waitpid(helper, os.WNOHANG)
        if pid:
            return os.waitstatus_to_exitcode(status) == 0
        time.sleep(0.005)
    os.kill(helper, signal.SIGKILL)
    os.waitpid(helper, 0)
    return False


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; elsewhere nothing)."""
    if _LINUX:
        parent = os.getppid()
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, "parent death signal")
        if os.getppid() != parent:  # the parent died before the request took hold
            os._exit(1)


def _safe_name(name: str) -> str:
    """A relative path inside the work folder, or ValueError."""
    parts = name.split("/")
    if (not name or len(name) > 1024 or name.startswith("/") or "\0" in name
            or any(p in ("", ".", "..") or len(p.encode()) > 255 for p in parts)
            or parts[0] in ("home", "tmp", ".shm")):
        raise ValueError(f"not a file name for the work folder: {name[:80]!r}")
    return name


def check_file_names(names: Iterable[str]) -> None:
    """Raise ValueError for a name that cannot be written into the work folder."""
    for name in names:
        _safe_name(name)

