"""Reading answers the way students write them.

Every reader takes a plain value (what :func:`evalib.checks.plain.from_plain`
rebuilds) and returns a :class:`Reading`: the answer in one canonical form, a
short quote of what was written, and, when it cannot be read, why and how to
write it. Readers never compare with a right answer; they only read.

>>> read_number("42 times").value, read_number(42.0).value, read_number("1,234,567").value
(42, 42, 1234567)
>>> read_choice("(B)", {"a": "one pixel", "b": "a pixel on every side"}).value
'b'
>>> read_choice("b is my answer", {"a": "one pixel", "b": "a pixel on every side"}).problem
'not one of the options'
>>> read_chain("7x7 -> 5X5 --> 3*3 > 1x1 >").value
[7, 5, 3, 1]
>>> read_chain("1. 7x7 | 3x3 > 5x5\\n2. 5x5 | 3x3 > 3x3\\n3. 3x3 | 3x3 > 1x1", kernel=3).value
[7, 5, 3, 1]
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from .plain import PlainObject

__all__ = [
    "Reading",
    "is_placeholder",
    "shorten",
    "read_number",
    "read_whole_number",
    "read_numbers",
    "read_choice",
    "read_bool",
    "read_name",
    "read_size",
    "read_chain",
    "read_plan",
    "read_tensor",
    "ChainSize",
]

PLACEHOLDERS = ("", "...", "YOUR ANSWER HERE", "# YOUR CODE HERE")


@dataclass(frozen=True)
class Reading:
    """What a reader made of an answer.

    ``value`` is the canonical form (``None`` when unreadable or a placeholder),
    ``shown`` a short quote of the answer, ``problem`` why it could not be read
    and ``advice`` how to write it. ``details`` holds reader-specific facts (the
    sizes as written, for a chain).
    """

    value: Any
    shown: str
    problem: str | None = None
    advice: str = ""
    placeholder: bool = False
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None and not self.placeholder


def shorten(value: Any, limit: int = 80) -> str:
    """A one-line quote of ``value``, at most ``limit`` characters.

    >>> shorten("31x31 > 29x29\\n> 27x27 > 25x25", 20)
    '31x31 > 29x29 > 2...'
    """
    if isinstance(value, str):
        text = value
    elif isinstance(value, PlainObject):
        text = value.repr
    elif isinstance(value, dict) and "shape" in value and "dtype" in value:
        text = f"tensor of shape {tuple(value['shape'])}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_placeholder(value: Any) -> bool:
    """The value a released notebook leaves in an answer: None, ``...``, an empty string.

    >>> is_placeholder(None), is_placeholder("  "), is_placeholder(0)
    (True, True, False)
    """
    if value is None or value is Ellipsis:
        return True
    if isinstance(value, PlainObject):
        return value.type == "builtins.ellipsis"
    return isinstance(value, str) and value.strip() in PLACEHOLDERS


def _unreadable(value: Any, problem: str, advice: str) -> Reading:
    return Reading(None, shorten(value), problem, advice)


def _placeholder(value: Any) -> Reading:
    return Reading(None, shorten(value), placeholder=True)


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:[,_ ]\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.]*\d)")


def _tensor_scalar(value: Any) -> Any:
    if isinstance(value, dict) and value.get("shape") in ((), [], (1,)) and len(value.get("data", [])) == 1:
        return value["data"][0]
    try:
        import torch

        if isinstance(value, torch.Tensor) and value.numel() == 1:
            return value.reshape(-1)[0].item()
    except ImportError:  # pragma: no cover - torch ships with evalib
        pass
    return value


def read_number(value: Any, what: str = "a number") -> Reading:
    """A number written as an int, a float, a 0-d tensor or text (``"42"``, ``"42 times"``, ``"1,234,567"``).

    Whole floats become ints. Text must hold exactly one number.

    >>> read_number("about 2.5e-3").value, read_number("3 or 4").problem
    (0.0025, 'more than one number')
    """
    if is_placeholder(value):
        return _placeholder(value)
    value = _tensor_scalar(value)
    if isinstance(value, bool):
        return _unreadable(value, "not a number", f"Give {what} as a plain number, not True or False.")
    number: float | None = None
    if isinstance(value, (int, float)):
        number = value
    elif isinstance(value, str):
        found = _NUMBER.findall(value)
        if len(found) > 1:
            return _unreadable(value, "more than one number", f"Give just one number for {what}.")
        if found:
            number = float(re.sub(r"[,_ ]", "", found[0]))
    if number is None:
        return _unreadable(value, "not a number", f"Give {what} as a number, for example 12, without other text.")
    if isinstance(number, float) and not math.isfinite(number):
        return _unreadable(value, "not a finite number", f"Give {what} as a finite number.")
    if isinstance(number, float) and number.is_integer() and abs(number) < 2**53:
        number = int(number)
    return Reading(number, shorten(value))


def read_whole_number(value: Any, what: str = "a count") -> Reading:
    """Like :func:`read_number`, but the number must be whole.

    >>> read_whole_number("99.5").problem
    'not a whole number'
    """
    reading = read_number(value, what)
    if reading.ok and not isinstance(reading.value, int):
        return _unreadable(value, "not a whole number", f"{what[0].upper() + what[1:]} is a whole number.")
    return reading


def read_numbers(value: Any, what: str = "a list of numbers") -> Reading:
    """A list of numbers: a list, a tuple, a 1-d tensor, or text such as ``"3, 5, 6"``.

    >>> read_numbers("3, 5 > 6").value, read_numbers((3, 5.0)).value
    ([3, 5, 6], [3, 5])
    """
    if is_placeholder(value):
        return _placeholder(value)
    if isinstance(value, (list, tuple)) and len(value) == 0:
        return _placeholder(value)
    items: list[Any]
    if isinstance(value, str):
        items = [re.sub(r"[,_ ]", "", n) for n in re.findall(r"[-+]?\d+(?:\.\d+)?", value)]
        items = [float(n) for n in items]
    elif isinstance(value, dict) and "data" in value and len(value.get("shape", ())) == 1:
        items = list(value["data"])
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        try:
            import torch

            if isinstance(value, torch.Tensor) and value.dim() == 1:
                items = value.tolist()
            else:
                raise TypeError
        except (ImportError, TypeError):
            return _unreadable(value, "not a list", f"Give {what} as a list, like [3, 5, 7].")
    numbers = []
    for item in items:
        one = read_number(item)
        if not one.ok:
            return _unreadable(value, "not a list of numbers", f"Every entry of {what} should be a number.")
        numbers.append(one.value)
    if not numbers:
        return _unreadable(value, "no numbers", f"Give {what} as a list, like [3, 5, 7].")
    return Reading(numbers, shorten(value))


# ---------------------------------------------------------------------------------------------
# Choices, yes/no, names
# ---------------------------------------------------------------------------------------------
def _normal_text(text: str) -> str:
    text = " ".join(text.casefold().split())
    return text.strip(" \"'`.;:")


def read_choice(value: Any, options: dict[str, str]) -> Reading:
    """One of ``options`` (letter -> text): the letter in any case, with or without
    brackets or a full stop, or the exact text of an option (optionally after its letter).

    Anything else, a sentence that starts with a letter included, is "not one of the options".

    >>> opts = {"a": "the mean and std of the pixels", "b": "the learning rate and momentum"}
    >>> [read_choice(x, opts).value for x in ("A", " (a) ", "a.", "The mean and std of the pixels.", "a) the mean and std of the pixels")]
    ['a', 'a', 'a', 'a', 'a']
    >>> read_choice("a bit of both", opts).value is None
    True
    """
    letters = ", ".join(repr(k) for k in options)
    advice = f"Answer with one letter ({letters}) or the exact text of one option."
    if is_placeholder(value):
        return _placeholder(value)
    if not isinstance(value, str):
        return _unreadable(value, "not one of the options", advice)
    text = value.strip()
    bare = re.fullmatch(r"[\(\[\"']*\s*([A-Za-z])\s*[\)\]\"'.:]*", text)
    if bare and bare.group(1).lower() in options:
        return Reading(bare.group(1).lower(), shorten(value))
    wanted = _normal_text(text)
    for letter, option in options.items():
        if wanted == _normal_text(option):
            return Reading(letter, shorten(value))
    prefixed = re.fullmatch(r"[\(\[]?\s*([A-Za-z])\s*[\)\]:.\-]\s*(.+)", text, re.S)
    if prefixed and prefixed.group(1).lower() in options and _normal_text(prefixed.group(2)) == _normal_text(options[prefixed.group(1).lower()]):
        return Reading(prefixed.group(1).lower(), shorten(value))
    return _unreadable(value, "not one of the options", advice)


def read_bool(value: Any) -> Reading:
    """``True``/``False``, or the words true/false/yes/no in any case.

    >>> read_bool("No").value, read_bool(False).value, read_bool(0).problem
    (False, False, 'not True or False')
    """
    if is_placeholder(value):
        return _placeholder(value)
    if isinstance(value, bool):
        return Reading(value, repr(value))
    if isinstance(value, str) and value.strip().casefold() in ("true", "yes", "false", "no"):
        return Reading(value.strip().casefold() in ("true", "yes"), shorten(value))
    return _unreadable(value, "not True or False", "Answer with True or False.")


def read_name(value: Any, names: Sequence[str]) -> Reading:
    """One of a few names (``"sobel_y"``), in any case, with spaces or dashes for underscores.

    >>> read_name("Sobel Y", ["sobel_x", "sobel_y", "laplacian"]).value
    'sobel_y'
    """
    if is_placeholder(value):
        return _placeholder(value)
    wanted = _normal_text(value).replace(" ", "_").replace("-", "_") if isinstance(value, str) else None
    for name in names:
        if wanted == name.casefold():
            return Reading(name, shorten(value))
    return _unreadable(value, "not one of the names", f"Answer with one of {', '.join(repr(n) for n in names)}.")


# ---------------------------------------------------------------------------------------------
# Sizes: "12x34", (12, 34), "28x28x1"
# ---------------------------------------------------------------------------------------------
_SIZE_SEP = r"\s*[xX×*]\s*"


def read_size(value: Any, dims: int = 2, what: str = "the size") -> Reading:
    """A size of ``dims`` whole numbers: ``"12x34"``, ``"12 X 34"``, ``(12, 34)``, ``[12, 34]``, ``"(12, 34)"``.

    ``details["numbers"]`` keeps every number that was written (for hints on a
    wrong count or order).

    >>> read_size("12 x 34").value, read_size([12, 34]).value, read_size("28x28x1", dims=3).value
    ((12, 34), (12, 34), (28, 28, 1))
    >>> read_size("12x34x3").problem
    'not 2 numbers'
    """
    if is_placeholder(value):
        return _placeholder(value)
    numbers: list[int] = []
    if isinstance(value, str):
        numbers = [int(n) for n in re.findall(r"\d+", value)]
    elif isinstance(value, (list, tuple)) or (isinstance(value, dict) and "data" in value):
        items = value["data"] if isinstance(value, dict) else value
        for item in items:
            one = read_whole_number(item)
            if not one.ok:
                return _unreadable(value, "not whole numbers", f"Write {what} as whole numbers, like (12, 34).")
            numbers.append(one.value)
    else:
        one = read_whole_number(value)
        if one.ok:
            numbers = [one.value]
    shown = shorten(value)
    if len(numbers) != dims:
        form = "height x width" if dims == 2 else "height x width x channels"
        return Reading(None, shown, f"not {dims} numbers", f"Write {what} as {form}, like {'12x34' if dims == 2 else '28x28x1'}.",
                       details={"numbers": tuple(numbers)})
    return Reading(tuple(numbers), shown, details={"numbers": tuple(numbers)})


# ---------------------------------------------------------------------------------------------
# Chains of sizes
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainSize:
    """One size of a chain as it was written: its numbers, the text, and its line."""

    height: int
    width: int
    text: str
    line: int

    @property
    def square(self) -> bool:
        return self.height == self.width


_SIZE = re.compile(r"(\d+)" + _SIZE_SEP + r"(\d+)")
_ARROW = re.compile(r"-+>|=+>|→|⟶|>")
_NUMBERING = re.compile(r"^\s*(?:step\s*)?\d+\s*[.):]\s+", re.I)
_NOTE = re.compile(r"\(([^()]*)\)")
HOW_TO_WRITE_A_CHAIN = ("Write the chain as sizes separated by '>', for example '7x7 > 5x5 > 3x3 > 1x1', "
                        "or one size per line.")


def _drop_notes(line: str) -> str:
    """Remove parenthesised notes that hold words, such as "(5 layers)"; keep "(199x199)"."""
    return _NOTE.sub(lambda m: " " if re.search(r"[A-Za-z]{2,}", m.group(1)) else m.group(0), line)


def _table_rows(lines: list[str]) -> list[list[str]] | None:
    """The cells of a markdown table, header first, or None when the text is not one."""
    rows = [line.strip() for line in lines if line.strip()]
    if len(rows) < 2 or not all(r.startswith("|") for r in rows):
        return None
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    if not any(all(re.fullmatch(r":?-{2,}:?", c) for c in row if c) for row in cells):
        return None
    return [row for row in cells if not all(re.fullmatch(r":?-{2,}:?", c) for c in row if c)]


def _sizes_in(text: str, line: int) -> list[ChainSize]:
    return [ChainSize(int(m.group(1)), int(m.group(2)), m.group(0), line) for m in _SIZE.finditer(text)]


def _table_sizes(rows: list[list[str]]) -> list[list[ChainSize]]:
    """Per table row, the sizes of its input and output columns (or of every size column)."""
    header = [c.casefold() for c in rows[0]]
    body = rows[1:] if not any(_SIZE.search(c) for c in rows[0]) else rows
    skip = {i for i, h in enumerate(header) if re.search(r"kernel|filter|\brf\b|recept|jump|param", h)}
    inputs = [i for i, h in enumerate(header) if re.fullmatch(r"(input|in)( size)?", h)]
    outputs = [i for i, h in enumerate(header) if re.fullmatch(r"(output|out)( size)?", h)]
    wanted = inputs[:1] + outputs[:1] if inputs and outputs else None
    out = []
    for n, row in enumerate(body):
        columns = wanted if wanted is not None else [i for i in range(len(row)) if i not in skip]
        sizes: list[ChainSize] = []
        for i in columns:
            if i < len(row):
                sizes += _sizes_in(row[i], n)
        if not sizes and wanted is None:
            sizes = [ChainSize(int(c), int(c), c, n) for c in row if re.fullmatch(r"\d+", c)]
        if sizes:
            out.append(sizes)
    return out


def _drop_kernels(tokens: list[ChainSize], seps: list[str], kernel: int | None) -> tuple[list[ChainSize], list[bool]]:
    """Remove a kernel written between two sizes (``31x31 | 3x3 > 29x29``).

    A kxk token counts as the kernel when a bar stands next to it and the sizes on
    either side of it make one convolution step. Returns the tokens kept, and for
    each kept token whether a kernel stood just before it.
    """
    if kernel is None:
        return tokens, [False] * len(tokens)
    kept, after_kernel = [], []
    skip_next_flag = False
    for i, t in enumerate(tokens):
        is_kernel = (
            (t.height, t.width) == (kernel, kernel)
            and 0 < i < len(tokens) - 1
            and ("|" in seps[i] or "|" in seps[i + 1])
            and tokens[i - 1].height - tokens[i + 1].height == kernel - 1
        )
        if is_kernel and kept and kept[-1] is tokens[i - 1]:
            skip_next_flag = True
            continue
        kept.append(t)
        after_kernel.append(skip_next_flag)
        skip_next_flag = False
    return kept, after_kernel


def _line_tokens(line: str, n: int, kernel: int | None) -> tuple[list[ChainSize], list[bool], list[str]]:
    tokens = _sizes_in(line, n)
    bounds = [0] + [m.end() for m in _SIZE.finditer(line)]
    starts = [m.start() for m in _SIZE.finditer(line)]
    seps = [line[bounds[i]:starts[i]] for i in range(len(tokens))] + [line[bounds[-1]:]]
    kept, after_kernel = _drop_kernels(tokens, seps, kernel)
    index = {id(t): i for i, t in enumerate(tokens)}
    kept_seps = [seps[index[id(t)]] for t in kept]
    return kept, after_kernel, kept_seps


def _chain_from_text(text: str, kernel: int | None) -> tuple[list[ChainSize], str]:
    """Sizes in order, with the duplicates of step-per-line and block formats merged; and the form read.

    A size written twice in a row is merged (not a repeated step) where the format
    repeats it on purpose: at the start of a line that continues the previous line
    (steps or blocks, one per line), after a step whose kernel was written in
    (``A | 3x3 | B -> B | 3x3 | C``), and across a bar that separates rows of sizes
    written with other separators.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    table = _table_rows(lines)
    groups: list[list[ChainSize]] = []
    flags: list[list[bool]] = []
    seps: list[list[str]] = []
    if table is not None:
        groups = _table_sizes(table)
        flags = [[False] * len(g) for g in groups]
        seps = [[""] * len(g) for g in groups]
        form = "a table"
    else:
        for n, raw in enumerate(lines):
            line = _drop_notes(_NUMBERING.sub(" ", raw))
            tokens, after_kernel, line_seps = _line_tokens(line, n, kernel)
            if tokens:
                groups.append(tokens)
                flags.append(after_kernel)
                seps.append(line_seps)
        form = "one line" if len(groups) == 1 else "several lines"
    between = [sep for line_seps in seps for sep in line_seps[1:]]
    bars_only = bool(between) and all("|" in sep for sep in between)
    sizes: list[ChainSize] = []
    for g, (group, after_kernel, group_seps) in enumerate(zip(groups, flags, seps)):
        for i, token in enumerate(group):
            if sizes and (sizes[-1].height, sizes[-1].width) == (token.height, token.width):
                continues_line = i == 0 and g > 0 and len(group) >= 2 and len(groups[g - 1]) >= 2
                after_step = i > 0 and after_kernel[i - 1] and bool(_ARROW.search(group_seps[i]))
                across_bar = i > 0 and "|" in group_seps[i] and not bars_only and not after_kernel[i]
                if continues_line or after_step or across_bar:
                    continue
            sizes.append(token)
    return sizes, form


def read_chain(value: Any, kernel: int | None = 3) -> Reading:
    """A chain of square sizes from a large image down, in any of the shapes students use.

    Text: sizes ``31x31``, ``31 X 31``, ``31*31`` separated by ``>``, ``->``,
    ``-->``, ``|``, commas or new lines (a trailing arrow is fine); one step per
    line written as a pair; blocks of steps per line, each starting where the last
    ended, with notes such as ``(5 layers)``; numbered lines with the kernel written
    in (``1. 31x31 | 3x3 > 29x29``); the kernel between sizes
    (``31*31 | 3*3 | 29*29 ->``); a markdown table with input and output
    columns among others. Also a list of sizes (ints, pairs or strings).

    ``value`` is the list of side lengths, ``details["sizes"]`` the sizes as
    written (non-square ones included, for hints).

    >>> read_chain("9x9>7x7\\n7x7>5x5\\n5x5>3x3\\n3x3>1x1").value
    [9, 7, 5, 3, 1]
    >>> read_chain("| input | kernel | output | RF |\\n|---|---|---|---|\\n| 5x5 | 3x3 | 3x3 | 3 |\\n| 3x3 | 3x3 | 1x1 | 5 |").value
    [5, 3, 1]
    >>> read_chain("5x5 > 3x3 > 1x1 and done").value, read_chain("no idea").problem
    ([5, 3, 1], 'no sizes found')
    """
    if is_placeholder(value):
        return _placeholder(value)
    sizes: list[ChainSize] = []
    form = "a list"
    if isinstance(value, str):
        sizes, form = _chain_from_text(value, kernel)
        if not sizes:
            numbers = [int(n) for n in re.findall(r"\d+", value)]
            if len(numbers) >= 2:
                sizes = [ChainSize(n, n, str(n), 0) for n in numbers]
                form = "plain numbers"
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, str):
                inner = read_chain(item, kernel)
                if not inner.ok:
                    return _unreadable(value, "an entry is not a size", HOW_TO_WRITE_A_CHAIN)
                sizes += inner.details["sizes"]
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                h, w = read_whole_number(item[0]), read_whole_number(item[1])
                if not (h.ok and w.ok):
                    return _unreadable(value, "an entry is not a size", HOW_TO_WRITE_A_CHAIN)
                sizes.append(ChainSize(h.value, w.value, f"{h.value}x{w.value}", 0))
            else:
                n = read_whole_number(item)
                if not n.ok:
                    return _unreadable(value, "an entry is not a size", HOW_TO_WRITE_A_CHAIN)
                sizes.append(ChainSize(n.value, n.value, str(n.value), 0))
    else:
        return _unreadable(value, "not text or a list", HOW_TO_WRITE_A_CHAIN)
    if not sizes:
        return _unreadable(value, "no sizes found", HOW_TO_WRITE_A_CHAIN)
    return Reading([s.height if s.square else None for s in sizes], shorten(value),
                   details={"sizes": sizes, "form": form})


def read_plan(value: Any) -> Reading:
    """A chain with max pools marked ``MP`` (``"100x100 > 98x98 | MP > 49x49"``).

    ``value`` is a list of side lengths and the string ``"MP"`` for each pool.

    >>> read_plan("8x8 > 6x6 | MP > 3x3 > 1x1").value
    [8, 6, 'MP', 3, 1]
    >>> read_plan([8, 6, "MP", 3, 1]).value
    [8, 6, 'MP', 3, 1]
    """
    if is_placeholder(value):
        return _placeholder(value)
    steps: list[Any] = []
    if isinstance(value, str):
        for m in re.finditer(r"(\d+)(?:" + _SIZE_SEP + r"(\d+))?|\b(?:MP|maxpool|max pool|pool)\b", value, re.I):
            if m.group(1) is None:
                steps.append("MP")
            elif m.group(2) is not None and m.group(1) != m.group(2):
                return Reading(None, shorten(value), "a size is not square",
                               f"{m.group(0)} is not square: write each size as NxN.")
            else:
                steps.append(int(m.group(1)))
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, str) and item.strip().upper() in ("MP", "POOL", "MAXPOOL"):
                steps.append("MP")
            else:
                inner = read_chain(item, None) if isinstance(item, str) else None
                if inner is not None and inner.ok and len(inner.value) == 1 and inner.value[0] is not None:
                    steps.append(inner.value[0])
                    continue
                n = read_whole_number(item)
                if not n.ok:
                    return _unreadable(value, "an entry is not a size", "Write the plan like '100x100 > 98x98 | MP > 49x49'.")
                steps.append(n.value)
    else:
        return _unreadable(value, "not text or a list", "Write the plan like '100x100 > 98x98 | MP > 49x49'.")
    if not any(isinstance(s, int) for s in steps):
        return _unreadable(value, "no sizes found", "Write the plan like '100x100 > 98x98 | MP > 49x49'.")
    return Reading(steps, shorten(value))


# ---------------------------------------------------------------------------------------------
# Tensors
# ---------------------------------------------------------------------------------------------
def read_tensor(value: Any, what: str = "the tensor") -> Reading:
    """A tensor, an array or nested lists of numbers, as a float64 tensor.

    >>> read_tensor([[1, 2], [3, 4]]).value.shape
    torch.Size([2, 2])
    """
    import torch

    if is_placeholder(value):
        return _placeholder(value)
    if isinstance(value, dict) and "shape" in value:
        return _unreadable(value, "too large to read", f"{what} has more numbers than expected.")
    try:
        tensor = torch.as_tensor(value, dtype=torch.float64) if not isinstance(value, torch.Tensor) else value.detach().double()
    except (TypeError, ValueError, RuntimeError):
        return _unreadable(value, "not a tensor", f"Give {what} as a tensor, for example torch.tensor([[...], ...]).")
    shown = shorten(tensor.tolist()) if tensor.numel() <= 20 else f"tensor of shape {tuple(tensor.shape)}"
    return Reading(tensor, shown)
