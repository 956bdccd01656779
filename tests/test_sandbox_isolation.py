"""Attacks on the grading machine, run as a student's code through the warm fork server.

Each test runs hostile code in a sandboxed kernel and checks, from the trusted side, that it
failed or was contained: nothing written outside the kernel's work folder, nothing of the
checkout, the grader or another submission visible, no process reached, every run within
its budget, nothing left running afterwards.
"""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from autograders.grading.sandbox import SLOT_UID_BASE, python_paths
from kernel_runs import ROOT, cell, needs_root, outcome, read, slot_processes, start_server, wait_for_kernel

pytestmark = needs_root


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with start_server(tmp_path_factory.mktemp("locked")) as fork_server:
        yield fork_server
    assert not slot_processes(base=fork_server.uid_base), "a sandbox left processes behind"


TRY_WRITE = '''
import os
result = {}
for path in TARGETS:
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a") as f:
            f.write("# planted\\n")
        result[path] = "written"
    except OSError as exc:
        result[path] = type(exc).__name__
'''


def try_writes(server, targets: list[str]) -> dict:
    return outcome(server, f"TARGETS = {targets!r}\n" + TRY_WRITE)


def snapshot(paths: list[str]) -> dict:
    return {p: Path(p).read_bytes() if os.path.isfile(p) else None for p in paths}


def assert_untouched(before: dict) -> None:
    for path, content in before.items():
        now = Path(path).read_bytes() if os.path.isfile(path) else None
        if now != content:  # put it back before failing
            Path(path).write_bytes(content) if content is not None else os.remove(path)
        assert now == content, f"{path} was changed from inside the sandbox"


def test_report_lists_every_layer(server):
    events = server.run([])
    assert [e["event"] for e in events] == ["sandbox", "done"]
    line = events[0]["report"]
    assert "\n" not in line and line.startswith("sandbox: ") and "NOT protected:" in line
    for layer in ("own PID namespace", "network", "new read-only root", f"uid and gid {server.uid_base}",
                  "own user namespace, in which no namespace can be created", "no capabilities", "no_new_privs",
                  "securebits locked", "no core dumps"):
        assert layer in line, layer
    assert server.report == line


def test_no_privileges_left_inside(server):
    status = outcome(server, '''
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
fields = dict(l.split(":", 1) for l in open("/proc/self/status") if ":" in l)
result = {k: fields[k].split()[0] for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Uid", "Gid")}
result["groups"] = os.getgroups()
result["hostname"] = os.uname().nodename
result["new user namespace"] = libc.unshare(0x10000000) == 0
result["new mount namespace"] = libc.unshare(0x00020000) == 0
result["mount"] = libc.mount(b"none", b"/submission/tmp", b"tmpfs", 0, None) == 0
try:
    os.setuid(0); result["setuid 0"] = True
except OSError:
    result["setuid 0"] = False
try:
    os.chroot("/submission"); result["chroot"] = True
except OSError:
    result["chroot"] = False
''')
    for name in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[name], 16) == 0, name
    assert status["NoNewPrivs"] == "1"
    assert status["Uid"] == status["Gid"] and int(status["Uid"]) in (server.uid_base, server.uid_base + 1)
    assert status["groups"] == [] and status["hostname"] == "sandbox"
    for attempt in ("new user namespace", "new mount namespace", "mount", "setuid 0", "chroot"):
        assert status[attempt] is False, attempt


def test_cannot_plant_startup_files_or_configuration(server):
    home = os.path.expanduser("~")
    targets = [
        f"{home}/.ipython/profile_default/startup/zz-planted-{uuid.uuid4().hex}.py",
        f"{home}/.jupyter/nbgrader_config.py",
        f"{home}/.jupyter/jupyter_nbconvert_config.py",
        str(ROOT / "autograders" / "nbgrader_config.py"),
    ]
    before = snapshot(targets)
    result = try_writes(server, targets)
    assert_untouched(before)
    assert all(v != "written" for v in result.values()), result
    # The kernel's own HOME is writable, private and gone with it: a startup file planted there
    # neither runs nor survives into the next submission.
    planted = outcome(server, '''
import os
path = os.path.expanduser("~/.ipython/profile_default/startup/00-planted.py")
os.makedirs(os.path.dirname(path), exist_ok=True)
open(path, "w").write("PLANTED = 1\\n")
result = [os.environ["HOME"], os.path.exists(path)]
''')
    assert planted == ["/submission/home", True]
    later = outcome(server, 'import os\nresult = ["PLANTED" in globals(), os.path.exists('
                            '"/submission/home/.ipython/profile_default/startup/00-planted.py")]')
    assert later == [False, False]


def test_cannot_write_the_grading_python(server):
    import torch

    stdlib = os.path.dirname(os.__file__)
    site_packages = os.path.dirname(os.path.dirname(torch.__file__))
    targets = [
        os.path.join(stdlib, f"planted_{uuid.uuid4().hex}.py"),
        os.path.join(stdlib, "json", "__init__.py"),
        os.path.join(site_packages, f"zz_planted_{uuid.uuid4().hex}.pth"),
        os.path.join(os.path.dirname(torch.__file__), "__init__.py"),
        os.path.join(sys.prefix, "bin", f"planted-{uuid.uuid4().hex}"),
        os.path.join(server.package, "__init__.py"),  # the locked evalib itself
    ]
    before = snapshot(targets)
    result = try_writes(server, targets)
    assert_untouched(before)
    assert set(result.values()) <= {"OSError", "PermissionError", "FileNotFoundError"} and \
        all(v != "written" for v in result.values()), result


def test_cannot_write_tmp_or_the_checkout(server):
    targets = [f"/tmp/planted-{uuid.uuid4().hex}", str(ROOT / f"planted-{uuid.uuid4().hex}"),
               str(ROOT / "evalib" / "__init__.py"), "/planted", "/etc/planted", "/usr/lib/planted"]
    before = snapshot(targets)
    result = try_writes(server, targets)
    assert_untouched(before)
    assert all(v != "written" for v in result.values()), result
    # The work folder itself is writable.
    assert outcome(server, 'open("answer.txt", "w").write("mine")\nresult = open("answer.txt").read()') == "mine"


def test_only_the_allowlist_is_visible(server, tmp_path):
    out = tmp_path / "out"  # an output folder outside the checkout, as --out may give
    out.mkdir()
    (out / "grades.csv").write_text("alice,13\n")
    secret = Path("/tmp") / f"secret-{uuid.uuid4().hex}"
    secret.write_text("hidden tests\n")
    hidden = [str(ROOT), str(ROOT / "README.md"), str(ROOT / "assignments"), str(ROOT / "build" / "gradebook.db"),
              str(out), str(out / "grades.csv"), str(secret), server.state, server.settings["socket"],
              os.path.expanduser("~/.jupyter"), os.path.expanduser("~/.ipython"), "/sys", "/run", "/var", "/home"]
    allowed = python_paths() + [server.package]
    # A folder above an allowed one (the checkout, when the environment is its .venv) is there
    # only as the way to it: the listing check below shows it holds nothing else.
    hidden = [p for p in hidden if not any(a.startswith(p.rstrip("/") + "/") for a in allowed)]
    try:
        seen = outcome(server, f"import os\nresult = [p for p in {hidden!r} if os.path.lexists(p)]")
    finally:
        secret.unlink()
    assert seen == []
    # The folders above each allowed folder hold nothing but the way to it.
    expected: dict[str, set[str]] = {}
    for path in allowed:
        parts = Path(path).parts
        for depth in range(2, len(parts)):
            expected.setdefault(str(Path(*parts[:depth])), set()).add(parts[depth])
    system = {"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"}
    ancestors = sorted(a for a in expected if not any(a == s or a.startswith(s + "/") for s in system | set(allowed)))
    listing = outcome(server, f"import os\nresult = {{a: sorted(os.listdir(a)) for a in {ancestors!r}}}")
    for folder in ancestors:
        assert set(listing[folder]) == expected[folder], folder
    top = outcome(server, "import os\nresult = sorted(os.listdir('/'))")
    ways = {Path(p).parts[1] for p in allowed}
    assert set(top) <= {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc", "dev", "proc", "submission"} | ways


@pytest.mark.slow
def test_concurrent_submissions_cannot_see_or_reach_each_other(server):
    first: dict = {}

    def victim():
        first["events"] = server.run([
            cell(0, 'open("secret.txt", "w").write("17/17")\nimport time\ntime.sleep(6)'), read("__name__")])

    thread = threading.Thread(target=victim)
    thread.start()
    victim_slot, victim_pid = wait_for_kernel(server)
    time.sleep(0.3)
    spy = outcome(server, f'''
import ctypes, os, signal
PID = {victim_pid}
result = {{"proc": sorted(p for p in os.listdir("/proc") if p.isdigit()), "uid": os.getuid()}}
for name, path in (("root", f"/proc/{{PID}}/root/submission/secret.txt"), ("environ", f"/proc/{{PID}}/environ"),
                   ("mem", f"/proc/{{PID}}/mem")):
    try:
        result[name] = open(path, "rb").read(100).decode(errors="replace")
    except OSError as exc:
        result[name] = type(exc).__name__
import glob
result["found"] = glob.glob("/proc/*/root/submission/secret.txt") + glob.glob("/*/secret.txt") + glob.glob("/dev/shm/*")
try:
    os.kill(PID, signal.SIGKILL); result["kill"] = "sent"
except OSError as exc:
    result["kill"] = type(exc).__name__
libc = ctypes.CDLL(None, use_errno=True)
result["ptrace"] = libc.ptrace(16, PID, None, None)  # PTRACE_ATTACH
''')
    thread.join(20)
    assert spy["proc"] == ["1"]  # its own init, nothing else
    assert spy["uid"] == server.uid_base + 1 - victim_slot  # the other slot's uid
    assert spy["root"] in ("FileNotFoundError", "ProcessLookupError") and spy["environ"] in ("FileNotFoundError", "ProcessLookupError")
    assert spy["found"] == []
    assert spy["kill"] == "ProcessLookupError" and spy["ptrace"] == -1
    events = first["events"]
    assert events[-1]["event"] == "done" and events[1]["status"] == "ok", events


@pytest.mark.slow
def test_distinct_slot_uids_cannot_signal_or_read_each_other_outside_namespaces(server):
    """The second layer: even with a pid in hand, one slot's uid may not touch another slot's kernel."""
    done = threading.Event()
    thread = threading.Thread(target=lambda: (server.run([cell(0, "import time\ntime.sleep(4)")]), done.set()))
    thread.start()
    slot, target = wait_for_kernel(server)
    other = server.uid_base + 1 - slot
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # a process with the other slot's uid, in the host's namespaces
        code = 0
        try:
            os.setgroups([])
            os.setresgid(other, other, other)
            os.setresuid(other, other, other)
            try:
                os.kill(target, signal.SIGKILL)
                code |= 1
            except PermissionError:
                pass
            try:
                open(f"/proc/{target}/environ", "rb").read()
                code |= 2
            except PermissionError:
                pass
            try:
                os.listdir(f"/proc/{target}/root/")
                code |= 4
            except PermissionError:
                pass
        finally:
            os.write(write_end, bytes([code]))
            os._exit(0)
    os.close(write_end)
    code = os.read(read_end, 1)
    os.waitpid(child, 0)
    thread.join(20)
    assert done.is_set()
    assert code == b"\x00", f"one slot's uid reached the other slot's kernel (mask {code!r})"


def test_cannot_signal_or_trace_the_grader(server):
    alive_before = [os.getpid(), server.pid]
    result = outcome(server, f'''
import ctypes, os, signal, subprocess
result = {{}}
for name, pid in (("pytest", {os.getpid()}), ("fork server", {server.pid}), ("its parent", {os.getppid()})):
    try:
        os.kill(pid, signal.SIGKILL); result[name] = "killed"
    except OSError as exc:
        result[name] = type(exc).__name__
libc = ctypes.CDLL(None, use_errno=True)
result["ptrace server"] = libc.ptrace(16, {server.pid}, None, None)
try:
    os.kill(-1, signal.SIGKILL)  # kill -9 -1: everything this uid may signal
except ProcessLookupError:
    pass  # nothing but itself
subprocess.run("kill -9 -1", shell=True)
os.kill(1, signal.SIGKILL)  # init of its namespace: itself
result["still here"] = True
''')
    assert result["pytest"] == result["fork server"] == result["its parent"] == "ProcessLookupError"
    assert result["ptrace server"] == -1 and result["still here"] is True
    for pid in alive_before:
        os.kill(pid, 0)  # still alive
    assert outcome(server, "result = 1 + 1") == 2  # and still serving


def test_no_network(server):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        result = outcome(server, f'''
import socket
result = {{}}
for name, family, address in (("tcp", socket.AF_INET, ("127.0.0.1", {port})),
                              ("server socket", socket.AF_UNIX, {server.settings["socket"]!r})):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(address); result[name] = "connected"
    except OSError as exc:
        result[name] = type(exc).__name__
try:
    socket.create_connection(("example.org", 80), timeout=2); result["dns"] = "connected"
except OSError as exc:
    result["dns"] = type(exc).__name__
result["interfaces"] = [name for _, name in socket.if_nameindex()]
''')
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()
    assert "connected" not in result.values(), result
    assert result["interfaces"] == ["lo"]


@pytest.mark.slow
def test_setsid_grandchild_holding_the_output_dies_with_the_run(server):
    spawn = '''
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)  # holds the kernel's stdout, stderr and event pipe
    os._exit(0)
time.sleep(0.2)
'''
    start = time.monotonic()
    events = server.run([cell(0, spawn), cell(1, "x = 1")])
    assert [e["event"] for e in events][1:] == ["cell", "cell", "done"] and time.monotonic() - start < 5
    assert not slot_processes(base=server.uid_base)
    # The same grandchild, then a kernel that never finishes: the budget ends everything.
    start = time.monotonic()
    events = server.run([cell(0, spawn + "\nwhile True:\n    time.sleep(1)", timeout=100)], budget=3)
    took = time.monotonic() - start
    assert events[-1]["event"] == "killed" and "budget" in events[-1]["reason"], events
    assert 2.5 < took < 3 + 4
    assert not slot_processes(base=server.uid_base)


@pytest.mark.slow
def test_fork_bomb_is_contained(server):
    bomb = '''
import os, time
while True:
    try:
        os.fork()
    except OSError:
        time.sleep(0.05)
'''
    count = 'import os\nresult = len([p for p in os.listdir("/proc") if p.isdigit()])'
    start = time.monotonic()
    events = server.run([cell(0, bomb, timeout=3), cell(1, count), read("result")])
    assert time.monotonic() - start < 15
    assert events[1]["status"] == "error" and "TimeoutError" in events[1]["error"]
    assert events[2]["status"] == "ok" and events[-1]["event"] == "done"
    assert events[3]["data"] <= server.limits.resources.processes
    assert not slot_processes(base=server.uid_base)


def test_memory_bomb_fails_inside(server):
    result = outcome(server, '''
import mmap
result = {}
try:
    mmap.mmap(-1, 64 << 30); result["64 GB map"] = "allocated"
except (OSError, MemoryError) as exc:
    result["64 GB map"] = type(exc).__name__
try:
    block = bytearray(16 << 30); result["16 GB bytearray"] = "allocated"
except MemoryError as exc:
    result["16 GB bytearray"] = "MemoryError"
chunks = []
try:
    while True:
        chunks.append(mmap.mmap(-1, 256 << 20))  # reserved, never touched
except (OSError, MemoryError) as exc:
    result["growth"] = [type(exc).__name__, len(chunks) * 256]
del chunks
''')
    assert result["64 GB map"] in ("OSError", "MemoryError") and result["16 GB bytearray"] == "MemoryError"
    assert result["growth"][1] <= server.limits.resources.memory_mb
    assert outcome(server, "result = sum(range(10))") == 45  # the next submission is unaffected


def test_huge_files_fail_inside(server):
    result = outcome(server, '''
import os
result = {}
try:
    with open("big.bin", "wb") as f:
        for _ in range(10 * 1024):  # 10 GB in 1 MB blocks
            f.write(b"\\0" * (1 << 20))
    result["10 GB"] = "written"
except OSError as exc:
    result["10 GB"] = os.strerror(exc.errno)
os.remove("big.bin")
try:
    with open("sparse.bin", "wb") as f:
        f.truncate(10 << 30)
    result["sparse"] = "written"
except OSError as exc:
    result["sparse"] = os.strerror(exc.errno)
try:
    for n in range(100):  # many files just under the size limit: the work folder fills up
        with open(f"part{n}.bin", "wb") as f:
            f.write(b"\\1" * (15 << 20))
    result["many"] = "written"
except OSError as exc:
    result["many"] = os.strerror(exc.errno)
''')
    assert result == {"10 GB": "File too large", "sparse": "File too large", "many": "No space left on device"}


def test_printing_300_mb_costs_nothing(server):
    start = time.monotonic()
    events = server.run([
        cell(0, 'print("x" * 300_000_000)\nimport sys, os\nsys.stderr.write("e" * 50_000_000)\n'
                'os.write(1, b"y" * 50_000_000)\nos.write(2, b"z" * 50_000_000)'),
        cell(1, "x = 1"),
    ])
    assert time.monotonic() - start < 20
    assert [e.get("status") for e in events[1:3]] == ["ok", "ok"] and events[-1]["event"] == "done"
    assert max(len(repr(e)) for e in events) < 2000


FIND_CHANNEL = '''
import os, stat
def channel():
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode):
                return fd
        except OSError:
            pass
fd = channel()
'''


@pytest.mark.parametrize("payload, reason", [
    ('os.write(fd, b"garbage\\n")', "not JSON"),
    ('os.write(fd, b"[" * 500000 + b"\\n")', "not JSON"),
    ('os.write(fd, b"x" * (3 << 20))', "without a line end"),
    ('os.write(fd, b\'{"event": "done"}\\n\')', "expected the event of cell 0"),
    ('os.write(fd, b\'{"event": "probe", "question": "result", "data": 100}\\n\')', "expected the event of cell 0"),
    ('os.write(fd, b\'{"event": "cell", "index": 0, "status": "ok"}\\n\' * 3)', "expected the event of"),
    ('os.write(fd, b"1" * 60000 + b"\\n")', "not JSON"),
    ('os.write(fd, b"1" * (2 << 20) + b"\\n")', "without a line end"),
])
def test_garbage_on_the_event_channel_ends_only_that_run(server, payload, reason):
    start = time.monotonic()
    events = server.run([cell(0, FIND_CHANNEL + payload), cell(1, "x = 1"), read("result")])
    assert time.monotonic() - start < 15
    assert events[-1]["event"] == "killed" and reason in events[-1]["reason"], events[-1]
    assert "protocol" in events[-1]["reason"]
    assert all(e["event"] in ("sandbox", "cell", "probe", "killed") for e in events)
    assert outcome(server, "result = 'fine'") == "fine"


@pytest.mark.slow
def test_cell_that_ignores_interrupts_is_killed(server):
    start = time.monotonic()
    events = server.run([cell(0, "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                 "while True:\n    time.sleep(0.1)", timeout=2), cell(1, "x = 1")])
    took = time.monotonic() - start
    assert events[-1]["event"] == "killed", events
    assert "cell 0 ran past its 2 s limit and did not stop when interrupted" in events[-1]["reason"]
    assert took < 2 + server.limits.interrupt_grace + 3
    assert not slot_processes(base=server.uid_base)


# ----------------------------------------------------------------------------- fallbacks, without the server

def _in_keeper(make_sandbox, target, drop_to: int | None = None, timeout: float = 20) -> dict:
    """Run ``target()`` (returns JSON data) in a sandbox from a fresh keeper process; the keeper
    first becomes uid ``drop_to`` when given. Returns the kernel's report and data, and whether
    the processes it started outlived the sandbox."""
    import json

    read_end, write_end = os.pipe()
    keeper = os.fork()
    if keeper == 0:
        try:
            if drop_to is not None:
                os.setgroups([])
                os.setresgid(drop_to, drop_to, drop_to)
                os.setresuid(drop_to, drop_to, drop_to)
            sandbox = make_sandbox()

            def inside(report):
                try:
                    line = json.dumps({"report": report.to_json(), "data": target()})
                except Exception as exc:  # shown by the assertion below
                    line = json.dumps({"error": repr(exc)})
                os.write(write_end, line.encode() + b"\n")

            try:
                sandbox.start(inside, keep_fds=[write_end])
            except Exception as exc:
                os.write(write_end, json.dumps({"error": repr(exc)}).encode() + b"\n")
            if sandbox.wait(timeout) is None:
                sandbox.kill()
                sandbox.wait(10)
            os.write(write_end, json.dumps({"mode": sandbox.mode}).encode() + b"\n")
        finally:
            os._exit(0)
    os.close(write_end)
    data = b""
    while chunk := os.read(read_end, 1 << 16):
        data += chunk
    os.close(read_end)
    os.waitpid(keeper, 0)
    lines = [json.loads(line) for line in data.splitlines()]
    assert len(lines) == 2, lines
    return {**lines[0], **lines[1]}


def _look_around() -> dict:
    import socket as sockets

    found = {"uid": os.getuid(), "pid": os.getpid(), "top": sorted(os.listdir("/")), "cwd": os.getcwd()}
    try:
        open("/usr/planted", "w")
        found["write /usr"] = "written"
    except OSError as exc:
        found["write /usr"] = type(exc).__name__
    try:
        sockets.create_connection(("127.0.0.1", 9), timeout=1)
        found["network"] = "open"
    except OSError as exc:
        found["network"] = type(exc).__name__
    fields = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    found["CapEff"], found["NoNewPrivs"] = fields["CapEff"].strip(), fields["NoNewPrivs"].strip()
    return found


def _spawn_orphan() -> dict:
    import time as clock

    read_end, write_end = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.write(write_end, str(os.getpid()).encode())
            clock.sleep(600)
        os._exit(0)
    return {"orphan": int(os.read(read_end, 20))}


def _processes_of(uid: int) -> list[str]:
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/status") as status:
                if next(line for line in status if line.startswith("Uid:")).split()[1] == str(uid):
                    found.append(entry)
        except (OSError, StopIteration):
            pass
    return found


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as status:
            return "zombie" in status.read()
    except FileNotFoundError:
        return True


def test_without_root_an_unprivileged_user_namespace_does_the_work():
    """As an unprivileged uid (root's Python under /root is then out of reach: the kernel uses
    only what this process has imported already)."""
    import encodings.idna  # noqa: F401  (socket's lazy import)

    from autograders.grading.sandbox import Sandbox

    uid = SLOT_UID_BASE - 1000  # an unprivileged uid that no slot uses
    import tempfile

    stage = tempfile.mkdtemp(prefix="stage-")
    os.chown(stage, uid, uid)
    try:
        got = _in_keeper(lambda: Sandbox(stage=stage), lambda: {**_look_around(), **_spawn_orphan()}, drop_to=uid)
    finally:
        os.rmdir(stage)
    assert got["mode"] == "userns"
    data, report = got["data"], got["report"]
    assert data["uid"] == uid and data["pid"] == 1 and data["cwd"] == "/submission"
    assert data["write /usr"] == "OSError" and data["network"] == "OSError"
    assert int(data["CapEff"], 16) == 0 and data["NoNewPrivs"] == "1"
    assert "root" not in data["top"] and "tmp" not in data["top"]
    assert any("every slot runs as the grader's uid" in line for line in report["unprotected"])
    assert any("own PID namespace" in line for line in report["applied"])
    assert data["orphan"] < 10  # a pid of the sandbox's own namespace, which died with its init
    assert not _processes_of(uid)


def test_without_namespaces_the_report_says_what_is_open_and_orphans_still_die(tmp_path):
    from autograders.grading.sandbox import Report, Sandbox

    got = _in_keeper(lambda: Sandbox(stage=str(tmp_path), namespaces=False), _spawn_orphan)
    assert got["mode"] == "none"
    line = Report.from_json(got["report"]).line()
    assert "no namespaces (switched off)" in line and "NOT protected:" in line
    assert f"uid and gid {SLOT_UID_BASE}" in line  # as root it still drops to the slot's uid
    assert _gone(got["data"]["orphan"])  # found through the child subreaper and killed
    assert list(tmp_path.iterdir()) == []  # its work folder is removed


KEYS = '''
import ctypes, platform
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ADD_KEY, KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
RINGS = (-3, -4, -5)  # the session, user and user-session keyrings
def plant():
    return [libc.syscall(ADD_KEY, b"user", b"left-behind", b"secret", 6, ctypes.c_long(r)) > 0 for r in RINGS]
def search():  # KEYCTL_SEARCH
    return [libc.syscall(KEYCTL, 10, ctypes.c_long(r), b"user", b"left-behind", 0) > 0 for r in RINGS]
'''


@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="system call numbers known for two machines")
@pytest.mark.slow
def test_keyrings_are_not_shared_with_the_grader_or_the_next_submission(tmp_path):
    namespace: dict = {}
    exec(KEYS, namespace)  # the same calls, from the grader's side
    # A grader with a session keyring of its own (a login has one), which its children inherit.
    assert namespace["libc"].syscall(namespace["KEYCTL"], 0, ctypes.c_long(-3), 1) > 0
    with start_server(tmp_path, slots=1) as server:
        assert outcome(server, KEYS + "result = plant()") == [True, True, True]
        assert outcome(server, KEYS + "result = search()") == [False, False, False]
    assert namespace["search"]() == [False, False, False]


@pytest.mark.slow
def test_the_graders_environment_does_not_reach_kernels(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_API_TOKEN", "tok-123-secret")
    with start_server(tmp_path, slots=1) as server:
        seen = outcome(server, '''
import os
with open("/proc/self/environ", "rb") as f:
    initial = f.read()
stack = b""
for line in open("/proc/self/maps"):
    if line.rstrip().endswith("[stack]"):
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        with open("/proc/self/mem", "rb") as mem:
            mem.seek(start)
            stack = mem.read(end - start)
result = [b"tok-123" in initial, b"tok-123" in stack, "LMS_API_TOKEN" in os.environ]
''')
    assert seen == [False, False, False]
