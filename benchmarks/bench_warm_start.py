"""Per-submission start-up: a cold Jupyter kernel that imports torch and evalib, against a fork of the warm server.

Every row ends when ``import torch`` and ``import evalib`` have run in a kernel that could
take the submission's first cell:

- cold: ``jupyter_client`` starts a python3 kernel, waits for it, runs the import cell (the
  baseline: how plain nbgrader starts every notebook);
- cold, no Jupyter: a fresh ``python`` process that runs the same imports and exits (what
  is left of a cold start without the kernel protocol);
- warm: :class:`~autograders.grading.forkserver.ForkServer`, started on a locked copy of evalib
  as grading starts it, forks the warm server, enters the sandbox (namespaces as root, limits
  only otherwise) with a fresh work folder, creates a fresh IPython shell and runs the same
  import cell (the modules are imported already, so the cell is nearly free).

Rounds interleave the rows so that background load hits each the same way; medians are shown,
with ratios against the cold baseline of the same run, and the load average before and after.
Starting the fork server itself happens once per grading worker (and kind of fork server) and
is shown apart.

    python benchmarks/bench_warm_start.py [--runs 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograders.grading.forkserver import ForkServer, Limits  # noqa: E402

IMPORTS = "import torch\nimport evalib"


def cold_kernel(extra: dict | None = None) -> float:
    """Seconds from asking for a python3 kernel to the end of the import cell."""
    from jupyter_client.manager import KernelManager

    start = time.perf_counter()
    manager = KernelManager(kernel_name="python3", **(extra or {}))
    manager.start_kernel(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        reply = client.execute_interactive(IMPORTS, timeout=120, output_hook=lambda msg: None)
        took = time.perf_counter() - start
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return took


def cold_process() -> float:
    """Seconds for a fresh Python process to run the imports and exit."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", IMPORTS.replace("\n", "; ")], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def warm_fork(server: ForkServer) -> float:
    start = time.perf_counter()
    events = server.run([{"op": "cell", "index": 0, "source": IMPORTS, "timeout": 60}])
    took = time.perf_counter() - start
    assert [e["event"] for e in events] == ["sandbox", "cell", "done"] and events[1]["status"] == "ok", events
    return took


def machine() -> str:
    """Cores, processor and torch's CPU capability, for the table's heading."""
    import torch

    model = "unknown processor"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{len(os.sched_getaffinity(0))} cores ({model}), torch {torch.__version__} "
            f"({torch.backends.cpu.get_cpu_capability()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds; medians are reported")
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads in every kernel")
    parser.add_argument("--assignment", default="a1_kernels_channels",
                        help="whose locked copy of evalib the fork server imports")
    args = parser.parse_args()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])

    from evalib.checks.guard import locked_copy

    heading = machine()
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    try:
        package = locked_copy(args.assignment, work / "locked")
        start = time.perf_counter()
        server = ForkServer(package, slots=1, limits=Limits(threads=args.threads))
        server_start = time.perf_counter() - start
        rows = {
            "cold: jupyter kernel + import torch + evalib": cold_kernel,
            "cold, no Jupyter: python + the imports": cold_process,
            "warm: fork + sandbox + fresh shell + imports": lambda: warm_fork(server),
        }
        times: dict[str, list[float]] = {label: [] for label in rows}
        with server:
            warm_fork(server)  # the first fork also touches pages the later ones share
            for _ in range(args.runs):
                for label, measure in rows.items():
                    times[label].append(measure())
            report = server.report
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = statistics.median(next(iter(times.values())))
    print(f"per-submission start-up, median of {args.runs} rounds, {args.threads} thread(s); {heading}")
    print(f"{'':48} {'seconds':>8} {'x cold':>7} {'speed-up':>9}")
    for label, values in times.items():
        median = statistics.median(values)
        print(f"{label:48} {median:8.3f} {median / base:7.3f} {base / median:8.1f}x")
    print(f"{'once per worker: start the fork server':48} {server_start:8.3f}")
    print(f"1-minute load average: {load_before:.2f} before the run, {os.getloadavg()[0]:.2f} at its end")
    print(report)


if __name__ == "__main__":
    main()
