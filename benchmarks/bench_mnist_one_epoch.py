"""One epoch over the offline MNIST subset: the lecture network with and without its bug,
the lean network and the classic PyTorch example network (the baseline).

Every model trains for one epoch on all 5,000 offline digits, batch 32, seed 1,
with its own usual optimizer (lecture: SGD lr 0.01 momentum 0.9; lean: SGD with
Nesterov momentum and a one-cycle schedule; baseline: Adadelta lr 1.0, as in the
PyTorch example). Each (model, run) trains in a fresh child process, round by
round, so every model sees the same background load and its peak memory is its
own. Reported per model:

- seconds per epoch: the median over the runs (training only, not testing);
- images per second: 5,000 divided by that median;
- peak memory: the peak resident set size of the child process
  (``resource.getrusage(RUSAGE_SELF).ru_maxrss``), and how much of it training
  added to what the process held just before the first batch;
- accuracy on the real MNIST test set when ``--test-folder``, ``$EVALIB_MNIST`` or a
  ``shared/data/mnist`` beside the checkout (or the checkout it was cloned from) holds
  it; skipped with a message naming where it looked otherwise. Training is deterministic, so every run scores the same; the first
  run's score is shown.

Ratios compare with the baseline measured in the same run.

    python benchmarks/bench_mnist_one_epoch.py [--runs 3] [--threads N]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import find_mnist_test_set  # noqa: E402  (the tests' own search, so both look in the same places)
BATCH = 32
SEED = 1

#: label -> (model expression, optimizer recipe); the baseline comes first.
MODELS = {
    "classic example (baseline)": ("ClassicNet()", "adadelta"),
    "lecture, bug (final ReLU)": ("LectureNet(final_relu=True)", "lecture"),
    "lecture, fixed": ("LectureNet(final_relu=False)", "lecture"),
    "lean": ("LeanNet()", "one-cycle"),
}
BASELINE = "classic example (baseline)"


def train_once(label: str, threads: int, test_folder: str | None) -> dict:
    """Child process: build, train one epoch, test; return the measurements."""
    import resource

    import torch

    import evalib

    torch.set_num_threads(threads)
    data = evalib.load_mnist("offline", val_size=0, seed=SEED, test_folder=test_folder, verbose=False)
    loaders = evalib.mnist_loaders(data, batch_size=BATCH, seed=SEED)
    expression, recipe = MODELS[label]
    evalib.seed_everything(SEED)
    model = eval(expression, vars(evalib))  # noqa: S307 - expressions are the constants above
    scheduler = None
    if recipe == "lecture":
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    elif recipe == "one-cycle":
        optimizer, scheduler = evalib.one_cycle_sgd(model, max_lr=0.05, total_steps=len(loaders.train))
    else:
        optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    history = evalib.fit(model, loaders.train, loaders.test if test_folder else None,
                         optimizer=optimizer, scheduler=scheduler, seed=SEED, device="cpu", progress=False)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    epoch = history.final
    return {
        "seconds": epoch.seconds,
        "images": epoch.images,
        "accuracy": epoch.test_accuracy if test_folder else None,
        "rss_peak_mib": rss_peak / 1024,
        "rss_added_mib": (rss_peak - rss_before) / 1024,
        "params": sum(p.numel() for p in model.parameters()),
    }


def run_child(label: str, threads: int, test_folder: str | None) -> dict:
    command = [sys.executable, __file__, "--child", label, "--threads", str(threads)]
    if test_folder:
        command += ["--test-folder", test_folder]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"{label} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--test-folder", default=None, help="folder with the MNIST t10k IDX files")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(train_once(args.child, args.threads, args.test_folder)))
        return

    test_folder = args.test_folder
    if test_folder is None:
        found, looked = find_mnist_test_set(ROOT)
        test_folder = None if found is None else str(found)
        if found is None:
            print("accuracy skipped: the real MNIST test set is in none of " + ", ".join(map(str, looked))
                  + " (pass --test-folder or set EVALIB_MNIST)")

    import torch

    print(f"torch {torch.__version__}, {args.threads} thread(s), {os.cpu_count()} CPU(s); "
          f"one epoch over 5,000 offline digits, batch {BATCH}, seed {SEED}, {args.runs} runs each")
    results: dict[str, list[dict]] = {label: [] for label in MODELS}
    start = time.perf_counter()
    for run in range(1, args.runs + 1):
        for label in MODELS:
            results[label].append(run_child(label, args.threads, test_folder))
            r = results[label][-1]
            print(f"  run {run}: {label}: {r['seconds']:.1f} s", flush=True)
    print(f"total wall time {time.perf_counter() - start:.0f} s\n")

    summary = {}
    for label, runs in results.items():
        seconds = statistics.median(r["seconds"] for r in runs)
        summary[label] = {
            "params": runs[0]["params"],
            "seconds": seconds,
            "spread": (min(r["seconds"] for r in runs), max(r["seconds"] for r in runs)),
            "ips": runs[0]["images"] / seconds,
            "peak": max(r["rss_peak_mib"] for r in runs),
            "added": max(r["rss_added_mib"] for r in runs),
            "accuracy": runs[0]["accuracy"],
        }
    base = summary[BASELINE]
    print("| model | params | s / epoch (median, min-max) | images / s | peak RSS MiB (added by training) "
          "| test accuracy | time vs baseline | accuracy vs baseline |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, s in summary.items():
        acc = f"{s['accuracy']:.2%}" if s["accuracy"] is not None else "skipped"
        dacc = (f"{100 * (s['accuracy'] - base['accuracy']):+.1f} pts" if s["accuracy"] is not None else "-")
        print(f"| {label} | {s['params']:,} | {s['seconds']:.1f} ({s['spread'][0]:.1f}-{s['spread'][1]:.1f}) "
              f"| {s['ips']:,.0f} | {s['peak']:,.0f} ({s['added']:,.0f}) | {acc} "
              f"| {s['seconds'] / base['seconds']:.2f}x | {dacc} |")
    lean, fixed = summary["lean"], summary["lecture, fixed"]
    print(f"\nlean network: {fixed['seconds'] / lean['seconds']:.1f}x faster per epoch than the lecture network")


if __name__ == "__main__":
    main()
