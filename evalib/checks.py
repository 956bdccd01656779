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
    "SHAPE_HELPERS",
    "CONV_HELPERS",
    "INIT_HELPERS",
    "forbidden_helpers",
    "call_without_helpers",
    "uses_forbidden",
    "hidden_failure",
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
    from .models import LectureNet

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
    "evalib.shapes:conv_output_size",
    "evalib.shapes:shrink_chain",
    "evalib.shapes:format_chain",
    "evalib.shapes:layers_for_rf",
    "evalib.shapes:plan_to_one",
    "evalib.shapes:conv_weight_count",
    "evalib.receptive_field:receptive_field_steps",
    "evalib.receptive_field:Geometry.after",
    "evalib.summary:summary",
    "evalib.checks:expected_chain",
)
CONV_HELPERS = (
    "evalib.convolution:conv2d_loops",
    "evalib.convolution:conv2d_vectorised",
    "evalib.kernels:apply_kernels",
    "torch.nn.functional:conv2d",
    "torch:conv2d",
    "torch.nn.functional:unfold",
)
INIT_HELPERS = (
    "evalib.initialization:fans",
    "evalib.initialization:scheme_std",
    "evalib.initialization:init_weights_",
    "evalib.initialization:init_model_",
    "evalib.initialization:depth_experiment",
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
