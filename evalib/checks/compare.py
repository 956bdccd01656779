"""Comparing answers: canonical forms, salted digests, tolerant equality, and the
rules that explain a wrong chain or plan without knowing the right one.

The canonical form of an answer is a short string that two equal answers share
(``42``, ``42.0`` and ``"42 times"`` all give ``"42"``). A practice release
ships only salted digests of canonical forms, so its checks can say right or
wrong without holding the answer.

>>> canonical(42.0) == canonical(42), canonical((12, 34)), canonical(0.0123456789)
(True, '[12,34]', '0.0123457')
>>> d = digest("salt", "test_count", "", canonical(42))
>>> d == digest("salt", "test_count", "", canonical("42")), d == digest("pepper", "test_count", "", "42")
(True, False)
>>> expand_chain("9x9 > 7x7 > ... > 1x1")
[9, 7, 5, 3, 1]
"""
from __future__ import annotations

import hashlib
import math
import re
from typing import Any, Sequence

from .parse import ChainSize

__all__ = [
    "canonical",
    "digest",
    "same",
    "close",
    "expand_chain",
    "spellings",
    "chain_problem",
    "plan_problem",
    "plan_convolutions",
]

SIGNIFICANT = 6  # digits kept of a float in its canonical form


def canonical(value: Any) -> str:
    """A short text that equal answers share: whole floats as ints, floats to 6 significant digits,
    sequences as ``[a,b]``, text folded to lower case with single spaces.

    >>> canonical([3, 5.0, "MP"]), canonical(" Some_Name "), canonical(True)
    ('[3,5,"mp"]', 'some_name', 'true')
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return f"{value:.{SIGNIFICANT}g}"
    if isinstance(value, str):
        return " ".join(value.casefold().split())
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(canonical(v) if not isinstance(v, str) else f'"{canonical(v)}"' for v in value) + "]"
    if value is None:
        return "none"
    try:
        import torch

        if isinstance(value, torch.Tensor):
            return canonical([round(float(v), 4) for v in value.double().reshape(-1).tolist()] + list(value.shape))
    except ImportError:  # pragma: no cover
        pass
    return repr(value)


def digest(salt: str, question: str, part: str, text: str) -> str:
    """The salted SHA-256 of an answer's canonical form, as a practice release stores it."""
    return hashlib.sha256("\x1f".join((salt, question, part, text)).encode("utf-8")).hexdigest()


def close(a: Any, b: Any, rel: float = 1e-6, abs_tol: float = 1e-9) -> bool:
    """Numbers equal within a relative tolerance (ints exactly).

    >>> close(0.1 + 0.2, 0.3), close(99, 99.0), close(3, 4)
    (True, True, False)
    """
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return False
    if isinstance(a, int) and isinstance(b, int):
        return a == b
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)


def same(a: Any, b: Any) -> bool:
    """Plain values equal, numbers compared with :func:`close`, sequences item by item.

    >>> same((12, 34), [12, 34]), same([3, 5], [3, 5, 6]), same("c", "c")
    (True, False, True)
    """
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool) and not isinstance(b, bool):
        return close(a, b)
    return type(a) is type(b) and a == b


def expand_chain(text: str) -> list[int]:
    """Side lengths of a chain written with ``...`` for "go on with the same step".

    >>> expand_chain("10x10 > 8x8 > ... > 2x2"), expand_chain("5x5 > 3x3")
    ([10, 8, 6, 4, 2], [5, 3])
    """
    parts = [p.strip() for p in re.split(r"\s*>\s*", text.strip()) if p.strip()]
    out: list[int] = []
    for i, part in enumerate(parts):
        if part == "...":
            step = out[-2] - out[-1]
            end = int(re.match(r"(\d+)", parts[i + 1]).group(1))
            if step <= 0 or (out[-1] - end) % step:
                raise ValueError(f"cannot expand {text!r}")
            out += list(range(out[-1] - step, end, -step))
            continue
        out.append(int(re.match(r"(\d+)", part).group(1)))
    return out


def spellings(value: Any) -> list[str]:
    """Ways an answer could be written out in a file, for scans that make sure it is not.

    >>> spellings(1234567)
    ['1234567', '1,234,567', '1_234_567']
    >>> spellings((12, 34))[:3]
    ['(12, 34)', '[12, 34]', '12x34']
    """
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int):
        return [str(value), f"{value:,}", f"{value:_}"] if abs(value) >= 1000 else [str(value)]
    if isinstance(value, float):
        return [repr(value), f"{value:.4f}"]
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        body = ", ".join(str(v) for v in value)
        out = [f"({body})", f"[{body}]"]
        if len(value) in (2, 3):
            out += ["x".join(str(v) for v in value), " x ".join(str(v) for v in value)]
        else:
            out += [body, ",".join(str(v) for v in value)]
        return out
    return []


# ---------------------------------------------------------------------------------------------
# Chains and plans, explained from their own sizes
# ---------------------------------------------------------------------------------------------
def _square(n: int) -> str:
    return f"{n}x{n}"


def chain_problem(sizes: Sequence[ChainSize], start: int, kernel: int) -> str | None:
    """What is wrong with a chain of sizes from ``start`` with a ``kernel`` (no padding, stride 1),
    found from the chain alone; None when nothing is.

    The hint points at the step where the mistake is: a size whose sides differ
    (a typo), a pair that grows, a missing or repeated step, a single size that
    does not follow, a chain that starts elsewhere or stops early.

    >>> sz = lambda *ns: [ChainSize(n, n, _square(n), 0) for n in ns]
    >>> chain_problem(sz(9, 7, 5, 3), 9, 3)
    'Your chain stops at 3x3, but another 3x3 convolution still fits: keep going until the next one would not.'
    >>> chain_problem(sz(9, 7, 3, 5, 1), 9, 3)
    '3x3 > 5x5 grows: every convolution shrinks the image. Two sizes swapped?'
    >>> chain_problem(sz(9, 7, 5, 3, 1), 9, 3) is None
    True
    """
    shrink = kernel - 1
    if not sizes:
        return "I could not find any sizes in it."
    for i, s in enumerate(sizes):
        if not s.square:
            where = f"after {sizes[i - 1].text}" if i else "at the start"
            return (f"The size {where} reads {s.text}: its two sides differ, but a square image stays square "
                    f"through these convolutions. A typo?")
    side = [s.height for s in sizes]
    if side[0] != start:
        return f"The chain should start with the input itself, {_square(start)}; yours starts with {sizes[0].text}."
    steps = [a - b for a, b in zip(side, side[1:])]
    if steps and shrink > 1 and sum(d == 1 for d in steps) > len(steps) / 2:
        return (f"Your chain shrinks by 1 per step. A {kernel}x{kernel} kernel without padding cannot be centred on the "
                f"outer {shrink // 2} pixel(s) at each border, so each side loses {shrink}.")
    if steps and shrink != 2 and all(d == 2 for d in steps):
        return f"Every step removes 2, whatever the kernel: a {kernel}x{kernel} kernel without padding removes {shrink} from each side."
    if steps and sum(d == 0 for d in steps) > len(steps) / 2:
        return "The size stays the same from step to step: that happens with padding 1, but these convolutions have no padding."
    for i, d in enumerate(steps):
        if d == shrink:
            continue
        a, b = sizes[i], sizes[i + 1]
        nxt = sizes[i + 2] if i + 2 < len(sizes) else None
        after = sizes[i + 3] if i + 3 < len(sizes) else None
        if nxt is not None and a.height - nxt.height == 2 * shrink and d != 0:
            return f"{b.text} after {a.text} does not follow (each step removes {shrink}): a typo?"
        if nxt is not None and a.height - nxt.height == shrink and after is not None and b.height - after.height == shrink:
            return f"{b.text} > {nxt.text} grows: every convolution shrinks the image. Two sizes swapped?"
        if d < 0:
            repeated = i >= 1 and i + 2 < len(side) and side[i + 1: i + 3] == side[i - 1: i + 1]
            if repeated:
                return f"The step {sizes[i - 1].text} > {a.text} is written twice."
            return f"{a.text} > {b.text} grows: every convolution shrinks the image. Two sizes swapped?"
        if d == 0:
            return f"{a.text} appears twice in a row: a repeated step (each convolution removes {shrink} from each side)."
        if d == 2 * shrink:
            return f"Between {a.text} and {b.text} a size is missing: each {kernel}x{kernel} convolution removes {shrink}."
        return f"{a.text} > {b.text} does not follow: each {kernel}x{kernel} convolution without padding removes {shrink} from each side."
    last = side[-1]
    if last < 1:
        return f"Your chain goes below 1x1: a {kernel}x{kernel} kernel does not fit into a smaller image without padding."
    if last - shrink >= 1:
        return (f"Your chain stops at {_square(last)}, but another {kernel}x{kernel} convolution still fits: "
                "keep going until the next one would not.")
    return None


def plan_convolutions(steps: Sequence[Any]) -> int:
    """The convolutions of a plan (pools are not counted).

    >>> plan_convolutions([8, 6, "MP", 3, 1])
    2
    """
    sizes = [s for s in steps if isinstance(s, int)]
    return len(sizes) - 1 - sum(1 for s in steps if s == "MP")


def plan_problem(steps: Sequence[Any], start: int, kernel: int = 3, min_convs: int = 2) -> str | None:
    """What breaks the quiz's rules in a plan of 3x3 convolutions and 2x2 max pools; None when it keeps them.

    Rules: every step is a convolution (the side shrinks by ``kernel - 1``) or a pool
    (the side halves, the odd row dropped) after at least ``min_convs`` convolutions;
    the plan starts at ``start`` and ends at 1x1.

    >>> plan_problem([8, 6, "MP", 3, 1], 8, min_convs=1) is None
    True
    >>> plan_problem([9, 7, "MP", 4, 2], 9, min_convs=1)
    'Pooling 7x7 gives 3x3: the odd last row and column are dropped.'
    """
    if not steps or steps[0] != start:
        return f"Start the plan with the input, {_square(start)}."
    convs, since_pool, previous, pooled = 0, 0, steps[0], False
    for step in steps[1:]:
        if step == "MP":
            if pooled:
                return "Two pools in a row: convolve between pools."
            pooled = True
            continue
        if pooled:
            if since_pool < min_convs:
                return f"{_square(previous)} is pooled after only {since_pool} convolution(s); the rules ask for at least {min_convs} before each pool."
            if step != previous // 2:
                if previous % 2 and step == (previous + 1) // 2:
                    return f"Pooling {_square(previous)} gives {_square(previous // 2)}: the odd last row and column are dropped."
                return f"A 2x2 max pool halves the size: {_square(previous)} pools to {_square(previous // 2)}, not {_square(step)}."
            pooled, since_pool = False, 0
        elif step == previous // 2 and previous - step != kernel - 1:
            return f"{_square(previous)} > {_square(step)} halves the size: mark the max pool with MP."
        elif step != previous - (kernel - 1):
            return (f"{_square(previous)} > {_square(step)} is neither a {kernel}x{kernel} convolution "
                    f"(minus {kernel - 1}) nor a 2x2 max pool (half).")
        else:
            convs, since_pool = convs + 1, since_pool + 1
        previous = step
    if pooled:
        return "The plan ends with a pool; end it with the convolution that gives 1x1."
    if previous != 1:
        return f"The plan should end at 1x1; it stops at {_square(previous)}."
    return None
