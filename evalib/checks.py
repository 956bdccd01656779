"""Student-facing self-checks for the assignments.

A check compares a student's value with the right one and either prints a
short "correct" line or raises :class:`CheckFailed`, whose message says in
plain words what is wrong and gives a hint. The right answer is never shown.
Answers that many students really give (see the syllabus) get a targeted hint.

In Jupyter (and so in nbgrader) a failed check shows only its message, with no
traceback: the exception renders itself through IPython's
``_render_traceback_`` hook. The cell still counts as failed, because an error
was raised, which is what nbgrader's autograder looks for.

The message of a failed check has three parts, one per line: a title, the
student's own value after ``Your answer:`` and a hint. The grading side reads
the ``Your answer:`` line to tally the most common wrong answers.

>>> check_conv_count(99)
✓ correct: 99 convolutions.
>>> try:
...     check_conv_count(100)
... except CheckFailed as failure:
...     print(failure.hint.split(":")[0])
You counted the sizes in the chain
"""
from __future__ import annotations

import ast
import contextlib
import math
import re
import types
from typing import Any, Callable, Iterable, Iterator, Sequence

__all__ = [
    "CheckFailed",
    "NotAttempted",
    "passed",
    "parse_chain",
    "expected_chain",
    "check_chain",
    "check_conv_count",
    "check_pool_plan",
    "check_number",
    "check_choice",
    "check_rf_list",
    "check_size",
    "check_tensor",
    "check_conv2d_function",
    "check_diagnosis",
    "check_fixed_net",
    "check_written",
    "LECTURE_SPECS",
    "parse_annotations",
    "check_layer_sizes",
    "check_layer_rfs",
    "check_mean_std_function",
    "check_mean_std",
    "check_loaders",
    "count_parameters",
    "check_small_net",
    "check_trained_model",
    "SHAPE_HELPERS",
    "CONV_HELPERS",
    "INIT_HELPERS",
    "forbidden_helpers",
    "call_without_helpers",
    "uses_forbidden",
    "hidden_failure",
    "DATA_HELPERS",
    "SHAPE_RESULTS",
    "computed_with",
]


# ---------------------------------------------------------------------------
# Outcomes
# ---------------------------------------------------------------------------
class CheckFailed(AssertionError):
    """A self-check that did not pass; the message is meant for the student.

    Jupyter shows only the message (no traceback), thanks to
    ``_render_traceback_``. ``answer`` is the short form of the student's value
    (or ``None``) and ``hint`` the advice.
    """

    def __init__(self, title: str, answer: str | None = None, hint: str = "") -> None:
        self.title = title
        self.answer = answer
        self.hint = hint
        lines = [title]
        if answer is not None:
            lines.append(f"Your answer: {answer}")
        if hint:
            lines.append(hint)
        super().__init__("\n".join(lines))

    def _render_traceback_(self) -> list[str]:  # IPython hook: what the notebook shows
        red, bold, reset = "\x1b[31m", "\x1b[1m", "\x1b[0m"
        lines = str(self).split("\n")
        return [f"{red}{bold}✗ {lines[0]}{reset}"] + lines[1:]


class NotAttempted(CheckFailed):
    """The answer is still the placeholder left in the released notebook."""

    def __init__(self, what: str = "this answer") -> None:
        super().__init__(
            "Not attempted yet.",
            None,
            f"Replace the placeholder of {what} with your own answer, run that cell, then run this check again.",
        )


def passed(message: str = "") -> None:
    """Print the line a student sees when a check passes."""
    print("✓ correct" + (f": {message}" if message else "."))


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _placeholder(value: Any) -> bool:
    if value is None or value is Ellipsis:
        return True
    return isinstance(value, str) and value.strip() in ("", "YOUR ANSWER HERE", "...")


def _call(function: Callable, *args, what: str = "your function", **kwargs) -> Any:
    """Call student code, turning a crash into a friendly failure."""
    if not callable(function):
        raise CheckFailed(f"{what} is not a function.", _short(function), "Define it with `def` in the cell above and run that cell.")
    try:
        result = function(*args, **kwargs)
    except NotImplementedError:
        raise NotAttempted(what) from None
    except CheckFailed:
        raise
    except Exception as error:  # the student's bug, reported without a traceback
        raise CheckFailed(
            f"{what} stopped with an error.",
            None,
            f"{type(error).__name__}: {error}. Run it yourself on a small example to see where it goes wrong.",
        ) from None
    if result is None:
        raise NotAttempted(what)
    return result


# ---------------------------------------------------------------------------
# Chains of sizes such as "199x199 > 197x197 > ... > 1x1"
# ---------------------------------------------------------------------------
_PAIR = re.compile(r"(\d+)\s*[xX×*]\s*(\d+)")


def parse_chain(answer: Any) -> list[tuple[int, int]]:
    """Read a chain of sizes however it was written.

    Accepts a string with any separator (``>``, ``-->``, commas, new lines,
    table bars) and sizes as ``199x199``, ``199 X 199``, ``199×199``, or a list
    of sizes (ints, pairs or strings). A string without any ``AxB`` is read as
    a list of square sizes.

    >>> parse_chain("7x7 --> 5 X 5\\n3x3 > 1x1")
    [(7, 7), (5, 5), (3, 3), (1, 1)]
    >>> parse_chain([7, 5, (3, 3), "1x1"])
    [(7, 7), (5, 5), (3, 3), (1, 1)]
    """
    if isinstance(answer, str):
        pairs = [(int(a), int(b)) for a, b in _PAIR.findall(answer)]
        if pairs:
            return pairs
        return [(int(n), int(n)) for n in re.findall(r"\d+", answer)]
    out: list[tuple[int, int]] = []
    for item in answer:
        if isinstance(item, str):
            out.extend(parse_chain(item))
        elif isinstance(item, Sequence) and len(item) >= 2:
            out.append((int(item[0]), int(item[1])))
        else:
            out.append((int(item), int(item)))
    return out


def expected_chain(size: int, kernel: int = 3) -> list[int]:
    """Square sizes from ``size`` down, one valid (unpadded, stride 1) convolution at a time.

    >>> expected_chain(7)
    [7, 5, 3, 1]
    >>> expected_chain(8, 5)
    [8, 4]
    """
    sizes = [size]
    while sizes[-1] - (kernel - 1) >= 1:
        sizes.append(sizes[-1] - (kernel - 1))
    return sizes


def _chain_problem(pairs: list[tuple[int, int]], size: int, kernel: int) -> str | None:
    """The first thing wrong with a parsed chain, as a hint, or None when right."""
    want = expected_chain(size, kernel)
    shrink = kernel - 1
    if not pairs:
        return f"I could not find any sizes in it. Write each size like {size}x{size}, separated by '>'."
    if pairs[0] != (size, size):
        return f"The chain should start with the input itself, {size}x{size}."
    for i, (got, right) in enumerate(zip(pairs, want)):
        h, w = got
        if h != w and right in (h, w):
            return f"Size number {i + 1} reads {h}x{w}: looks like a typo, the image stays square."
        if (h, w) == (right, right):
            continue
        prev = want[i - 1]
        if h == prev:
            return f"After {prev}x{prev} the size stays the same: that happens with padding 1, but this chain has no padding."
        if h == prev - 1 and shrink != 1:
            return (f"After {prev}x{prev} you shrink by 1; a {kernel}x{kernel} kernel without padding "
                    f"cannot be centred on the outer {shrink // 2} pixel(s) at each border, so each side loses {shrink}.")
        return f"Size number {i + 1} ({h}x{w}) does not follow from the one before it. Each convolution removes {shrink} pixels from each side length."
    if len(pairs) < len(want):
        h = pairs[-1][0]
        return f"Your chain stops at {h}x{h}, but another {kernel}x{kernel} convolution still fits. Keep going until the next one would not fit."
    if len(pairs) > len(want):
        return f"Your chain goes past {want[-1]}x{want[-1]}: a {kernel}x{kernel} kernel does not fit into a smaller image without padding."
    return None


def check_chain(answer: Any, size: int = 199, kernel: int = 3) -> None:
    """Check a chain of sizes from ``size`` down to the last valid convolution."""
    if _placeholder(answer):
        raise NotAttempted("the chain")
    try:
        pairs = parse_chain(answer)
    except (TypeError, ValueError):
        raise CheckFailed("I could not read this chain.", _short(answer), "Write it as text like '7x7 > 5x5 > 3x3 > 1x1', or as a list of sizes.") from None
    problem = _chain_problem(pairs, size, kernel)
    if problem:
        raise CheckFailed(f"The chain from {size}x{size} is not right yet.", _short(answer), problem)
    passed(f"{len(pairs)} sizes, {len(pairs) - 1} convolutions.")


def check_conv_count(answer: Any, size: int = 199, kernel: int = 3) -> None:
    """Check the number of convolutions needed to go from ``size`` to the end of the chain."""
    if _placeholder(answer):
        raise NotAttempted("the number of convolutions")
    right = len(expected_chain(size, kernel)) - 1
    if _as_number(answer) == right:
        passed(f"{right} convolutions.")
        return
    value = _as_number(answer)
    if value == right + 1:
        hint = ("You counted the sizes in the chain: every size, including the input, is one entry, but the "
                "convolutions are the arrows between them; there is one arrow fewer than sizes.")
    elif value == size - 1 or value == 2 * right:
        hint = f"Each {kernel}x{kernel} convolution without padding shrinks a side by {kernel - 1}, not by 1."
    elif value == right - 1:
        hint = "One short: count the step that produces the last size too."
    else:
        hint = f"Write the chain out for a small size (7x7 > 5x5 > ...) and count the arrows; then do the same for {size}."
    raise CheckFailed("Not the right number of convolutions.", _short(answer), hint)


def check_pool_plan(answer: Any, start: int = 100, kernel: int = 3, min_convs: int = 2, best: int | None = 10) -> None:
    """Check a plan from ``start`` down to 1x1 with 2x2 max pools (odd rows dropped).

    Every step must be a valid convolution (side shrinks by ``kernel - 1``) or a max
    pool (side halves, rounded down) after at least ``min_convs`` convolutions; the
    plan ends at 1x1 and, when ``best`` is given, uses that few convolutions.
    """
    if _placeholder(answer):
        raise NotAttempted("the plan")
    try:
        sizes = [h for h, _ in parse_chain(answer)]
    except (TypeError, ValueError):
        sizes = []
    title = f"The plan from {start}x{start} is not right yet."
    if not sizes or sizes[0] != start:
        raise CheckFailed(title, _short(answer), f"Start the plan with the input, {start}x{start}, and write every size like 48x48.")
    convs, since_pool = 0, 0
    for before, after in zip(sizes, sizes[1:]):
        if after == before - (kernel - 1):
            convs, since_pool = convs + 1, since_pool + 1
        elif after == before // 2:
            if since_pool < min_convs:
                raise CheckFailed(title, _short(answer), f"{before}x{before} is pooled after only {since_pool} convolution(s); the rules ask for at least {min_convs} before each pool.")
            since_pool = 0
        elif before % 2 == 1 and after == (before + 1) // 2:
            raise CheckFailed(title, _short(answer), f"Pooling {before}x{before} gives {before // 2}x{before // 2}: the odd last row and column are dropped.")
        else:
            raise CheckFailed(title, _short(answer), f"{before}x{before} > {after}x{after} is neither a {kernel}x{kernel} convolution (minus {kernel - 1}) nor a 2x2 max pool (half).")
    if sizes[-1] != 1:
        raise CheckFailed(title, _short(answer), f"The plan should end at 1x1; it stops at {sizes[-1]}x{sizes[-1]}.")
    if best is not None and convs > best:
        raise CheckFailed(title, _short(answer), f"Your plan is valid but uses {convs} convolutions; pool as soon as the rules allow to need fewer.")
    passed(f"a valid plan with {convs} convolutions.")


# ---------------------------------------------------------------------------
# Numbers, sizes, choices
# ---------------------------------------------------------------------------
def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, str):
            value = value.replace(",", "").replace("_", "").strip()
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else number


def check_number(
    answer: Any,
    right: float,
    what: str = "this number",
    wrong: dict | None = None,
    rel_tol: float = 0.0,
    hint: str = "",
) -> None:
    """Compare a number; ``wrong`` maps known wrong answers to targeted hints."""
    if _placeholder(answer):
        raise NotAttempted(what)
    value = _as_number(answer)
    if value is None:
        raise CheckFailed(f"{what.capitalize()} should be a number.", _short(answer), "Give a plain int or float, without units.")
    if math.isclose(value, right, rel_tol=rel_tol, abs_tol=0 if rel_tol else 1e-9):
        passed(what)
        return
    for known, known_hint in (wrong or {}).items():
        if math.isclose(value, known, rel_tol=1e-9, abs_tol=1e-9):
            raise CheckFailed(f"{what.capitalize()} is not right yet.", _short(answer), known_hint)
    raise CheckFailed(f"{what.capitalize()} is not right yet.", _short(answer), hint or "Work it out again step by step.")


def check_size(answer: Any, right: Sequence[int], what: str = "this size", wrong: dict | None = None, hint: str = "") -> None:
    """Compare a size given as ``(h, w)``, ``(h, w, c)``, ``"45x47"`` or ``"45x47x3"``."""
    if _placeholder(answer):
        raise NotAttempted(what)
    try:
        if isinstance(answer, str):
            got = tuple(int(n) for n in re.findall(r"\d+", answer))
        elif hasattr(answer, "__iter__"):
            got = tuple(int(n) for n in answer)
        else:
            got = (int(answer),)
    except (TypeError, ValueError):
        got = ()
    right = tuple(right)
    if got == right:
        passed(f"{what}.")
        return
    for known, known_hint in (wrong or {}).items():
        if got == tuple(known):
            raise CheckFailed(f"{what.capitalize()} is not right yet.", _short(answer), known_hint)
    if len(got) != len(right):
        hint = hint or f"Give {len(right)} numbers, in the order the question asks for."
    raise CheckFailed(f"{what.capitalize()} is not right yet.", _short(answer), hint or "Apply the output-size rule to each side separately.")


def check_choice(answer: Any, right: str, what: str = "this question", wrong: dict | None = None, options: Iterable[str] = "abcde") -> None:
    """Multiple choice: ``answer`` is a letter; ``wrong`` maps letters to hints."""
    if _placeholder(answer):
        raise NotAttempted(what)
    letter = str(answer).strip().strip("()").lower()[:1]
    if letter not in set(options):
        raise CheckFailed(f"{what.capitalize()}: answer with one letter.", _short(answer), f"Choose one of {', '.join(repr(o) for o in options)}.")
    if letter == right:
        passed(what)
        return
    raise CheckFailed(f"{what.capitalize()} is not right yet.", _short(answer), (wrong or {}).get(letter, "Read the options again; think about what each one would change."))


def check_rf_list(answer: Any, right: Sequence[int], what: str = "the receptive fields", shortcut: Sequence[int] | None = None,
                  no_jump: Sequence[int] | None = None) -> None:
    """Compare a list of receptive fields, one per layer, and explain the classic mistakes."""
    if _placeholder(answer):
        raise NotAttempted(what)
    try:
        got = [int(_as_number(v)) for v in answer]
    except (TypeError, ValueError):
        raise CheckFailed(f"{what.capitalize()} should be a list of whole numbers, one per layer.", _short(answer)) from None
    right = list(right)
    if got == right:
        passed(f"{what}: {len(right)} layers.")
        return
    if len(got) != len(right):
        raise CheckFailed(f"{what.capitalize()} should have one value per layer ({len(right)} layers, max pools included).", _short(answer))
    last = got[-1]
    if shortcut is not None and (got == list(shortcut) or last == shortcut[-1]):
        hint = ("This is the lecture's shortcut (a max pool doubles the RF). The exact rule adds (k - 1) * jump "
                "per layer, and a 2x2 pool with stride 2 adds only 1 * jump but doubles the jump for every later layer.")
    elif (no_jump is not None and got == list(no_jump)) or last == 22:
        hint = ("It looks like every layer adds k - 1 no matter where it sits: after a stride-2 max pool each "
                "input step of a later layer is `jump` pixels apart, so a 3x3 convolution adds 2 * jump. "
                "Padding does not change the RF.")
    else:
        first = next(i for i, (a, b) in enumerate(zip(got, right)) if a != b)
        hint = f"The first value that differs is layer {first + 1}. Use rf_out = rf_in + (k - 1) * jump_in, jump_out = jump_in * stride."
    raise CheckFailed(f"{what.capitalize()} are not right yet.", _short(answer), hint)


# ---------------------------------------------------------------------------
# Tensors and a hand-written convolution
# ---------------------------------------------------------------------------
def check_tensor(answer: Any, right: Any, what: str = "this tensor", wrong: dict | None = None, atol: float = 1e-5) -> None:
    """Compare a tensor (or nested list) with the right one; ``wrong`` maps names to (tensor, hint)."""
    import torch

    if _placeholder(answer):
        raise NotAttempted(what)
    try:
        got = torch.as_tensor(answer, dtype=torch.float64)
    except Exception:
        raise CheckFailed(f"{what.capitalize()} should be a tensor or a nested list of numbers.", _short(answer)) from None
    right = torch.as_tensor(right, dtype=torch.float64)
    if got.shape == right.shape and torch.allclose(got, right, atol=atol):
        passed(what)
        return
    for known, known_hint in (wrong or {}).values():
        known = torch.as_tensor(known, dtype=torch.float64)
        if got.shape == known.shape and torch.allclose(got, known, atol=atol):
            raise CheckFailed(f"{what.capitalize()} is not right yet.", _short(got.tolist()), known_hint)
    if got.shape != right.shape:
        raise CheckFailed(f"{what.capitalize()} has the wrong shape.", f"shape {tuple(got.shape)}", f"It should have shape {tuple(right.shape)}.")
    raise CheckFailed(f"{what.capitalize()} is not right yet.", _short(got.tolist()), "Some values differ; compare yours with the definition entry by entry.")


def check_conv2d_function(function: Callable, seed: int = 0, in_channels: int = 3, out_channels: int = 2,
                          size: tuple[int, int] = (6, 7), kernel: int = 3, what: str = "your convolution") -> None:
    """Compare a hand-written ``conv(x, weight, bias)`` with PyTorch's ``conv2d`` on random data.

    ``x`` has shape (C_in, H, W), ``weight`` (C_out, C_in, k, k), ``bias`` (C_out,);
    the result must have shape (C_out, H - k + 1, W - k + 1).
    """
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(in_channels, *size, generator=g)
    w = torch.randn(out_channels, in_channels, kernel, kernel, generator=g)
    b = torch.randn(out_channels, generator=g)
    right = F.conv2d(x[None], w, b)[0]
    got = _call(function, x.clone(), w.clone(), b.clone(), what=what)
    try:
        got = torch.as_tensor(got, dtype=right.dtype)
    except Exception:
        raise CheckFailed(f"{what.capitalize()} should return a tensor.", _short(got)) from None
    shape = (out_channels, size[0] - kernel + 1, size[1] - kernel + 1)
    answer = f"a result of shape {tuple(got.shape)} for an input of shape {tuple(x.shape)} and {out_channels} kernels of {kernel}x{kernel}x{in_channels}"
    if tuple(got.shape) != shape:
        if got.dim() == 4 or (got.dim() == 3 and got.shape[0] == out_channels * in_channels):
            hint = "It looks like the channels were not summed: each kernel gives ONE output channel, the sum over all input channels."
        elif got.dim() == 3 and tuple(got.shape[1:]) == tuple(size):
            hint = "The output keeps the input size: without padding a kxk kernel fits only H - k + 1 times down and W - k + 1 times across."
        else:
            hint = "One output channel per kernel, and H - k + 1 by W - k + 1 positions (no padding, stride 1)."
        raise CheckFailed(f"{what.capitalize()} gives the wrong shape.", answer, hint)
    if torch.allclose(got, right, atol=1e-4):
        passed(f"{what} matches PyTorch.")
        return
    if torch.allclose(got, right - b[:, None, None], atol=1e-4):
        hint = "Everything matches except the bias: add bias[o] once to every value of output channel o."
    elif torch.allclose(got, right + b[:, None, None] * (in_channels - 1), atol=1e-4):
        hint = "The bias is added once per input channel; add it once per output value, after summing the channels."
    elif torch.allclose(got, F.conv2d(x[None], w.flip(-1, -2), b)[0], atol=1e-4):
        hint = "You flipped the kernel (textbook convolution). PyTorch's conv2d does not flip: it multiplies the window by the kernel as it is."
    elif torch.allclose(got, F.conv2d(x[None], w.transpose(-1, -2), b)[0], atol=1e-4):
        hint = "Rows and columns of the kernel are swapped: weight[o, c, i, j] multiplies x[c, top + i, left + j]."
    else:
        hint = "Shape is right but values differ. For each output position, multiply the kxk window of every input channel by the kernel, sum everything, then add the bias."
    raise CheckFailed(f"{what.capitalize()} does not match PyTorch.", answer, hint)


# ---------------------------------------------------------------------------
# The buggy-code quiz
# ---------------------------------------------------------------------------
_DIAGNOSIS_HINTS = {
    "learning rate": "A smaller learning rate only slows training; the model still cannot score a class below zero. Look at what happens to the class scores right before log-softmax.",
    "no_grad": "torch.no_grad() is used only in the test loop, where no gradients are needed; removing it changes nothing about training.",
    "fully connected": "Extra fully connected layers add parameters but keep the problem: look at the very last operation on the class scores.",
    "receptive field": "The last layer's RF exceeding the image is harmless (the extra part is padding). Look at the activation on the last layer.",
    "dim": "The missing dim in log_softmax only gives a warning; for a (N, 10) tensor PyTorch picks dim 1 anyway.",
}


def check_diagnosis(answer: Any, right: str, options: dict[str, str], what: str = "the diagnosis") -> None:
    """Multiple-choice diagnosis whose wrong options are answered by topic (learning rate, no_grad, ...)."""
    if _placeholder(answer):
        raise NotAttempted(what)
    letter = str(answer).strip().strip("()").lower()[:1]
    if letter == right:
        passed(what)
        return
    text = options.get(letter, "").lower()
    hint = next((h for key, h in _DIAGNOSIS_HINTS.items() if key in text), "Choose one of the listed letters.")
    raise CheckFailed(f"{what.capitalize()} is not right yet.", _short(answer), hint)


def check_fixed_net(model_class: Any, what: str = "your fixed network") -> None:
    """Check a repaired lecture network: same layers, log-probabilities out, no activation on the class scores.

    The test zeroes the last convolution's weights and gives it known biases, so the
    class scores are exactly those biases: with a ReLU left on them, the negative ones
    become 0, which shows in the log-probabilities.
    """
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    if _placeholder(model_class):
        raise NotAttempted(what)
    model = model_class if isinstance(model_class, nn.Module) else _call(model_class, what=what)
    if not isinstance(model, nn.Module):
        raise CheckFailed(f"{what.capitalize()} should be an nn.Module class.", _short(model))
    from .mnist.models import LectureNet

    if any(isinstance(m, LectureNet) for m in model.modules()):
        raise CheckFailed(f"{what.capitalize()} reuses evalib's LectureNet.", None, "Write the class yourself, layer by layer, so that you see the line you change.")
    params = sum(p.numel() for p in model.parameters())
    if params == 0:
        raise NotAttempted(what)
    if params != 6_379_786:
        raise CheckFailed(f"{what.capitalize()} does not have the lecture's layers.", f"{params:,} parameters",
                          "The fix is one line; keep every layer of the lecture network (6,379,786 parameters).")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    last = convs[-1]
    bias = torch.arange(-5.0, 5.0)
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(bias)
        model.eval()
        out = _call(model, torch.randn(2, 1, 28, 28), what=what)
    if tuple(out.shape) != (2, 10):
        raise CheckFailed(f"{what.capitalize()} returns the wrong shape.", f"shape {tuple(out.shape)} for 2 digits", "Return one row of 10 log-probabilities per digit: shape (N, 10).")
    if torch.allclose(out, F.log_softmax(F.relu(bias), 0).expand(2, 10), atol=1e-5):
        raise CheckFailed(f"{what.capitalize()} still has the bug.", None,
                          "The class scores still pass through an activation after the last convolution, so none of them can be negative.")
    if not torch.allclose(out, F.log_softmax(bias, 0).expand(2, 10), atol=1e-5):
        raise CheckFailed(f"{what.capitalize()} changes more than the bug.", None,
                          "After the last convolution the scores should go straight to log_softmax over the 10 classes.")
    passed(what)


def check_written(answer: Any, what: str = "your written answer", min_words: int = 15) -> None:
    """Only checks that a written answer is there and long enough; a person grades it."""
    if _placeholder(answer):
        raise NotAttempted(what)
    words = len(str(answer).split())
    if words < min_words:
        raise CheckFailed(f"{what.capitalize()} is very short.", f"{words} words", f"Explain in at least {min_words} words.")
    passed(f"{what} is there ({words} words); a person will grade it.")


# ---------------------------------------------------------------------------
# Guards for hidden tests: exercises may not be solved by calling evalib
# ---------------------------------------------------------------------------
#: Helpers that solve an exercise, as "module:attribute", by exercise kind. Hidden tests
#: forbid the group that fits while they call student code (a network may use conv2d; a
#: hand-written convolution may not).
SHAPE_HELPERS = (
    "evalib.design.shapes:conv_output_size",
    "evalib.design.shapes:shrink_chain",
    "evalib.design.shapes:format_chain",
    "evalib.design.shapes:layers_for_rf",
    "evalib.design.shapes:plan_to_one",
    "evalib.design.shapes:conv_weight_count",
    "evalib.design.receptive_field:receptive_field_steps",
    "evalib.design.receptive_field:Geometry.after",
    "evalib.design.summary:summary",
    "evalib.checks:expected_chain",
)
CONV_HELPERS = (
    "evalib.lessons.convolution:conv2d_loops",
    "evalib.lessons.convolution:conv2d_vectorised",
    "evalib.lessons.kernels:apply_kernels",
    "torch.nn.functional:conv2d",
    "torch:conv2d",
    "torch.nn.functional:unfold",
)
INIT_HELPERS = (
    "evalib.lessons.initialization:fans",
    "evalib.lessons.initialization:scheme_std",
    "evalib.lessons.initialization:init_weights_",
    "evalib.lessons.initialization:init_model_",
    "evalib.lessons.initialization:depth_experiment",
    "torch.nn.init:xavier_normal_",
    "torch.nn.init:xavier_uniform_",
    "torch.nn.init:kaiming_normal_",
    "torch.nn.init:kaiming_uniform_",
    "torch.nn.init:_calculate_fan_in_and_fan_out",
    "torch.nn.init:calculate_gain",
)
SOLVING_HELPERS = SHAPE_HELPERS


class _ForbiddenCall(Exception):
    pass


def _resolve(spec: str):
    import importlib

    module_name, _, attribute = spec.partition(":")
    try:
        owner = importlib.import_module(module_name)
    except ImportError:
        return None, None, None
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part, None)
        if owner is None:
            return None, None, None
    return owner, name, getattr(owner, name, None)


@contextlib.contextmanager
def forbidden_helpers(specs: Iterable[str]) -> Iterator[list[str]]:
    """Replace each helper by one that raises, for the duration of the block.

    Yields a list that collects the names of the helpers that were called.
    Also patches the same objects where evalib re-exports them.
    """
    import evalib

    called: list[str] = []
    saved: list[tuple[Any, str, Any]] = []
    for spec in specs:
        owner, name, original = _resolve(spec)
        if original is None:
            continue

        def trap(*args, _spec=spec, **kwargs):
            called.append(_spec)
            raise _ForbiddenCall(_spec)

        targets = [(owner, name)]
        if getattr(evalib, name, None) is original:
            targets.append((evalib, name))
        for target, attr in targets:
            saved.append((target, attr, getattr(target, attr)))
            setattr(target, attr, trap)
    try:
        yield called
    finally:
        for target, attr, original in reversed(saved):
            setattr(target, attr, original)


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def uses_forbidden(function: Callable, specs: Iterable[str] = SOLVING_HELPERS) -> list[str]:
    """Names of forbidden helpers that ``function`` refers to through its globals.

    Catches ``from evalib import shrink_chain`` followed by a call, and
    ``evalib.shrink_chain(...)`` or ``shapes.shrink_chain(...)`` through a module.
    """
    forbidden = {}
    for spec in specs:
        _, name, original = _resolve(spec)
        if original is not None:
            forbidden[id(original)] = spec
    code = getattr(function, "__code__", None)
    if code is None:
        return []
    namespace = dict(getattr(function, "__globals__", {}))
    for name, cell in zip(code.co_freevars, getattr(function, "__closure__", None) or ()):
        try:
            namespace[name] = cell.cell_contents
        except ValueError:  # an empty cell
            pass
    found = []
    for c in _code_objects(code):
        for name in c.co_names + c.co_freevars:
            value = namespace.get(name)
            if value is not None and id(value) in forbidden:
                found.append(forbidden[id(value)])
            if isinstance(value, types.ModuleType) and (value.__name__.startswith("evalib") or value.__name__.startswith("torch")):
                for other in c.co_names:
                    attr = getattr(value, other, None)
                    if attr is not None and id(attr) in forbidden:
                        found.append(forbidden[id(attr)])
    return sorted(set(found))


def call_without_helpers(function: Callable, *args, what: str = "your function", specs: Iterable[str] = SOLVING_HELPERS, **kwargs) -> Any:
    """Call student code while the helpers that solve the exercise are forbidden.

    Raises :class:`CheckFailed` if the function refers to or calls one of them.
    """
    specs = tuple(specs)
    named = uses_forbidden(function, specs)
    if named:
        raise CheckFailed(f"{what.capitalize()} calls a ready-made solution.", None,
                          f"It uses {', '.join(s.replace(':', '.') for s in named)}, which solves this exercise for you. Write the computation yourself.")
    with forbidden_helpers(specs) as called:
        try:
            return _call(function, *args, what=what, **kwargs)
        except CheckFailed:
            if called:
                raise CheckFailed(f"{what.capitalize()} calls a ready-made solution.", None,
                                  f"It uses {called[0].replace(':', '.')}, which solves this exercise for you. Write the computation yourself.") from None
            raise


def hidden_failure(what: str, hint: str = "") -> CheckFailed:
    """The failure a hidden test raises: it says what kind of case failed, never the test's code or the answer."""
    return CheckFailed(f"A hidden test failed: {what}.", None, hint or "Make sure your code works for any input, not only the example in the notebook.")


# ---------------------------------------------------------------------------
# MNIST in one epoch: the lecture network annotated, normalized loaders, a small network
# ---------------------------------------------------------------------------
#: The lecture network (evalib.LectureNet), one entry per layer in the order ``forward`` uses
#: them: (name, kind, kernel, stride, padding, output channels); a max pool keeps its channels.
LECTURE_SPECS = (
    ("conv1", "conv", 3, 1, 1, 32),
    ("conv2", "conv", 3, 1, 1, 64),
    ("pool1", "pool", 2, 2, 0, None),
    ("conv3", "conv", 3, 1, 1, 128),
    ("conv4", "conv", 3, 1, 1, 256),
    ("pool2", "pool", 2, 2, 0, None),
    ("conv5", "conv", 3, 1, 0, 512),
    ("conv6", "conv", 3, 1, 0, 1024),
    ("conv7", "conv", 3, 1, 0, 10),
)

_ANNOTATION_FORMAT = ("Write one entry per layer, in order, as (input, output, rf) or (name, input, output, rf), "
                      "with sizes like '28x28x1' (height x width x channels) and the RF as a number.")


def _annotate(specs: Sequence[tuple], size: tuple[int, int, int]) -> list[tuple[tuple[int, int, int], tuple[int, int, int], int]]:
    """(input, output, rf) per layer, with the exact rule; plain arithmetic, no evalib helper."""
    h, w, c = size
    rf, jump = 1, 1
    rows = []
    for _, _, k, s, p, c_out in specs:
        before = (h, w, c)
        h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        c = c if c_out is None else c_out
        rf, jump = rf + (k - 1) * jump, jump * s
        rows.append((before, (h, w, c), rf))
    return rows


def _shortcut_rfs(specs: Sequence[tuple]) -> list[int]:
    """RFs by the lecture's shortcut: a convolution adds k - 1, a max pool doubles the RF."""
    rf, out = 1, []
    for _, kind, k, *_ in specs:
        rf = rf * 2 if kind == "pool" else rf + k - 1
        out.append(rf)
    return out


def _no_jump_rfs(specs: Sequence[tuple]) -> list[int]:
    """RFs when every layer adds k - 1 and the jump is forgotten."""
    rf, out = 1, []
    for _, _, k, *_ in specs:
        rf += k - 1
        out.append(rf)
    return out


def _numbers(value: Any) -> tuple[int, ...]:
    """The whole numbers in a size or RF written as text, a number or a sequence."""
    if isinstance(value, str):
        return tuple(int(n) for n in re.findall(r"\d+", value))
    if isinstance(value, bool) or value is None:
        return ()
    if hasattr(value, "__iter__"):
        out: tuple[int, ...] = ()
        for item in value:
            out += _numbers(item)
        return out
    number = _as_number(value)
    return (int(number),) if isinstance(number, int) else ()


def parse_annotations(answer: Any) -> list[tuple[str | None, tuple[int, ...], tuple[int, ...], tuple[int, ...]]]:
    """Read layer annotations into (name, input, output, rf) with the numbers of each part.

    Accepts a list of ``(input, output, rf)`` or ``(name, input, output, rf)``, a dict
    ``{name: (input, output, rf)}``, or entries that are dicts with keys starting with
    "in", "out" and "rf"; sizes as ``"28x28x1"``, ``(28, 28, 1)`` or ``"28 x 28 x 1"``.

    >>> parse_annotations([("conv1", "28x28x1", (28, 28, 32), "3x3")])
    [('conv1', (28, 28, 1), (28, 28, 32), (3, 3))]
    >>> parse_annotations({"pool1": ("28x28x64", "14x14x64", 6)})[0][1:]
    ((28, 28, 64), (14, 14, 64), (6,))
    """
    if isinstance(answer, dict):
        entries = [(name, value) for name, value in answer.items()]
    elif isinstance(answer, (str, bytes)) or not hasattr(answer, "__iter__"):
        raise ValueError("not a list of layers")
    else:
        entries = [(None, value) for value in answer]
    rows = []
    for name, value in entries:
        if isinstance(value, dict):
            parts = {}
            for key, item in value.items():
                k = str(key).lower()
                slot = "rf" if k.startswith(("rf", "recep")) else "in" if k.startswith("in") else "out" if k.startswith("out") else None
                if slot:
                    parts[slot] = item
                elif k in ("name", "layer"):
                    name = str(item)
            if set(parts) != {"in", "out", "rf"}:
                raise ValueError("a layer needs an input, an output and an RF")
            items = [parts["in"], parts["out"], parts["rf"]]
        elif isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise ValueError("each layer should be a tuple")
        else:
            items = list(value)
            if len(items) == 4 and isinstance(items[0], str) and not re.search(r"\d+\s*[xX×*]\s*\d+", items[0]):
                name, items = items[0], items[1:]
            if len(items) != 3:
                raise ValueError("each layer needs three parts")
        rows.append((None if name is None else str(name), _numbers(items[0]), _numbers(items[1]), _numbers(items[2])))
    return rows


def _read_annotations(answer: Any, specs: Sequence[tuple], what: str):
    if _placeholder(answer) or (hasattr(answer, "__len__") and not isinstance(answer, str) and len(answer) == 0):
        raise NotAttempted(what)
    try:
        rows = parse_annotations(answer)
    except (TypeError, ValueError):
        raise CheckFailed(f"I could not read {what}.", _short(answer), _ANNOTATION_FORMAT) from None
    if len(rows) != len(specs):
        convs = sum(1 for s in specs if s[1] == "conv")
        raise CheckFailed(f"Your {what} should have one entry per layer.", f"{len(rows)} entries",
                          f"The network has {len(specs)} layers that change sizes or the RF: {convs} convolutions and "
                          f"{len(specs) - convs} max pools, in the order forward uses them (ReLUs change neither).")
    return rows


def _fmt_size(numbers: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in numbers) if numbers else "?"


def check_layer_sizes(answer: Any, specs: Sequence[tuple] = LECTURE_SPECS, input_size: tuple[int, int, int] = (28, 28, 1),
                      what: str = "lecture_annotations") -> None:
    """Check the input and output size (height x width x channels) of every layer, with hints for the classic slips."""
    rows = _read_annotations(answer, specs, what)
    title = f"The sizes in {what} are not right yet."
    for index, ((_, got_in, got_out, _), spec, (right_in, right_out, _)) in enumerate(zip(rows, specs, _annotate(specs, input_size))):
        label, kind, k, s, p, c_out = spec
        shown = f"{label}: {_fmt_size(got_in)} > {_fmt_size(got_out)}"
        for got in (got_in, got_out):
            if len(got) == 2:
                raise CheckFailed(title, shown, "Give the channels too: write each size as height x width x channels, like '28x28x1'.")
            if len(got) != 3:
                raise CheckFailed(title, shown, "Write each size as three numbers, height x width x channels, like '28x28x1'.")
        if got_in != right_in:
            if index == 0:
                hint = "The first layer gets one digit: 28x28 pixels with a single (grey) channel."
            else:
                hint = f"The input of {label} is the output of the layer before it, {specs[index - 1][0]}."
            raise CheckFailed(title, shown, hint)
        if got_out == right_out:
            continue
        side_in, side_got = right_in[0], got_out[0]
        if kind == "conv" and got_out[:2] != right_out[:2]:
            if p > 0 and side_got == side_in - (k - 1):
                hint = (f"{label} has padding={p}: a pixel added on every side makes up for the one the {k}x{k} kernel "
                        f"cannot be centred on at each border, so a padded {k}x{k} convolution keeps the size. "
                        f"Shrinking by {k - 1} happens only without padding.")
            elif p == 0 and side_got == side_in:
                hint = (f"{label} has no padding: a {k}x{k} kernel cannot be centred on the outer pixel at each border, "
                        f"so each side loses {k - 1}.")
            else:
                hint = "Use out = (in + 2 * padding - kernel) // stride + 1 for the height and for the width."
        elif kind == "conv":
            if got_out[2] == right_in[2]:
                hint = "A convolution gives one output channel per kernel: its out_channels, whatever the input had."
            else:
                hint = f"Read the channels off {label}: Conv2d(in_channels, out_channels, ...) gives out_channels channels."
        elif got_out[:2] != right_out[:2]:
            if side_got == side_in:
                hint = f"A {k}x{k} max pool with stride {s} keeps one value of every {k}x{k} block: it divides height and width by {s}."
            elif side_got == side_in - 1 or side_got == side_in - 2:
                hint = f"Max pooling here has stride {s}: it does not slide one pixel at a time like the convolutions, it divides the size by {s}."
            else:
                hint = f"A {k}x{k} max pool with stride {s} divides height and width by {s} (rounding down)."
        else:
            hint = "Max pooling works on each channel separately: the number of channels does not change."
        raise CheckFailed(title, shown, hint)
    passed(f"input and output sizes of all {len(specs)} layers.")


def check_layer_rfs(answer: Any, specs: Sequence[tuple] = LECTURE_SPECS, what: str = "lecture_annotations") -> None:
    """Check the receptive field after every layer (the exact rule); the shortcut's and no-jump answers get their hints."""
    rows = _read_annotations(answer, specs, what)
    rfs = []
    for name, _, _, rf in rows:
        if len(rf) == 2 and rf[0] != rf[1] or len(rf) not in (1, 2):
            raise CheckFailed(f"I could not read every receptive field in {what}.", _short([r[3] for r in rows]),
                              "Give the RF of each layer as one number (3) or as a square ('3x3').")
        rfs.append(rf[0])
    right = [row[2] for row in _annotate(specs, (28, 28, 1))]
    check_rf_list(rfs, right, f"the receptive fields in {what}", shortcut=_shortcut_rfs(specs), no_jump=_no_jump_rfs(specs))


def _train_like(images: Any) -> "torch.Tensor":
    import torch

    return torch.as_tensor(images).double()


def check_mean_std_function(function: Callable, what: str = "pixel_mean_std") -> None:
    """Try ``function(images) -> (mean, std)`` on two tiny images where the usual slips give different numbers."""
    import torch

    images = torch.tensor([[[[0.0, 0.0], [0.0, 1.0]]], [[[1.0, 1.0], [1.0, 1.0]]]])  # (2, 1, 2, 2)
    got = _call(function, images.clone(), what=what)
    try:
        mean, std = (_as_number(v) for v in got)
    except (TypeError, ValueError):
        mean = std = None
    if mean is None or std is None:
        raise CheckFailed(f"{what} should return two numbers, (mean, std).", _short(got), "End it with `return mean, std`; floats or 0-d tensors are both fine.")
    pixels = images.double().flatten()
    right_mean = float(pixels.mean())
    stds = (float(pixels.std(unbiased=False)), float(pixels.std()))
    answer = f"mean {mean:.4f}, std {std:.4f} for 2 images of 2x2 pixels"
    if abs(mean - right_mean) < 1e-6 and any(abs(std - s) < 1e-6 for s in stds):
        passed(f"{what} on a small example.")
        return
    per_image = float(images.double().flatten(1).std(dim=1, unbiased=False).mean())
    if abs(mean - right_mean) >= 1e-6:
        hint = "The mean is over every pixel of every image together: all values summed, divided by how many there are."
    elif any(abs(std - s * s) < 1e-6 for s in stds):
        hint = "That is the variance; the standard deviation is its square root."
    elif abs(std - per_image) < 1e-6 or abs(std - float(images.double().flatten(1).std(dim=1).mean())) < 1e-6:
        hint = "You averaged the std of each image; take the std over all pixels of all images together."
    else:
        hint = "The std is the square root of the mean squared distance of every pixel from the mean."
    raise CheckFailed(f"{what} does not give the right numbers yet.", answer, hint)


def check_mean_std(mean: Any, std: Any, images: Any, held_out: Any = None, what: str = "train_mean and train_std",
                   tolerance: float = 1e-4) -> None:
    """Compare a measured mean and std with those of ``images`` (pixels in [0, 1]); ``held_out``: the validation images."""
    import torch

    if _placeholder(mean) or _placeholder(std):
        raise NotAttempted(what)
    m, s = _as_number(mean), _as_number(std)
    if m is None or s is None:
        raise CheckFailed(f"Your {what} should be two numbers.", _short((mean, std)), "Give plain floats (or 0-d tensors).")
    x = _train_like(images)
    right_m, right_s = float(x.mean()), float(x.std(unbiased=False))
    close = lambda a, b: abs(a - b) <= tolerance  # noqa: E731
    answer = f"mean {m:.4f}, std {s:.4f}"
    if close(m, right_m) and close(s, right_s):
        passed(f"{answer} on the training digits (MNIST's published values, over its 60,000 training digits: 0.1307 and 0.3081).")
        return
    title = f"Your {what} are not right yet."
    if m > 1.5 or s > 1.5:
        hint = "These look like pixel values from 0 to 255; the images here are already scaled to [0, 1]."
    elif math.isclose(m, 0.1307, abs_tol=1e-6) and math.isclose(s, 0.3081, abs_tol=1e-6):
        hint = ("These are the published values for all 60,000 MNIST training digits. Measure your own on "
                "data.train_images: this subset gives values close to them, but not the same.")
    elif close(m, right_s) and close(s, right_m):
        hint = "Mean and std are swapped."
    elif close(m, right_m) and close(s, right_s ** 2):
        hint = "That is the variance; the standard deviation is its square root."
    elif close(m, right_m) and close(s, float(x.flatten(1).std(dim=1, unbiased=False).mean())):
        hint = "You averaged the std of each image; take the std over all pixels of all images together."
    else:
        hint = ""
        if held_out is not None:
            v = _train_like(held_out)
            both = torch.cat([x.flatten(), v.flatten()])
            if close(m, float(v.mean())) and close(s, float(v.std(unbiased=False))):
                hint = "You measured the validation digits. Measure the training digits only: the validation digits stand for data the model never sees."
            elif close(m, float(both.mean())) or close(s, float(both.std(unbiased=False))):
                hint = "You included the validation digits. Measure the training digits only: the validation digits stand for data the model never sees."
        if not hint:
            hint = ("The mean is right but the std is not." if close(m, right_m) else
                    "Measure both over every pixel of every image of data.train_images.")
    raise CheckFailed(title, answer, hint)


def _loader_batches(loader: Any, name: str, what: str) -> list:
    try:
        batches = list(loader)
    except Exception as error:  # the student's loader, reported without a traceback
        raise CheckFailed(f"{name.capitalize()} from {what} cannot be read.", None,
                          f"{type(error).__name__}: {error}. Return DataLoader objects over TensorDatasets of (images, labels).") from None
    if not batches:
        raise CheckFailed(f"{name.capitalize()} from {what} is empty.", None, "It should give every digit of its split once.")
    return batches


def _check_loader(loader: Any, images: "torch.Tensor", labels: "torch.Tensor", mean: float, std: float,
                  batch_size: int | None, name: str, what: str, other: "torch.Tensor | None" = None) -> None:
    import torch

    title = f"{name.capitalize()} from {what} is not right yet."
    batches = _loader_batches(loader, name, what)
    first = batches[0]
    if not isinstance(first, (tuple, list)) or len(first) != 2 or not all(torch.is_tensor(t) for t in first):
        raise CheckFailed(title, _short(type(first).__name__), "Each batch should be a pair (images, labels) of tensors: a DataLoader over a TensorDataset gives that.")
    xb, yb = first
    shape = tuple(xb.shape)
    if tuple(xb.shape[1:]) != (1, 28, 28):
        if tuple(xb.shape[1:]) == (28, 28):
            hint = "Keep the channel axis: a batch of digits has shape (batch, 1, 28, 28), as the first convolution expects."
        elif xb.dim() == 2:
            hint = "Keep the images as 1x28x28; do not flatten them: the network is convolutional."
        else:
            hint = "A batch of digits should have shape (batch, 1, 28, 28)."
        raise CheckFailed(title, f"a batch of images of shape {shape}", hint)
    if xb.dtype != torch.float32:
        raise CheckFailed(title, f"images of dtype {xb.dtype}",
                          "The images should be float32, like the network's weights (a float64 tensor makes the convolutions fail): use .float().")
    if yb.dtype != torch.int64 or yb.dim() != 1:
        raise CheckFailed(title, f"labels of dtype {yb.dtype} and shape {tuple(yb.shape)}",
                          "The labels should be one int64 (torch.long) class index per digit: nll_loss needs them so.")
    if batch_size is not None and xb.shape[0] != min(batch_size, len(labels)):
        raise CheckFailed(title, f"batches of {xb.shape[0]} digits", f"The training batches should hold batch_size digits ({batch_size} here): pass it to the DataLoader.")
    try:
        got_x = torch.cat([b[0] for b in batches]).double()
        got_y = torch.cat([b[1] for b in batches])
    except Exception:
        raise CheckFailed(title, None, "Every batch should be a pair (images, labels) of the same shapes.") from None
    if len(got_y) != len(labels):
        hint = f"It gives {len(got_y):,} digits; it should give each of the {len(labels):,} digits of its split once."
        if other is not None and len(got_y) == len(labels) + len(other):
            hint = "It holds the training and the validation digits together; keep them apart, or the validation accuracy means nothing."
        raise CheckFailed(title, f"{len(got_y):,} digits", hint)
    raw = images.double()
    keys = lambda x: x.flatten(1).sum(dim=1)  # noqa: E731  - one number per image, to match images in any order
    got_keys = keys(got_x).sort().values
    matches = lambda x: torch.allclose(got_keys, keys(x).sort().values, atol=1e-2, rtol=1e-5)  # noqa: E731
    if not matches((raw - mean) / std):
        m, s = float(got_x.mean()), float(got_x.std())
        if matches(raw):
            hint = "The images are not normalized yet: subtract the mean, then divide by the std."
        elif matches(raw - mean):
            hint = "You subtracted the mean; divide by the std too."
        elif matches(raw / std - mean) or matches((raw - mean) * std):
            hint = "Normalize as (images - mean) / std: subtract first, then divide."
        elif matches((raw - raw.mean()) / raw.std()):
            hint = ("These digits are normalized with their own mean and std. Use the mean and std given to make_loaders "
                    "(measured on the training digits) for both loaders: new digits must be treated exactly like the training digits.")
        elif matches((raw - 0.1307) / 0.3081):
            hint = "You used MNIST's published constants; use the mean and std given to make_loaders."
        else:
            hint = "Each digit should appear once, as (image - mean) / std with the mean and std given to make_loaders."
        raise CheckFailed(title, f"pixel mean {m:.3f}, std {s:.3f} over its {len(got_y):,} digits", hint)
    if not torch.equal(got_y.sort().values.cpu(), labels.sort().values.cpu()):
        raise CheckFailed(title, None, "The labels are not those of the digits: keep each split's labels with its images.")
    if _pairs(got_x * std + mean, got_y) != _pairs(raw, labels):
        raise CheckFailed(title, None, "The images and their labels no longer go together: build the dataset from images and labels in the same order.")


def _pairs(images: "torch.Tensor", labels: "torch.Tensor") -> "collections.Counter":
    """Each (image, label) pair, with the pixels as whole numbers of 1/255, counted."""
    import collections

    import torch

    pixels = torch.round(images.double().flatten(1).cpu() * 255).to(torch.int16).numpy()
    return collections.Counter(zip((row.tobytes() for row in pixels), labels.cpu().tolist()))


def check_loaders(make_loaders: Callable, data: Any, mean: float | None = None, std: float | None = None,
                  batch_size: int = 32, what: str = "make_loaders") -> None:
    """Call ``make_loaders(data, mean, std, batch_size=...)`` and check both loaders it returns.

    ``data`` has ``train_images``/``train_labels``/``test_images``/``test_labels`` (an
    :class:`evalib.MnistData`); without ``mean``/``std`` the right ones are measured here,
    so this check does not depend on the student's own measurement.
    """
    import torch

    x = _train_like(data.train_images)
    mean = float(x.mean()) if mean is None else float(mean)
    std = float(x.std(unbiased=False)) if std is None else float(std)
    got = _call(make_loaders, data, mean, std, batch_size=batch_size, what=what)
    if isinstance(got, (tuple, list)) and len(got) == 2:
        train, val = got
    else:
        raise CheckFailed(f"{what} should return two loaders, (train_loader, val_loader).", _short(type(got).__name__))
    if isinstance(getattr(train, "sampler", None), torch.utils.data.SequentialSampler):
        raise CheckFailed(f"The training loader from {what} is not right yet.", "no shuffling",
                          "Shuffle the training digits (shuffle=True), so that each epoch sees them in a new order.")
    _check_loader(train, data.train_images, data.train_labels, mean, std, batch_size, "the training loader", what, data.test_images)
    _check_loader(val, data.test_images, data.test_labels, mean, std, None, "the validation loader", what, data.train_images)
    batch = next(iter(train))[0].double()
    passed(f"{len(data.train_labels):,} training digits in batches of {batch_size} (a batch has mean {float(batch.mean()):.2f}, "
           f"std {float(batch.std()):.2f}) and {len(data.test_labels):,} validation digits, all normalized with the training statistics.")


def count_parameters(model: Any) -> int:
    """Parameters of ``model``, plus any floating-point buffers other than batch-norm statistics.

    Counted through ``nn.Module``'s own methods, so a model cannot report a smaller
    number by overriding ``parameters()``.
    """
    import torch.nn as nn

    total = sum(p.numel() for p in nn.Module.parameters(model))
    for module in nn.Module.modules(model):
        if isinstance(module, nn.modules.batchnorm._NormBase):
            continue
        for buffer in module._buffers.values():
            if buffer is not None and buffer.is_floating_point():
                total += buffer.numel()
    return total


def _evalib_model(model: Any) -> str | None:
    """The name of an evalib network class that ``model`` is or contains, if any."""
    import torch.nn as nn

    from .mnist import models

    classes = tuple(getattr(models, name) for name in models.__all__)
    for module in nn.Module.modules(model):
        if isinstance(module, classes):
            return type(module).__name__ if type(module) in classes else next(c.__name__ for c in classes if isinstance(module, c))
    return None


def _device(model: Any) -> "torch.device":
    import torch
    import torch.nn as nn

    for tensor in list(nn.Module.parameters(model)) + list(nn.Module.buffers(model)):
        return tensor.device
    return torch.device("cpu")


def _largest_layer(model: Any) -> tuple[str, int]:
    import torch.nn as nn

    best = ("", 0)
    for name, module in nn.Module.named_modules(model):
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if own > best[1]:
            best = (name or type(module).__name__, own)
    return best


def check_small_net(model_class: Any, budget: int = 20_000, what: str = "MyNet") -> None:
    """A network of one's own: within ``budget`` parameters (counted here), log-probabilities of shape (N, 10) out."""
    import torch
    import torch.nn as nn

    if _placeholder(model_class):
        raise NotAttempted(what)
    model = model_class if isinstance(model_class, nn.Module) else _call(model_class, what=what)
    if not isinstance(model, nn.Module):
        raise CheckFailed(f"{what} should be an nn.Module class.", _short(model), "Write `class MyNet(nn.Module):` with __init__ and forward.")
    reused = _evalib_model(model)
    if reused:
        raise CheckFailed(f"{what} reuses evalib's {reused}.", None, "Design the network yourself, layer by layer; evalib's networks are there to read, not to hand in.")
    n = count_parameters(model)
    if n == 0:
        raise NotAttempted(what)
    if n > budget:
        layer, own = _largest_layer(model)
        raise CheckFailed(f"{what} is over the budget of {budget:,} parameters.", f"{n:,} parameters",
                          f"Its largest layer, {layer}, has {own:,}. Use fewer channels, a 1x1 convolution to cut channels "
                          "down, and global average pooling instead of a large last convolution or fully connected layer.")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            x = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
            out = _call(model, x.to(_device(model)), what=what)
    finally:
        model.train(was_training)
    if not torch.is_tensor(out) or tuple(out.shape) != (4, 10):
        raise CheckFailed(f"{what} returns the wrong shape.", f"shape {tuple(getattr(out, 'shape', ()))} for 4 digits",
                          "Return one row of 10 class log-probabilities per digit: shape (N, 10); flatten the last feature map.")
    out = out.detach().double().cpu()
    if not torch.allclose(out.exp().sum(dim=1), torch.ones(4, dtype=torch.float64), atol=1e-4):
        if bool((out >= 0).all()) and torch.allclose(out.sum(dim=1), torch.ones(4, dtype=torch.float64), atol=1e-4):
            hint = "These are probabilities (softmax); the training loop's nll_loss wants their logarithm: end with F.log_softmax(x, dim=1)."
        else:
            hint = "End forward with F.log_softmax(x, dim=1): the training loop's nll_loss expects log-probabilities."
        raise CheckFailed(f"{what} does not return log-probabilities.", None, hint)
    passed(f"{what}: {n:,} parameters (budget {budget:,}), log-probabilities of shape (N, 10).")


def check_trained_model(model: Any, images: Any, labels: Any, mean: Any, std: Any, target: float = 0.95,
                        budget: int = 20_000, what: str = "your trained model") -> None:
    """Evaluate ``model`` here on ``images`` (pixels in [0, 1], normalized with ``mean``/``std``) and compare with ``target``."""
    import torch
    import torch.nn as nn

    if _placeholder(model):
        raise NotAttempted(what)
    if not isinstance(model, nn.Module):
        raise CheckFailed(f"{what.capitalize()} should be a network (nn.Module).", _short(model))
    reused = _evalib_model(model)
    if reused:
        raise CheckFailed(f"{what.capitalize()} reuses evalib's {reused}.", None, "Design the network yourself; only your own design counts.")
    n = count_parameters(model)
    if n == 0:
        raise NotAttempted("MyNet and the training cell")
    if n > budget:
        raise CheckFailed(f"{what.capitalize()} is over the budget of {budget:,} parameters.", f"{n:,} parameters",
                          "The accuracy counts only for a network within the budget.")
    m, s = _as_number(mean), _as_number(std)
    if m is None or s is None or not s > 0:
        raise CheckFailed(f"{what.capitalize()} cannot be tested without the training mean and std.", _short((mean, std)),
                          "Measure train_mean and train_std first (part 2).")
    x = (torch.as_tensor(images).float() - float(m)) / float(s)
    y = torch.as_tensor(labels)
    device = _device(model)
    was_training = model.training
    model.eval()
    predictions = []
    try:
        with torch.no_grad():
            for start in range(0, len(y), 250):
                out = _call(model, x[start:start + 250].to(device), what="your model")
                predictions.append(out.argmax(dim=1).cpu())
    finally:
        model.train(was_training)
    predicted = torch.cat(predictions)
    accuracy = float((predicted == y.cpu()).double().mean())
    if accuracy >= target:
        passed(f"{accuracy:.1%} of the {len(y):,} held-out digits right (target {target:.0%}).")
        return
    classes = int(predicted.unique().numel())
    if accuracy < 0.15:
        hint = "About chance: run the training cell again after your last change to MyNet, and check that it trains (the loss should fall)."
    elif classes < 10 and accuracy < 0.9:
        hint = (f"It predicts only {classes} of the 10 digits: is there an activation (ReLU) after the last layer? "
                "Class scores must be able to go negative.")
    else:
        hint = ("Improve the design: batch normalization after each convolution, a receptive field that covers the "
                "digit before the output, global average pooling before the last 1x1 convolution; or try another MAX_LR. "
                "Then run the training cell again.")
    raise CheckFailed(f"{what.capitalize()} does not reach {target:.0%} yet.", f"{accuracy:.1%} of the held-out digits", hint)


# ---------------------------------------------------------------------------
# Guards for answers given as data: what produced the value?
# ---------------------------------------------------------------------------
#: Helpers that measure or load MNIST for you (part 2 of the MNIST assignment).
DATA_HELPERS = (
    "evalib.mnist.data:pixel_stats",
    "evalib.mnist.data:mnist_loaders",
)
#: Objects that only evalib's shape helpers make: an answer built from them was not worked out by hand.
SHAPE_RESULTS = (
    "evalib.design.summary:ModelSummary",
    "evalib.design.summary:LayerRow",
    "evalib.design.receptive_field:Geometry",
    "evalib.design.shapes:PoolingPlan",
)


def _module_level_stores(tree: ast.AST) -> set[str]:
    """Names a cell binds at its top level (not inside functions, classes or comprehensions)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names


def _defines(statement: ast.stmt, name: str) -> bool:
    """Whether a top-level statement binds ``name`` or changes its value in place.

    ``x = ...``, ``x += ...``, ``x[i] = ...``, ``x.append(...)`` and loops or blocks
    holding them count; ``print(x, ...)`` or a bare expression that only shows something
    does not.
    """
    if name in _module_level_stores(statement):
        return True

    def rooted(node: ast.AST) -> bool:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return isinstance(node, ast.Name) and node.id == name

    for node in ast.walk(statement):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)) and rooted(node):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and rooted(node.func.value):
            return True
    return False


def _shell_history() -> tuple[list[str], dict]:
    """The cells run so far and the user namespace, from IPython; empty outside it."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with Jupyter
        return [], {}
    shell = get_ipython()
    if shell is None:
        return [], {}
    return list(shell.history_manager.input_hist_parsed), shell.user_ns


def computed_with(name: str, specs: Iterable[str] = SHAPE_HELPERS, results: Iterable[str] = SHAPE_RESULTS,
                  cells: Sequence[str] | None = None, namespace: dict | None = None) -> list[str]:
    """Forbidden helpers behind the current value of the variable ``name``.

    Reads the statements that assign or change ``name`` in the last cell that assigned
    it (from IPython's history, or ``cells``), and flags every forbidden helper they
    refer to, directly, through a module, through a property (``data.stats``) or
    through a function of the notebook, and every value they use that only a helper
    makes (a model summary's rows, for example). Variables they read are followed back
    the same way, a few steps deep. Code beside them that only shows something, such as
    ``print(evalib.summary(...))`` to compare with an answer worked out by hand, is not
    held against the answer. Outside IPython, without ``cells``, it finds nothing.

    >>> cells = ["import evalib", "rows = evalib.summary(net, (1, 28, 28))", "answer = [r.rf for r in rows]"]
    >>> import evalib
    >>> computed_with("answer", cells=cells, namespace={"evalib": evalib, "rows": [], "net": None})
    ['evalib.design.summary:summary']
    >>> computed_with("answer", cells=["answer = [3, 5]"], namespace={})
    []
    """
    import builtins

    if cells is None or namespace is None:
        history, user_ns = _shell_history()
        cells = history if cells is None else cells
        namespace = user_ns if namespace is None else namespace
    specs = tuple(specs)
    forbidden: dict[int, str] = {}
    for spec in specs:
        _, _, original = _resolve(spec)
        if original is not None:
            forbidden[id(original)] = spec
    made_by = tuple(t for t in (_resolve(spec)[2] for spec in results) if isinstance(t, type))
    found: set[str] = set()

    def inspect(value: Any) -> bool:
        """Flag ``value``; True when it is plain data worth following back."""
        if id(value) in forbidden:
            found.add(forbidden[id(value)])
            return False
        items = value if isinstance(value, (list, tuple)) else [value]
        if made_by and any(isinstance(item, made_by) for item in list(items)[:50]):
            found.add("evalib.design.summary:summary")
            return False
        if isinstance(value, types.ModuleType):
            return False
        if isinstance(value, (types.FunctionType, types.MethodType)):
            found.update(uses_forbidden(value, specs))
            return False
        if isinstance(value, type):
            for attr in vars(value).values():
                if isinstance(attr, types.FunctionType):
                    found.update(uses_forbidden(attr, specs))
            return False
        return not callable(value)

    todo, seen = [name], set()
    while todo and len(seen) < 12:
        var = todo.pop()
        if var in seen:
            continue
        seen.add(var)
        statements: list[ast.stmt] = []
        for cell in reversed(list(cells)):
            try:
                tree = ast.parse(cell)
            except (SyntaxError, ValueError):
                continue
            if var in _module_level_stores(tree):
                statements = [stmt for stmt in tree.body if _defines(stmt, var)]
                break
        for node in (n for stmt in statements for n in ast.walk(stmt)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                if node.id in namespace:
                    if inspect(namespace[node.id]) and node.id not in seen:
                        todo.append(node.id)
                elif not hasattr(builtins, node.id) and node.id not in seen:
                    todo.append(node.id)
            elif isinstance(node, ast.Attribute):
                chain, root = [], node
                while isinstance(root, ast.Attribute):
                    chain.append(root.attr)
                    root = root.value
                if not isinstance(root, ast.Name) or root.id not in namespace:
                    continue
                value = namespace[root.id]
                if isinstance(value, types.ModuleType):
                    for attr in reversed(chain):
                        value = getattr(value, attr, None)
                        if value is None:
                            break
                        inspect(value)
                else:  # a property or method of the object's class, such as ``data.stats``
                    member = getattr(type(value), chain[-1], None)
                    if isinstance(member, property) and member.fget is not None:
                        found.update(uses_forbidden(member.fget, specs))
                    elif isinstance(member, types.FunctionType):
                        found.update(uses_forbidden(member, specs))
    return sorted(found)
