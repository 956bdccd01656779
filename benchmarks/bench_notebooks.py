"""How long each teaching notebook takes to run top to bottom in a fresh kernel.

Each notebook runs headless through nbclient in a new python3 kernel limited to
``--threads`` threads (two by default, the course machines' cores), the way CI
and ``make demo`` run them. The baseline is a one-cell notebook that only
imports evalib and torch: the fixed cost of starting a kernel, measured in the
same run, so the table also shows each notebook's time as a multiple of it.

The targets come from the course's issues: lessons 1-3 under 60 s each, lessons
4 and 5 under 180 s each, on two cores.

    python benchmarks/bench_notebooks.py [--runs 1] [--threads 2]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TARGET_S = {"01": 60, "02": 60, "03": 60, "04": 180, "05": 180}
BASELINE = "kernel start + import evalib"


def run_once(nb: nbformat.NotebookNode, cwd: Path) -> float:
    """Seconds to execute a copy of ``nb`` in a fresh kernel."""
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs per notebook; the median is reported")
    parser.add_argument("--threads", type=int, default=2, help="threads for torch and BLAS in the kernel")
    args = parser.parse_args()
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    os.environ.setdefault("MPLBACKEND", "Agg")

    baseline_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch\nimport evalib")])
    jobs = [(BASELINE, baseline_nb, None)]
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        jobs.append((path.name, nbformat.read(path, as_version=4), TARGET_S.get(path.name[:2])))

    times: dict[str, list[float]] = {label: [] for label, _, _ in jobs}
    for _ in range(args.runs):  # round by round, so every notebook sees the same background load
        for label, nb, _ in jobs:
            times[label].append(run_once(nbformat.from_dict(nb), NOTEBOOKS))

    base = statistics.median(times[BASELINE])
    print(f"{'notebook':42} {'seconds':>8} {'x baseline':>11} {'target s':>9} {'of target':>10}")
    for label, _, target in jobs:
        median = statistics.median(times[label])
        share = f"{median / target:.0%}" if target else "-"
        print(f"{label:42} {median:8.1f} {median / base:11.1f} {target or '-':>9} {share:>10}")
    print(f"runs: {args.runs}, threads: {args.threads}, cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
