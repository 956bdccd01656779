"""Grading speed: serial `nbgrader autograde` against ours, on a LocalCluster and through a Dask scheduler.

    python benchmarks/bench_grading.py [--students 40] [--workers 2] [--fresh]

Makes STUDENTS x 5 hand-ins from the sample variants (full, untouched and the typical wrong
answers, in turn) and grades all of them three times on this machine, in one run:

- **baseline**: nbgrader's own serial ``nbgrader autograde <assignment>``, one call per
  assignment over every student, in one course folder made for the purpose. The source
  notebooks' hidden parts are ``aN.question.grade(...)`` calls, which plain nbgrader runs in
  the kernel and reads as partial credit. Its one kernel may use every core's thread.
- **local**: ``grade_folder`` as ``python -m autograders grade`` runs it with its defaults (a
  LocalCluster of one single-threaded worker per core, every hand-in in a sandboxed fork of a
  warm fork server), its build folder moved under the benchmark's folder so that the course's
  own gradebook is left alone.
- **scheduler**: the same through ``--scheduler``: a ``dask scheduler`` and WORKERS ``dask
  worker`` processes started here as separate processes on 127.0.0.1.

It prints seconds per submission, the speedup against the baseline, whether every hand-in got
the same points from the baseline and from ours (each difference listed, question by
question), seconds per submission per assignment, the load on the machine during each part,
and a projection for a larger class from the rate measured per worker.

The baseline takes 15 to 20 minutes on two cores. Each finished part (and each finished
assignment of the baseline) is kept in ``build/bench_grading/state.json``: run the same command
again after an interruption and it goes on where it stopped, as long as the hand-ins, the
sources and the grading code are unchanged (``--fresh`` starts over). Once every part is
measured, the next run measures everything anew; ``--report`` prints the last tables again.
The measurements also go to ``build/bench_grading/results.json``.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from autograders import course  # noqa: E402
from autograders.samples.make_samples import variant, variants  # noqa: E402

BENCH = course.BUILD / "bench_grading"
STATE = BENCH / "state.json"
PARTS = ("baseline", "local", "scheduler")
LABELS = {
    "baseline": "nbgrader autograde, serial (baseline)",
    "local": "ours, LocalCluster",
    "scheduler": "ours, dask scheduler + workers",
}
PROJECTED_NOTEBOOKS = 5000
PROJECTED_WORKERS = (10, 50, 200)

#: nbgrader's configuration for the baseline's own course folder (the course's, with its paths moved).
_COURSE_CONFIG = """\
c = get_config()
load_subconfig({main!r})
c.CourseDirectory.root = {root!r}
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.solution_directory = "solution"
c.CourseDirectory.source_with_tests_directory = "source_with_tests"
c.CourseDirectory.db_url = {db!r}
"""


# --------------------------------------------------------------------------------- the machine
def machine() -> dict:
    """What the figures were measured on."""
    import torch

    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 2**20:.0f} GiB"
    versions = {}
    for name in ("nbgrader", "distributed"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[name] = version(name)
    return {"cores": len(os.sched_getaffinity(0)), "cpu": model or platform.processor(), "memory": memory,
            "torch": torch.__version__, "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "python": platform.python_version(), "root": os.geteuid() == 0, **versions}


class LoadMeter:
    """The machine's load while a part runs: the 1-minute load average every few seconds, and the
    cores kept busy by this process's tree against those kept busy by everything else."""

    def __init__(self, every: float = 5.0) -> None:
        import psutil

        self.psutil = psutil
        self.every = every
        self.samples: list[tuple[float, float]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.samples.append((time.monotonic(), os.getloadavg()[0]))
            self.stop.wait(self.every)

    def close(self) -> None:
        self.stop.set()

    @staticmethod
    def machine_busy() -> float:
        """CPU seconds the whole machine has spent busy since boot."""
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
        return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")

    def tree_cpu(self) -> float:
        """CPU seconds of this process and its descendants (live ones, and those already waited for)."""
        me = self.psutil.Process()
        total = 0.0
        for proc in [me, *me.children(recursive=True)]:
            with contextlib.suppress(self.psutil.Error):
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        return total

    def snapshot(self) -> tuple[float, float, float]:
        return time.monotonic(), self.machine_busy(), self.tree_cpu()

    def between(self, start: tuple, end: tuple) -> dict:
        wall = max(end[0] - start[0], 1e-9)
        loads = [v for t, v in self.samples if start[0] <= t <= end[0]] or [os.getloadavg()[0]]
        busy = (end[1] - start[1]) / wall
        ours = (end[2] - start[2]) / wall
        return {"load_mean": round(sum(loads) / len(loads), 2), "load_max": round(max(loads), 2),
                "busy_cores": round(busy, 2), "our_cores": round(min(ours, busy), 2),
                "other_cores": round(max(0.0, busy - ours), 2)}

    def quiet_check(self, seconds: float = 15.0) -> dict:
        """How busy the machine is while this process does nothing."""
        start = self.snapshot()
        time.sleep(seconds)
        return {"seconds": seconds, **self.between(start, self.snapshot())}


# ------------------------------------------------------------------------------------ hand-ins
def make_hand_ins(n_students: int, names: list[str]) -> tuple[Path, str, dict]:
    """STUDENTS x assignments notebooks in ``<student>/<assignment>.ipynb``; returns the folder, a
    digest of everything that decides the measurements (hand-ins, sources, the grading code) and
    which variant each hand-in is."""
    inbox = BENCH / "hand-ins"
    shutil.rmtree(inbox, ignore_errors=True)
    digest = hashlib.sha256()
    for package in ("autograders", "evalib"):
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    kinds = {}
    for a in names:
        digest.update((course.SOURCE / a / f"{a}.ipynb").read_bytes())
        kinds_of_a = variants(a)
        notebooks = {k: nbformat.writes(variant(a, k)) for k in kinds_of_a}
        for i in range(n_students):
            student, kind = f"s{i:02d}", kinds_of_a[i % len(kinds_of_a)]
            path = inbox / student / f"{a}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(notebooks[kind], encoding="utf-8")
            digest.update(f"{student}/{a}\0".encode() + notebooks[kind].encode())
            kinds[f"{student}/{a}"] = kind
    return inbox, digest.hexdigest(), kinds


# ------------------------------------------------------------------------------------ baseline
def baseline_folder(inbox: Path, names: list[str]) -> Path:
    """A course folder for plain nbgrader: the sources, its own gradebook, every hand-in in submitted/."""
    root = BENCH / "nbgrader_course"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(_COURSE_CONFIG.format(
        main=str(course.CONFIG_DIR / "nbgrader_config.py"), root=str(root), db=f"sqlite:///{root / 'gradebook.db'}"))
    for a in names:
        shutil.copytree(course.SOURCE / a, root / "source" / a, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        made = course.run_nbgrader(["generate_assignment", a, "--force"], root, threads=2)
        if made.returncode != 0:
            raise RuntimeError(f"nbgrader generate_assignment {a} failed:\n{made.stderr[-3000:]}")
    for nb in sorted(inbox.glob("*/*.ipynb")):
        target = root / "submitted" / nb.parent.name / nb.stem / nb.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(nb, target)
    return root


def autograde(root: Path, assignment: str, n: int, threads: int) -> float:
    """``nbgrader autograde <assignment> --force`` over every student; its wall-clock seconds."""
    log = BENCH / f"nbgrader-{assignment}.log"
    start = time.perf_counter()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "nbgrader", "autograde", assignment, "--force"], cwd=root,
                                env=course.nbgrader_env(threads), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        done = 0
        for line in proc.stderr:
            out.write(line)
            if "Autograding " in line:
                done += 1
                print(f"\r  nbgrader autograde {assignment}: {done}/{n} notebooks, "
                      f"{time.perf_counter() - start:.0f} s", end="", flush=True)
        proc.wait()
    took = time.perf_counter() - start
    print()
    if proc.returncode != 0:
        print(f"  nbgrader autograde {assignment} exited with {proc.returncode}; see {log}", file=sys.stderr)
    return took


def baseline_grades(root: Path, assignment: str) -> dict:
    """student -> (autograded points, {grade id: points}) from the baseline's gradebook."""
    from nbgrader.api import Gradebook

    grades = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(assignment):
            parts = {g.name: float(g.auto_score or 0.0) for nb in sub.notebooks for g in nb.grades
                     if g.cell_type == "code"}
            grades[sub.student.id] = (round(sum(parts.values()), 4), parts)
    return grades


def run_baseline(inbox: Path, names: list[str], n_students: int, state: dict, save, meter: LoadMeter) -> dict:
    part = state.setdefault("baseline", {"assignments": {}})
    root = BENCH / "nbgrader_course"
    if not part["assignments"] or not (root / "gradebook.db").exists():
        part["assignments"] = {}
        baseline_folder(inbox, names)
    threads = len(os.sched_getaffinity(0))
    for a in names:
        if a in part["assignments"]:
            print(f"  nbgrader autograde {a}: kept from {part['assignments'][a]['finished']}")
            continue
        start = meter.snapshot()
        seconds = autograde(root, a, n_students, threads)
        grades = baseline_grades(root, a)
        part["assignments"][a] = {"seconds": round(seconds, 2), "load": meter.between(start, meter.snapshot()),
                                  "finished": _now(), "grades": {s: list(g) for s, g in grades.items()}}
        save()
    part["threads"] = threads
    return part


# ----------------------------------------------------------------------------------------- ours
@contextlib.contextmanager
def build_folder(folder: Path):
    """The course's build folder as the grading command sees it (gradebook, autograded notebooks)
    moved to ``folder``, with a copy of the course's gradebook: the course's own stays untouched."""
    saved = course.BUILD, course.GRADEBOOK
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(course.GRADEBOOK, folder / "gradebook.db")
    course.BUILD, course.GRADEBOOK = folder, folder / "gradebook.db"
    try:
        yield
    finally:
        course.BUILD, course.GRADEBOOK = saved


def run_ours(inbox: Path, names: list[str], part: str, workers: int, scheduler: str | None, meter: LoadMeter) -> dict:
    from autograders.workflow import grade_folder

    folder = BENCH / part
    shutil.rmtree(folder, ignore_errors=True)
    with build_folder(folder / "build"):
        start = meter.snapshot()
        t0 = time.perf_counter()
        results, _ = grade_folder(inbox, folder / "grading", workers=None if scheduler else workers, quiet=True,
                                  progress=True, scheduler=scheduler)
        wall = time.perf_counter() - t0
        load = meter.between(start, meter.snapshot())
        # The reports alone, rebuilt once more from the store: the share of the run that grows with the class.
        t1 = time.perf_counter()
        from autograders.workflow import rebuild

        rebuild(folder / "grading")
        reports = time.perf_counter() - t1
    grades = {}
    for r in results:
        parts = {q.id: float(q.points or 0.0) for q in r.questions if q.kind == "auto"}
        grades[f"{r.student}/{r.assignment}"] = {"points": round(r.auto_score, 4), "parts": parts, "status": r.status,
                                                 "seconds": r.seconds, "error": r.error, "problems": r.problems}
    sandboxes = sorted({r.sandbox for r in results if r.sandbox})
    return {"seconds": round(wall, 2), "reports_seconds": round(reports, 2), "workers": workers, "load": load,
            "finished": _now(), "grades": grades, "sandbox": sandboxes}


class DaskCluster:
    """``dask scheduler`` and ``workers`` ``dask worker`` processes on 127.0.0.1, each its own process."""

    def __init__(self, workers: int, folder: Path) -> None:
        self.n, self.folder = workers, folder
        self.procs: list[subprocess.Popen] = []
        self.address = ""

    def __enter__(self) -> "DaskCluster":
        from distributed import Client

        self.folder.mkdir(parents=True, exist_ok=True)
        dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
        command = [dask] if dask else [sys.executable, "-m", "dask"]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env.update({"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                    "DASK_DISTRIBUTED__WORKER__DAEMON": "False"})
        file = self.folder / "scheduler.json"
        file.unlink(missing_ok=True)
        start = time.perf_counter()
        self._start([*command, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(file)], env, "scheduler")
        deadline = time.monotonic() + 120
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        self.address = json.loads(file.read_text())["address"]
        for i in range(self.n):
            self._start([*command, "worker", self.address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                         "--host", "127.0.0.1", "--name", f"worker-{i}"], env, f"worker-{i}")
        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(self.n, timeout=180)
        self.start_seconds = time.perf_counter() - start
        return self

    def _start(self, command: list[str], env: dict, name: str) -> None:
        log = open(self.folder / f"{name}.log", "wb")
        self.procs.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log,
                                           start_new_session=True))
        log.close()

    def __exit__(self, *exc) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


# ---------------------------------------------------------------------------------- comparisons
def differences(base: dict, ours: dict) -> list[dict]:
    """Every hand-in whose autograded points differ, with the questions that differ."""
    out = []
    for key in sorted(set(base) | set(ours)):
        b, o = base.get(key), ours.get(key)
        if b is not None and o is not None and abs(b[0] - o["points"]) < 1e-6:
            continue
        questions = {}
        if b is not None and o is not None:
            for q in sorted(set(b[1]) | set(o["parts"])):
                bq, oq = b[1].get(q), o["parts"].get(q)
                if bq is None or oq is None or abs(bq - oq) > 1e-6:
                    questions[q] = (bq, oq)
        out.append({"key": key, "baseline": None if b is None else b[0], "ours": None if o is None else o["points"],
                    "status": None if o is None else o["status"], "questions": questions})
    return out


def fork_server_start(assignment: str, runs: int = 3) -> float:
    """Seconds to start one warm fork server (torch, IPython and a locked evalib imported): the
    median of ``runs`` starts."""
    import statistics

    from evalib.checks.guard import locked_copy

    from autograders.grading.forkserver import ForkServer

    took = []
    with tempfile.TemporaryDirectory(prefix="bench-fork-") as tmp:
        package = locked_copy(assignment, Path(tmp) / "copy")
        for _ in range(runs):
            start = time.perf_counter()
            server = ForkServer(package, slots=1)
            took.append(time.perf_counter() - start)
            server.close()
    return statistics.median(took)


def record_seconds(results_folder: Path) -> float:
    """Seconds the instructor's process takes to record one result in a results store."""
    from autograders.results.store import ResultsStore

    with ResultsStore(results_folder) as store:
        current = store.current()
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp, ResultsStore(Path(tmp)) as scratch:
        run = scratch.begin_run("bench")
        start = time.perf_counter()
        for r in current:
            scratch.record(r, run)
        return (time.perf_counter() - start) / max(1, len(current))


def projection(part: dict, n: int, server_s: float, servers_per_worker: int, record_s: float) -> dict:
    """Time for PROJECTED_NOTEBOOKS on more workers, from the rate measured per worker in ``part``."""
    workers = part["workers"]
    busy = sum(g["seconds"] for g in part["grades"].values())  # seconds inside the workers, all hand-ins
    starts = workers * servers_per_worker * server_s  # fork servers started once per worker and kind
    per_notebook = max(0.0, busy - starts) / n  # one worker's seconds per hand-in, its fork servers warm
    fixed = max(0.0, part["seconds"] - busy / workers - part["reports_seconds"])  # cluster, collect, the tail
    rows = {}
    for w in PROJECTED_WORKERS:
        grading = PROJECTED_NOTEBOOKS * per_notebook / w
        recording = PROJECTED_NOTEBOOKS * record_s  # the instructor's process records one result at a time
        total = fixed + servers_per_worker * server_s + max(grading, recording) \
            + part["reports_seconds"] * PROJECTED_NOTEBOOKS / n
        rows[w] = {"seconds": round(total, 1), "bound": "workers" if grading >= recording else "recording"}
    return {"per_notebook": round(per_notebook, 3), "server_start": round(server_s, 2),
            "servers_per_worker": servers_per_worker, "fixed": round(fixed, 1), "record": round(record_s, 4),
            "reports": part["reports_seconds"], "rows": rows}


# ---------------------------------------------------------------------------------------- tables
def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def report(state: dict, names: list[str], n_students: int, kinds: dict) -> dict:
    n = n_students * len(names)
    base = state["baseline"]
    t_base = sum(base["assignments"][a]["seconds"] for a in names)
    base_grades = {f"{s}/{a}": tuple(g) for a in names for s, g in base["assignments"][a]["grades"].items()}
    m = state["machine"]
    print(f"\n{n_students} students x {len(names)} assignments = {n} hand-ins; {m['cores']} cores ({m['cpu']}, "
          f"{m['memory']}), torch {m['torch']} ({m['torch_cpu_capability']}), nbgrader {m.get('nbgrader', '?')}, "
          f"distributed {m.get('distributed', '?')}")
    quiet = state.get("quiet", {})
    if quiet:
        print(f"before the run, with nothing of ours running: load average {quiet['load_mean']}, "
              f"{quiet['busy_cores']} cores busy with other work")
    print(f"\n{'':46}{'total s':>9}{'s / hand-in':>13}{'speedup':>9}{'load avg':>10}{'other cores':>13}")
    loads = {"baseline": _merge_loads([base["assignments"][a]["load"] for a in names], names, base)}
    totals = {"baseline": t_base}
    for p in ("local", "scheduler"):
        if p in state:
            totals[p] = state[p]["seconds"]
            loads[p] = state[p]["load"]
    for p, total in totals.items():
        extra = f" ({state[p]['workers']} workers)" if p != "baseline" else ""
        print(f"{LABELS[p] + extra:46}{total:>9.1f}{total / n:>13.2f}{t_base / total:>8.2f}x"
              f"{loads[p]['load_mean']:>10.2f}{loads[p]['other_cores']:>13.2f}")
    summary = {"hand_ins": n, "seconds": totals, "loads": loads,
               "speedup": {p: round(t_base / t, 2) for p, t in totals.items()}, "differences": {}}

    for p in ("local", "scheduler"):
        if p not in state:
            continue
        diffs = differences(base_grades, state[p]["grades"])
        summary["differences"][p] = diffs
        same = n - len(diffs)
        print(f"\n{LABELS[p]}: {same} of {n} hand-ins scored the same points as the baseline"
              + (":" if diffs else " (all identical)"))
        for d in diffs:
            qs = ", ".join(f"{q} {b} -> {o}" for q, (b, o) in d["questions"].items())
            print(f"  {d['key']} ({kinds.get(d['key'], '?')}): baseline {d['baseline']}, ours {d['ours']} "
                  f"[{d['status']}]" + (f"; {qs}" if qs else ""))

    print(f"\nseconds per hand-in, by assignment (the baseline: its autograde call's wall clock / {n_students}; "
          f"ours: inside one worker, sandbox set-up and fork-server start included)")
    print(f"{'assignment':24}{'baseline':>10}" + "".join(f"{p:>12}" for p in ("local", "scheduler") if p in state))
    per = {}
    for a in names:
        row = [base["assignments"][a]["seconds"] / n_students]
        for p in ("local", "scheduler"):
            if p in state:
                secs = [g["seconds"] for k, g in state[p]["grades"].items() if k.endswith("/" + a)]
                row.append(sum(secs) / max(1, len(secs)))
        per[a] = row
        print(f"{a:24}" + "".join(f"{v:>10.2f}" if i == 0 else f"{v:>12.2f}" for i, v in enumerate(row)))
    summary["per_assignment"] = per

    proj = state.get("projection")
    if proj:
        print(f"\nprojection for {PROJECTED_NOTEBOOKS:,} hand-ins of the same mix (from the scheduler run: "
              f"{proj['per_notebook']:.2f} s per hand-in in one worker with its fork servers warm, "
              f"{proj['servers_per_worker']} fork servers of {proj['server_start']:.1f} s per worker, "
              f"{proj['fixed']:.0f} s fixed, {proj['record'] * 1000:.1f} ms to record a result, "
              f"reports {proj['reports']:.1f} s per {n})")
        for w, row in proj["rows"].items():
            print(f"  {int(w):>4} workers: {row['seconds']:>8.0f} s  ({_duration(row['seconds'])}, bound by {row['bound']})")
        summary["projection"] = proj
    for p in ("local", "scheduler"):
        if p in state and state[p].get("sandbox"):
            print(f"\n{LABELS[p]}: " + "; ".join(state[p]["sandbox"]))
    return summary


def _merge_loads(loads: list[dict], names: list[str], base: dict) -> dict:
    """The baseline's load over its assignments, weighted by their time."""
    weights = [base["assignments"][a]["seconds"] for a in names]
    total = sum(weights) or 1.0
    merged = {k: round(sum(l[k] * w for l, w in zip(loads, weights)) / total, 2)
              for k in ("load_mean", "busy_cores", "our_cores", "other_cores")}
    merged["load_max"] = max(l["load_max"] for l in loads)
    return merged


# ------------------------------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--workers", type=int, default=None, help="default: one per core")
    parser.add_argument("--assignment", action="append", help="only these (repeatable)")
    parser.add_argument("--fresh", action="store_true", help="forget the parts measured by an earlier run")
    parser.add_argument("--skip", action="append", choices=PARTS, default=[], help="leave out a part")
    parser.add_argument("--report", action="store_true", help="print the tables of the last complete run")
    args = parser.parse_args()
    if args.report:
        last = json.loads(STATE.read_text()) if STATE.exists() else {}
        if not last.get("complete"):
            sys.exit(f"no complete run in {STATE}")
        cfg = last["config"]
        names = cfg["assignments"]
        kinds = {f"s{i:02d}/{a}": variants(a)[i % len(variants(a))] for a in names for i in range(cfg["students"])}
        report(last, names, cfg["students"], kinds)
        return
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    names = args.assignment or course.assignment_names()
    workers = args.workers or len(os.sched_getaffinity(0))
    BENCH.mkdir(parents=True, exist_ok=True)
    if not course.GRADEBOOK.exists() or any(not (course.RELEASE / a).exists() for a in names):
        course.release(names, quiet=True)
    inbox, digest, kinds = make_hand_ins(args.students, names)
    config = {"students": args.students, "assignments": names, "workers": workers, "digest": digest}
    state = {}
    if STATE.exists() and not args.fresh:
        state = json.loads(STATE.read_text())
        if state.get("complete"):
            state = {}  # the last run finished: measure anew
        elif state.get("config") != config:
            print("the hand-ins, sources, grading code or settings changed since the interrupted run: starting over")
            state = {}
        else:
            print(f"going on with the run interrupted in {STATE}")
    state["config"] = config
    state["machine"] = machine()

    def save() -> None:
        tmp = STATE.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1))
        tmp.replace(STATE)

    meter = LoadMeter()
    try:
        if "quiet" not in state:
            print("measuring the machine's load with nothing of ours running (15 s) ...")
            state["quiet"] = meter.quiet_check()
            save()
        if "baseline" not in args.skip:
            print(f"baseline: serial nbgrader autograde, {len(names)} calls of {args.students} notebooks")
            run_baseline(inbox, names, args.students, state, save, meter)
            save()
        if "local" not in args.skip and "local" not in state:
            print(f"ours on a LocalCluster of {workers} workers")
            state["local"] = run_ours(inbox, names, "local", workers, None, meter)
            save()
        if "scheduler" not in args.skip and "scheduler" not in state:
            print(f"ours through a dask scheduler and {workers} dask worker processes on 127.0.0.1")
            with DaskCluster(workers, BENCH / "cluster") as cluster:
                print(f"  scheduler {cluster.address}, {workers} workers up in {cluster.start_seconds:.1f} s")
                state["scheduler"] = run_ours(inbox, names, "scheduler", workers, cluster.address, meter)
                state["scheduler"]["cluster_start"] = round(cluster.start_seconds, 2)
            save()
        if "scheduler" in state and "projection" not in state:
            n = args.students * len(names)
            server_s = fork_server_start(names[0])
            kinds_of_server = len(names) + (1 if "a4_mnist_one_epoch" in names else 0)  # a4 also has a blind one
            state["projection"] = projection(state["scheduler"], n, server_s, kinds_of_server,
                                             record_seconds(BENCH / "scheduler" / "grading"))
            save()
    finally:
        meter.close()
    if "baseline" not in state or any(a not in state["baseline"]["assignments"] for a in names):
        print("the baseline is incomplete: run again to finish it")
        return
    state["complete"] = not args.skip
    save()
    summary = report(state, names, args.students, kinds)
    summary["machine"] = state["machine"]
    summary["quiet"] = state.get("quiet")
    (BENCH / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"\nmeasurements in {BENCH / 'results.json'}; --report prints these tables again")


if __name__ == "__main__":
    main()
