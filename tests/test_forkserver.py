"""The warm fork server: plans of cells and probes, events, time limits, and fresh state per submission."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from autograders.grading.forkserver import ForkServer, ForkServerError, validate_plan
from kernel_runs import TEST_LIMITS, cell, outcome, read, slot_processes, start_server

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with start_server(tmp_path_factory.mktemp("locked")) as fork_server:
        yield fork_server


def kinds(events: list[dict]) -> list[str]:
    return [e["event"] for e in events]


def test_a_plan_runs_cells_and_probes_in_order(server):
    events = server.run([
        cell(0, "x = 6 * 7"),
        cell(1, "1 / 0"),
        cell(2, "%%capture\nprint('captured')"),
        cell(3, "%time y = x + 1\n!echo from-a-shell > shell.txt\ncount = get_ipython().execution_count"),
        cell(4, "def broken(:\n    pass"),
        read("x", question="test_x"),
        cell(5, "shell = open('shell.txt').read()"),
        read("shell"),
        read("count"),
        read("missing"),
    ])
    assert kinds(events) == ["sandbox", "cell", "cell", "cell", "cell", "cell", "probe", "cell", "probe", "probe",
                             "probe", "done"]
    cells = {e["index"]: e for e in events if e["event"] == "cell"}
    assert [cells[i]["status"] for i in range(6)] == ["ok", "error", "ok", "ok", "error", "ok"]
    assert cells[1]["error"] == "ZeroDivisionError: division by zero"
    assert cells[4]["error"].startswith("SyntaxError")
    assert cells[0]["error"] == "" and all(e["seconds"] >= 0 for e in events[1:])
    probes = {p["question"]: p["data"] for p in events if p["event"] == "probe"}
    assert probes == {"test_x": 42, "shell": "from-a-shell\n", "count": probes["count"], "missing": None}
    assert probes["count"] >= 4  # the shell numbers its cells as a notebook's kernel does


def test_what_course_notebooks_do_works_inside(server):
    events = server.run([
        cell(0, "%matplotlib inline\nimport matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
                "ax.plot([1, 2, 3])\nplt.show()"),
        cell(1, "import torch\nfrom torch.utils.data import DataLoader, TensorDataset\n"
                "data = TensorDataset(torch.arange(40.).view(-1, 1))\n"
                "total = sum(b[0].sum().item() for b in DataLoader(data, batch_size=8, num_workers=2))"),
        cell(2, "from tqdm.auto import tqdm\nfor _ in tqdm(range(3)):\n    pass"),
        cell(3, "import tempfile, os\nwith tempfile.NamedTemporaryFile() as f:\n    where = os.path.dirname(f.name)"),
        read("total"),
        read("where"),
    ])
    assert [e.get("status") for e in events[1:5]] == ["ok"] * 4, events
    assert events[5]["data"] == sum(range(40)) and events[6]["data"] == "/submission/tmp"


def test_output_on_stderr_costs_nothing(server):
    source = '''
import sys, warnings
def area(w, h):
    print("debug:", w, h, file=sys.stderr)
    warnings.warn("a warning")
    return w * h
result = area(3, 4)
'''
    assert outcome(server, source) == 12


def test_probe_failures_are_reported_not_fatal(server):
    events = server.run([
        {"op": "probe", "question": "q1", "call": "evalib._test_probes:fail", "args": None},
        {"op": "probe", "question": "q2", "call": "evalib._test_probes:unplain", "args": {}},
        cell(0, "x = 1"),
        read("x"),
    ])
    assert kinds(events) == ["sandbox", "probe", "probe", "cell", "probe", "done"]
    assert events[1]["data"] is None and events[1]["error"] == "RuntimeError: the probe failed on purpose"
    assert events[2]["data"] is None and "TypeError" in events[2]["error"]
    assert events[4]["data"] == 1 and "error" not in events[4]


def test_the_kernel_imports_the_locked_evalib(server):
    where, value = outcome(server, "import evalib\nresult = [evalib.__file__, evalib.conv_output_size(400, 3)]")
    assert where == os.path.join(server.package, "__init__.py") and value == 398


def test_files_are_written_into_the_work_folder(server):
    files = {"data/values.txt": b"3 4 5", "notes.md": "caf\u00e9".encode()}
    result = outcome(server, "import os\nresult = [os.getcwd(), open('data/values.txt').read(), "
                             "open('notes.md', encoding='utf-8').read(), os.environ['TMPDIR']]", files=files)
    assert result == ["/submission", "3 4 5", "caf\u00e9", "/submission/tmp"]
    for bad in ("../escape", "/etc/passwd", "home/.bashrc", "a/../../b", "x" * 300, ""):
        with pytest.raises(ValueError):
            server.run([], files={bad: b""})


@pytest.mark.parametrize("plan", [
    "not a list",
    [{"op": "exec", "source": "x"}],
    [{"op": "cell", "index": -1, "source": "x"}],
    [{"op": "cell", "index": True, "source": "x"}],
    [{"op": "cell", "index": 0, "source": b"x"}],
    [{"op": "cell", "index": 0, "source": "x", "timeout": float("inf")}],
    [{"op": "cell", "index": 0, "source": "x", "timeout": 0}],
    [{"op": "probe", "question": "q", "call": "os:system", "args": "id"}],
    [{"op": "probe", "question": "q", "call": "evalibx.mod:f", "args": None}],
    [{"op": "probe", "question": "q", "call": "evalib.mod:f;x", "args": None}],
    [{"op": "probe", "question": "q", "call": "evalib:f", "args": {1, 2}}],
    [{"op": "probe", "question": "", "call": "evalib:f", "args": None}],
])
def test_malformed_plans_are_refused_before_anything_runs(plan):
    with pytest.raises(ValueError):
        validate_plan(plan, TEST_LIMITS)


@pytest.mark.slow
def test_a_cell_past_its_limit_is_interrupted_and_the_next_one_runs(server):
    start = time.monotonic()
    events = server.run([cell(0, "import time\ntime.sleep(30)", timeout=1), cell(1, "x = 2"), read("x")])
    assert time.monotonic() - start < 5
    assert kinds(events) == ["sandbox", "cell", "cell", "probe", "done"]
    assert events[1]["status"] == "error"
    assert events[1]["error"] == "TimeoutError: cell 0 ran past its 1 s limit and was interrupted"
    assert events[3]["data"] == 2


@pytest.mark.slow
def test_the_budget_ends_a_busy_notebook(server):
    start = time.monotonic()
    events = server.run([cell(0, "x = 1"), cell(1, "while True:\n    pass", timeout=100), cell(2, "y = 1")], budget=2)
    took = time.monotonic() - start
    assert kinds(events) == ["sandbox", "cell", "killed"]
    assert events[-1]["reason"] == "the notebook ran past its budget of 2 s"
    assert 1.8 < took < 5
    assert not slot_processes(base=server.uid_base)


def test_a_kernel_that_exits_ends_its_run(server):
    events = server.run([cell(0, "raise SystemExit(1)"), cell(1, "import os\nos._exit(3)"), cell(2, "x = 1")])
    assert kinds(events) == ["sandbox", "cell", "killed"]
    assert events[1]["status"] == "error" and events[1]["error"].startswith("SystemExit")
    assert events[-1]["reason"] == "the kernel exited with code 3 during cell 1"


@pytest.mark.slow
def test_slots_run_at_the_same_time(server):
    results: list[list[dict]] = []

    def one():
        results.append(server.run([cell(0, "import time\ntime.sleep(2)")]))

    start = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert time.monotonic() - start < 3.8
    assert [kinds(r) for r in results] == [["sandbox", "cell", "done"]] * 2
    uids = {e["report"].split("uid and gid ")[1].split()[0] for r in results for e in r if e["event"] == "sandbox"}
    assert len(uids) == 2  # one uid per slot


@pytest.mark.slow
def test_two_servers_on_one_machine_never_share_a_uid(server, tmp_path):
    with start_server(tmp_path, slots=2) as other:
        assert {server.uid_base, server.uid_base + 1}.isdisjoint({other.uid_base, other.uid_base + 1})
        first = outcome(server, "import os\nresult = os.getuid()")
        second = outcome(other, "import os\nresult = os.getuid()")
        assert first - server.uid_base in (0, 1) and second - other.uid_base in (0, 1) and first != second


LEAVE = '''
import os, sys, torch, evalib
LEFT_BEHIND = "value"
open("left.txt", "w").write("file")
open(os.path.expanduser("~/left.txt"), "w").write("file")
open("/dev/shm/left", "w").write("shm")
os.environ["LEFT_BEHIND"] = "env"
torch.add = lambda *a, **k: "patched"
torch.Tensor.sum = lambda self, *a, **k: "patched"
evalib.conv_output_size = lambda *a, **k: "patched"
sys.modules["evalib.design.shapes"].conv_output_size = lambda *a, **k: "patched"
sys.path.insert(0, "/submission")
open("json.py", "w").write("raise SystemExit('shadowed')")
'''
BREAK = "import builtins\nbuiltins.len = lambda x: 0"  # breaks this kernel's own IPython too

LOOK = '''
import os, sys, torch, evalib, builtins
import evalib.design.shapes as shapes
result = {
    "global": "LEFT_BEHIND" in globals(),
    "files": sorted(os.listdir(".")) + sorted(os.listdir(os.path.expanduser("~"))) + os.listdir("/dev/shm"),
    "env": os.environ.get("LEFT_BEHIND"),
    "torch.add": torch.add(torch.tensor(1), 1).item(),
    "Tensor.sum": torch.ones(3).sum().item(),
    "evalib": [evalib.conv_output_size(400, 3), shapes.conv_output_size(400, 3)],
    "len": builtins.len([1, 2]),
    "path": "/submission" in sys.path[:1],
}
'''


@pytest.mark.slow
def test_nothing_carries_over_from_one_submission_to_the_next(tmp_path):
    with start_server(tmp_path, slots=1) as one_slot:
        clean = outcome(one_slot, LOOK)
        left = one_slot.run([cell(0, LEAVE), cell(1, BREAK)])
        assert left[1]["status"] == "ok", left
        after = outcome(one_slot, LOOK)
    assert after == clean
    assert {k: v for k, v in clean.items() if k != "files"} == {
        "global": False, "env": None, "torch.add": 2, "Tensor.sum": 3.0, "evalib": [398, 398], "len": 2, "path": False}
    assert not {"left.txt", "left", "json.py"} & set(clean["files"])


@pytest.mark.slow
def test_the_server_comes_back_after_it_dies_and_close_leaves_nothing(tmp_path):
    server = start_server(tmp_path, slots=1)
    first = server.pid
    os.kill(first, signal.SIGKILL)
    assert outcome(server, "result = 'back'") == "back"
    assert server.pid != first
    state, pid = server.state, server.pid
    server.close()
    assert not os.path.exists(state)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not slot_processes(base=server.uid_base)


def test_a_missing_evalib_is_refused(tmp_path):
    with pytest.raises(ForkServerError):
        ForkServer(tmp_path)


@pytest.mark.slow
def test_a_kernel_that_outlives_a_killed_server_is_swept_before_its_slot_is_used_again(tmp_path):
    server = start_server(tmp_path, slots=1)
    stay = ("import ctypes, time\nctypes.CDLL(None).prctl(1, 0, 0, 0, 0)  # no parent-death signal\n"
            "time.sleep(120)")
    thread = threading.Thread(target=lambda: server.run([cell(0, stay, timeout=200)], budget=200))
    thread.start()
    try:
        base = server.uid_base
        deadline = time.monotonic() + 10
        while not slot_processes(1, base) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        os.kill(server.pid, signal.SIGKILL)  # its keeper dies with it; the kernel would not
        time.sleep(0.5)
        assert slot_processes(1, base), "the kernel should have outlived its keeper"
        assert outcome(server, "result = 1") == 1  # a new server sweeps its slots' uids first
        assert server.uid_base == base  # the dead server's block is free again
        thread.join(20)
        assert not slot_processes(1, base)
    finally:
        server.close()
