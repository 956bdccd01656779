"""A student's network trained and evaluated apart: two fresh sandboxed runs, labels on this side only.

For a question that asks for a network that learns (assignment 4's ``MyNet``), the notebook's
own training run proves nothing: the student's process could hold the answers. So the grader

1. runs the cells that define the network in a fresh sandboxed kernel and trains it there with
   the course's recipe (:func:`evalib.checks.apart.train`), which sends back everything the
   network holds as plain data;
2. counts, here, every number in that data against the budget;
3. runs the same cells in a second fresh kernel whose sandbox holds no digits at all (the copy
   of evalib it imports has no data files, and no other data set is visible), loads what the
   first kernel sent and predicts images it is given (:func:`evalib.checks.apart.predict`);
4. compares the predictions with the labels, which never leave this process.

The images are the digits of ``$EVALIB_MNIST`` or ``[grading] mnist_test`` in course.toml (an IDX
folder: MNIST's test set, or better digits of the course's own) when the grading machine has them,
else the 500 held-out offline digits; either way with a little noise whose seed comes from the
hand-in itself, so that looking a digit up by its exact pixels fails while a network that learned
is not disturbed. The noise does not stop a network that keeps a coarse copy of every evaluation
digit and returns the label of the nearest: 500 digits at 4x4 pixels fit in the parameter budget.
Only digits the students cannot have (not MNIST's test set, which is public) stop that.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ..results.record import QuestionResult
from ..source import SourceAssignment

__all__ = ["Apart", "APART", "evaluation_digits", "grade_apart"]


@dataclass(frozen=True)
class Apart:
    """A question judged apart: its test cell, the cells that define the network, the cells not run."""

    question: str
    cells: tuple[str, ...]
    skip: tuple[str, ...] = ()
    cls: str = "MyNet"
    lr_name: str = "MAX_LR"


#: The questions of each assignment that are judged apart.
APART: dict[str, Apart] = {
    "a4_mnist_one_epoch": Apart("test_accuracy", cells=("imports", "my_net"), skip=("train",)),
}

NOISE = 0.02  # std of the noise added to the offline digits, in pixel units ([0, 1])


def _mnist_test_folder() -> Path | None:
    from ..course import course_config

    for candidate in (os.environ.get("EVALIB_MNIST"), course_config().get("grading", {}).get("mnist_test")):
        if candidate and Path(candidate).expanduser().is_dir():
            return Path(candidate).expanduser()
    return None


def evaluation_digits(seed_bytes: bytes, count: int = 1000):
    """(images in [0, 1] of shape (N, 1, 28, 28), labels, a line saying which digits they are)."""
    import torch

    images = labels = None
    folder = _mnist_test_folder()
    if folder is not None:
        from evalib.mnist.data import load_idx_folder

        try:
            images, labels = load_idx_folder(folder, "test")
            images, labels = images[:count].float(), labels[:count]
            which = f"the first {len(labels):,} digits of the test set in {folder.name}"
        except (OSError, ValueError):
            images = labels = None
    if images is None:
        from evalib.mnist.data import load_mnist

        data = load_mnist(source="offline", val_size=500, seed=1, verbose=False)
        images, labels = data.test_images.float(), data.test_labels
        which = f"the {len(labels)} held-out digits"
    seed = int.from_bytes(hashlib.sha256(b"evaluation digits\n" + seed_bytes).digest()[:8], "big")
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed)) * NOISE
    return (images + noise).clamp(0.0, 1.0), labels, f"{which}, with a little noise"


def _budget_line(counted: dict, budget: int) -> str | None:
    total = counted.get("parameters", 0) + counted.get("attributes", 0)
    if total <= budget:
        return None
    extra = counted.get("attributes", 0)
    more = f" ({counted.get('parameters', 0):,} parameters and {extra:,} more numbers in its attributes)" if extra else ""
    return f"MyNet holds {total:,} numbers{more}: over the budget of {budget:,}, so its accuracy does not count."


def grade_apart(spec: Apart, cells: dict[str, str], source: SourceAssignment, run_train: Callable[[list], list],
                run_eval: Callable[[list], list], seed_bytes: bytes, epochs: int = 1,
                limit: int | None = None) -> tuple[QuestionResult, list[str]]:
    """The question's result and notes for the report; ``run_train``/``run_eval`` run a plan in a fresh sandbox."""
    from evalib.checks.apart import LIMITS, count_held
    from evalib.checks.plain import to_plain
    from evalib.checks.question import error_type

    key = source.by_id(spec.question).hidden.get("key", {})
    target, budget = float(key.get("target", 0.95)), int(key.get("budget", 20_000))
    points = source.by_id(spec.question).points
    title = source.title(spec.question)

    def result(state: str, got: float, message: str, hint: str = "", answer: str | None = None) -> QuestionResult:
        return QuestionResult(spec.question, title, "auto", points, got, state, message, answer, hint)

    define = [{"op": "cell", "index": i, "source": cells[gid], "timeout": 120.0}
              for i, gid in enumerate(spec.cells) if gid in cells]
    if not any(gid in cells and gid not in ("imports",) for gid in spec.cells):
        return result("not attempted", 0.0, f"{spec.cls} is not defined yet."), []
    train_args = {"class": spec.cls, "lr_name": spec.lr_name, "seed": 1, "epochs": epochs}
    if limit:
        train_args["limit"] = limit
    trained = _probe(run_train(define + [{"op": "probe", "question": spec.question, "call": "evalib.checks.apart:train",
                                          "args": train_args, "timeout": 600.0}]), spec.question)
    notes: list[str] = []
    if isinstance(trained, str):
        return result("error", 0.0, f"{spec.cls} could not be trained by the grader: {trained}."), notes
    if not trained.get("ok"):
        error = str(trained.get("error", "no reason given"))[:300]
        if trained.get("empty"):
            return result("not attempted", 0.0, f"{spec.cls} has no layers yet: not attempted yet."), notes
        state = "not attempted" if "is not defined" in error else "wrong"
        return result(state, 0.0, f"{spec.cls} could not be trained by the grader ({error}).",
                      f"Run {spec.cls}()(torch.randn(2, 1, 28, 28)) in a cell of your own to see the error."), notes
    counted = count_held(trained["held"])
    if counted["parameters"] == 0:
        return result("not attempted", 0.0, f"{spec.cls} has no layers yet: not attempted yet."), notes
    over = _budget_line(counted, budget)
    if over:
        return result("wrong", 0.0, over, "Count every number the network keeps; stay within the budget."), notes
    images, labels, which = evaluation_digits(seed_bytes)
    predicted = _probe(run_eval(define + [{"op": "probe", "question": spec.question, "call": "evalib.checks.apart:predict",
                                          "timeout": 300.0, "args": {"class": spec.cls, "held": trained["held"],
                                                                     "images": to_plain(images, LIMITS),
                                                                     "mean": trained["mean"], "std": trained["std"]}}]),
                       spec.question)
    if isinstance(predicted, str) or not predicted.get("ok"):
        # The evaluation run holds the evaluation images: of an error there, only its type is told
        # (its text could carry pixels). A string is a cell's error (before any image came) or ours.
        why = predicted if isinstance(predicted, str) else error_type(predicted.get("error"))
        return result("wrong", 0.0, f"The trained {spec.cls} could not be evaluated ({why}).",
                      f"{spec.cls} must be rebuilt from its class alone: keep everything it learns in its layers."), notes
    counted = predicted.get("counted") if isinstance(predicted.get("counted"), dict) else {}
    counted = {k: v for k, v in counted.items() if k in ("parameters", "attributes") and type(v) is int}
    if _budget_line(counted, budget):  # its own count, from the run that saw the images: not quoted
        return result("wrong", 0.0, f"Rebuilt for the evaluation, {spec.cls} holds more numbers than the budget of "
                                    f"{budget:,}, so its accuracy does not count."), notes
    guesses = predicted.get("predictions", [])
    if not isinstance(guesses, list) or len(guesses) != len(labels):
        return result("wrong", 0.0, f"The trained {spec.cls} did not give one prediction per digit."), notes
    right = sum(int(isinstance(p, int) and p == int(y)) for p, y in zip(guesses, labels.tolist()))
    accuracy = right / len(labels)
    shown = f"{accuracy:.1%} of {which}"
    notes.append(f"{spec.question}: trained apart ({counted['parameters']:,} parameters); {shown} right")
    if accuracy >= target:
        return result("correct", points, f"{spec.cls}, trained by the grader for one epoch, gets {shown} right "
                                         f"(target {target:.0%}).", answer=shown), notes
    from evalib.exercises.a4_mnist_one_epoch import accuracy_hint

    hint = accuracy_hint(accuracy, len(set(guesses)),
                         "check that the loss falls when you run the training cell, and that forward ends with log_softmax.")
    return result("wrong", 0.0, f"{spec.cls}, trained by the grader for one epoch, does not reach {target:.0%} yet.",
                  hint, shown), notes


def _probe(events: Sequence[dict], question: str) -> dict | str:
    """The data of the run's probe, or a line saying why there is none (a cell's error, a stopped run)."""
    for event in events:
        if event.get("event") == "probe" and event.get("question") == question:
            if event.get("error"):
                return str(event["error"])[:300]
            return event.get("data") if isinstance(event.get("data"), dict) else "no data came back"
    errors = [f"cell {e.get('index')}: {e.get('error')}" for e in events if e.get("event") == "cell" and e.get("status") == "error"]
    last = events[-1] if events else {}
    if errors:
        return "; ".join(errors)[:300]
    return str(last.get("reason") or "the run stopped before the network was trained")[:300]
