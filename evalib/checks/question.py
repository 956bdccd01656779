"""Questions: one object per graded test cell, declared once in an exercise module.

A :class:`Question` holds what it asks, its points split over :class:`Part`\\ s (one
answer each, or one function), its ladder of hints and its known wrong answers.
The same object serves three places:

- the student's notebook: ``q.check(answer)`` (never raises; says "recorded" in a
  graded release, right or wrong in a practice release), ``q.hint()``,
  ``q.solution()``;
- the trusted grader: ``q.requests(hidden)`` says what to take from the student's
  namespace (values by name, functions called with the cases' inputs only),
  ``q.probe(namespace, request)`` runs in the student's process and returns plain
  data, ``q.judge(extracted, hidden)`` turns that data and the hidden key into an
  :class:`~evalib.checks.outcome.Outcome` without running student code;
- plain nbgrader: ``q.grade(answer, key=...)`` is ``judge(probe(...))`` in the
  kernel; it shows the outcome and returns the points, which nbgrader reads as
  partial credit.

>>> q = Question("a9_demo", "test_count", "count", "A count", [NumberPart("count", 1, what="the count",
...              wrong={100: "You counted the sizes, not the steps between them."})])
>>> q.check(100).hint
'You counted the sizes, not the steps between them.'
>>> q.check("42 times").state
'recorded'
>>> q.judge([{"found": True, "name": "count", "value": "42 times", "made_with": []}], {"key": 42}).state
'correct'
"""
from __future__ import annotations

import importlib
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .compare import canonical, chain_problem, close, digest, expand_chain, plan_convolutions, plan_problem, same
from .mode import feedback_mode, practice_entry, record
from .outcome import Outcome, PartOutcome, worst_state
from .parse import (Reading, read_bool, read_chain, read_choice, read_name, read_number, read_numbers, read_plan,
                    read_size, read_tensor, read_whole_number, shorten)
from .plain import from_plain, to_plain
from .probe import call, lookup, take_value

__all__ = [
    "Question", "Part", "HiddenPart", "Example", "Rule",
    "NumberPart", "ChoicePart", "BoolPart", "NamePart", "SizePart", "ChainPart", "PlanPart",
    "NumberListPart", "TensorPart", "FunctionPart",
    "find_question", "questions_of", "EXERCISE_MODULES", "error_type",
]

_MISSING = object()

#: The exercise module of each assignment.
EXERCISE_MODULES = {
    "a1_kernels_channels": "evalib.exercises.a1_kernels_channels",
    "a2_receptive_field": "evalib.exercises.a2_receptive_field",
    "a3_initialization": "evalib.exercises.a3_initialization",
    "a4_mnist_one_epoch": "evalib.exercises.a4_mnist_one_epoch",
    "a5_buggy_code": "evalib.exercises.a5_buggy_code",
}
_QUESTIONS: dict[tuple[str, str], "Question"] = {}


def questions_of(assignment: str) -> list["Question"]:
    """The questions of an assignment, in the order its module declares them."""
    if assignment in EXERCISE_MODULES:
        importlib.import_module(EXERCISE_MODULES[assignment])
    return [q for (a, _), q in _QUESTIONS.items() if a == assignment]


def find_question(question_id: str, assignment: str | None = None) -> "Question":
    """The question whose test cell has this grade id (in ``assignment`` when given)."""
    for name in ([assignment] if assignment else list(EXERCISE_MODULES)):
        for q in questions_of(name):
            if q.id == question_id:
                return q
    raise LookupError(f"no question {question_id!r}" + (f" in {assignment}" if assignment else ""))


# ---------------------------------------------------------------------------------------------
# What judging may use: the hidden key (plain), or a practice key (digests)
# ---------------------------------------------------------------------------------------------
@dataclass
class HiddenCase:
    """One hidden case of a function: its inputs, and its expected result (plain or as a digest)."""

    args: Any
    value: Any = _MISSING
    digest: str | None = None


@dataclass
class HiddenPart:
    """The key of one part: its value (the instructor's side) or its digest (a practice release)."""

    value: Any = _MISSING
    digest: str | None = None
    salt: str = ""
    question: str = ""
    part: str = ""
    notes: dict = field(default_factory=dict)
    cases: list[HiddenCase] = field(default_factory=list)
    practice: bool = False
    extra: dict = field(default_factory=dict)  # what a part keeps besides, in a practice key

    @property
    def has_key(self) -> bool:
        return self.value is not _MISSING or self.digest is not None

    def matches(self, part: "Part", answer: Any) -> bool:
        """Whether ``answer`` (as read) equals the key, or has the key's digest."""
        if self.value is not _MISSING:
            return part.same(answer, part.key_value(self.value))
        if self.digest is not None:
            return self.digest_of(part, answer) == self.digest
        return False

    def digest_of(self, part: "Part", answer: Any) -> str:
        return digest(self.salt, self.question, self.part, part.canonical(answer))


def _pick(container: Any, part: str, single: bool) -> Any:
    if single:
        return container
    if isinstance(container, dict):
        return container.get(part, _MISSING)
    return _MISSING


# ---------------------------------------------------------------------------------------------
# Parts
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """A known mistake recognized from the answer alone: ``test(value) -> bool`` and its hint."""

    test: Callable[[Any], bool]
    hint: str

    def applies(self, value: Any) -> bool:
        try:
            return bool(self.test(value))
        except Exception:  # a rule that does not apply to this shape of answer
            return False


def error_type(text: Any) -> str:
    """The type of an error as a probe reports it (``"ValueError: ..."`` -> ``"ValueError"``) when it is
    one of Python's or the checks' own, else ``"an error"``: a class of the student's could be named
    after anything, the hidden inputs it was called with too.

    >>> error_type("IndexError: list index out of range"), error_type("Seen_47_49: boo")
    ('IndexError', 'an error')
    """
    import builtins

    name = str(text).split(":", 1)[0].strip() if text else ""
    known = getattr(builtins, name, None) if name.isidentifier() else None
    if name in ("HelperNotAllowed", "ProbeTimeout") or (isinstance(known, type) and issubclass(known, BaseException)):
        return name
    return "an error"


def uses_message(label: str, used: Sequence[str], verb: str = "uses") -> str:
    """"conv_chain uses evalib.shrink_chain, which solves this exercise for you: it earns no points."."""
    solve = "solves" if len(used) == 1 else "solve"
    return f"{label} {verb} {' and '.join(used)}, which {solve} this exercise for you: it earns no points."


def _part(name: str, state: str, points: float, max_points: float, message: str, hint: str = "",
          answer: str | None = None) -> PartOutcome:
    return PartOutcome(name, state, points, max_points, message, hint, answer)


class Part:
    """One graded piece of a question: an answer variable (or a function) and its points."""

    closed = False  # a few options: never answered with a hint before grading (that would be an oracle)
    plain_in_practice = False  # its key is a range or a setting, shipped as such (encoded) in a practice key

    def __init__(self, name: str, points: float, label: str | None = None, aliases: Sequence[str] = ()) -> None:
        self.name = name
        self.points = float(points)
        self.label = label or name
        self.aliases = tuple(aliases)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def reads(self) -> tuple[str, ...]:
        """The notebook's names this part takes its answers from (what ``check`` takes, in order)."""
        return (self.name,)

    # The four steps; value parts share them, function parts have their own.
    def requests(self, hidden: HiddenPart | None) -> list[dict]:
        return [{"op": "value", "part": self.name, "name": self.name, "aliases": list(self.aliases)}]

    def probe(self, namespace: dict, request: dict, assignment: str) -> dict:
        return take_value(namespace, [request["name"], *request.get("aliases", [])], assignment)

    def review(self, results: list[dict]) -> PartOutcome:
        raise NotImplementedError

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        raise NotImplementedError

    def key_value(self, key: Any) -> Any:
        """The key in the form answers are read into."""
        return key

    def same(self, answer: Any, key: Any) -> bool:
        return same(answer, key)

    def canonical(self, answer: Any) -> str:
        return canonical(answer)

    def practice_data(self, hidden: HiddenPart, salt: str, question: str) -> dict:
        """What a practice key holds for this part: a digest of the key's canonical form, the notes."""
        data: dict[str, Any] = {"notes": hidden.notes}
        if hidden.value is not _MISSING:
            if self.plain_in_practice:
                data["value"] = hidden.value
            else:
                data["digest"] = digest(salt, question, self.name, self.canonical(self.key_value(hidden.value)))
        return data


class ValuePart(Part):
    """An answer given as a value. Subclasses say how to read it and which mistakes they know."""

    what = "an answer"

    def __init__(self, name: str, points: float, label: str | None = None, aliases: Sequence[str] = (),
                 rules: Sequence[Rule] = (), wrong: dict | None = None, hint: str = "", what: str | None = None) -> None:
        super().__init__(name, points, label, aliases)
        self.rules = tuple(rules)
        self.wrong = dict(wrong or {})
        self.fallback_hint = hint
        if what:
            self.what = what

    def read(self, value: Any) -> Reading:
        raise NotImplementedError

    def diagnose(self, reading: Reading) -> str | None:
        """A known mistake recognized without the key (never used for closed questions before grading)."""
        for known, hint in self.wrong.items():
            if self.same(reading.value, self.key_value(known)):
                return hint
        for rule in self.rules:
            if rule.applies(reading.value):
                return rule.hint
        return None

    def explain(self, reading: Reading, key: Any) -> str | None:
        """A hint that may use the key (on the grading side only)."""
        return None

    def recorded(self, reading: Reading) -> str:
        return f"{self.label} is recorded ({reading.shown})"

    def _read_result(self, result: dict) -> tuple[Reading | None, PartOutcome | None]:
        """The reading, or the outcome that ends the check early (missing, placeholder, unreadable, helpers)."""
        if "error" in result and "found" not in result:
            return None, _part(self.name, "error", 0.0, self.points, f"{self.label} could not be taken from the notebook.")
        if not result.get("found"):
            return None, _part(self.name, "not attempted", 0.0, self.points,
                               f"{self.label} is not defined: run the cell where you answer it, then this check.")
        value = from_plain(result.get("value"))
        reading = self.read(value)
        if reading.placeholder:
            return None, _part(self.name, "not attempted", 0.0, self.points, f"{self.label}: not attempted yet.",
                               "Replace the placeholder (None or ...) with your answer, run that cell, then run this check again.")
        helpers = [h for h in result.get("made_with", []) if isinstance(h, str)]
        if helpers:
            return None, _part(self.name, "wrong", 0.0, self.points, uses_message(self.label, helpers, "was computed with"),
                               "Work it out yourself, by hand or with your own code; the helpers are there to compare with afterwards.",
                               reading.shown)
        if not reading.ok:
            return None, _part(self.name, "wrong", 0.0, self.points,
                               f"{self.label} cannot be read as {self.what} ({reading.problem}).", reading.advice, reading.shown)
        return reading, None

    def review(self, results: list[dict]) -> PartOutcome:
        reading, early = self._read_result(results[0])
        if early is not None:
            return early
        hint = None if self.closed else self.diagnose(reading)
        if hint:
            return _part(self.name, "wrong", 0.0, self.points, f"{self.label} is not right yet.", hint, reading.shown)
        return _part(self.name, "recorded", 0.0, self.points,
                     f"{self.recorded(reading)}; it is graded when you hand in.", answer=reading.shown)

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        reading, early = self._read_result(results[0])
        if early is not None:
            return early
        if not hidden.has_key:
            return _part(self.name, "error", 0.0, self.points, f"{self.label}: no key to grade it with.", answer=reading.shown)
        if hidden.matches(self, reading.value):
            return _part(self.name, "correct", self.points, self.points, f"{self.label}: right.", answer=reading.shown)
        hint = hidden.notes.get(self.canonical(reading.value)) or self.diagnose(reading)
        if not hint and hidden.value is not _MISSING:
            hint = self.explain(reading, self.key_value(hidden.value))
        return _part(self.name, "wrong", 0.0, self.points, f"{self.label} is not right.",
                     hint or self.fallback_hint or "Work it out again step by step.", reading.shown)


class NumberPart(ValuePart):
    """A number (a count by default): ``99``, ``"99"``, ``99.0``, ``"99 times"``.

    ``wrong`` maps known wrong values to their hints; ``rules`` recognize mistakes
    by a test on the value. ``rel`` is the relative tolerance (0: exact).
    """

    def __init__(self, name: str, points: float, *, whole: bool = True, rel: float = 0.0, **options: Any) -> None:
        options.setdefault("what", "a whole number" if whole else "a number")
        super().__init__(name, points, **options)
        self.whole = whole
        self.rel = rel

    def read(self, value: Any) -> Reading:
        return read_whole_number(value, self.what) if self.whole else read_number(value, self.what)

    def same(self, answer: Any, key: Any) -> bool:
        if self.rel:
            return close(answer, key, rel=self.rel)
        return close(answer, key)


class ChoicePart(ValuePart):
    """Multiple choice among ``options`` (letter -> text). Its hints come with the key, after grading."""

    closed = True
    what = "one of the options"

    def __init__(self, name: str, points: float, options: dict[str, str], **more: Any) -> None:
        super().__init__(name, points, **more)
        self.options = dict(options)

    def read(self, value: Any) -> Reading:
        return read_choice(value, self.options)

    def recorded(self, reading: Reading) -> str:
        return f"{self.label} is recorded: ({reading.value}) {self.options[reading.value]}"


class BoolPart(ValuePart):
    """True or False (also the words yes/no)."""

    closed = True
    what = "True or False"

    def read(self, value: Any) -> Reading:
        return read_bool(value)

    def recorded(self, reading: Reading) -> str:
        return f"{self.label} is recorded: {reading.value}"


class NamePart(ValuePart):
    """One of a few names (``"sobel_x"``, ``"sobel_y"``, ``"laplacian"``)."""

    closed = True
    what = "one of the names"

    def __init__(self, name: str, points: float, choices: Sequence[str], **more: Any) -> None:
        super().__init__(name, points, **more)
        self.choices = tuple(choices)

    def read(self, value: Any) -> Reading:
        return read_name(value, self.choices)

    def recorded(self, reading: Reading) -> str:
        return f"{self.label} is recorded: {reading.value!r}"


class SizePart(ValuePart):
    """A size of ``dims`` whole numbers (``"12x34"``, ``(12, 34)``); rules see the tuple."""

    what = "a size"

    def __init__(self, name: str, points: float, dims: int = 2, **more: Any) -> None:
        super().__init__(name, points, **more)
        self.dims = dims

    def read(self, value: Any) -> Reading:
        return read_size(value, self.dims, self.label)

    def key_value(self, key: Any) -> Any:
        return tuple(key)


class ChainPart(ValuePart):
    """A chain of sizes from ``start`` down with a ``kernel`` (no padding, stride 1), in any shape students use."""

    what = "a chain of sizes"

    def __init__(self, name: str, points: float, start: int, kernel: int = 3, **more: Any) -> None:
        super().__init__(name, points, **more)
        self.start, self.kernel = start, kernel

    def read(self, value: Any) -> Reading:
        return read_chain(value, self.kernel)

    def key_value(self, key: Any) -> Any:
        return expand_chain(key) if isinstance(key, str) else list(key)

    def same(self, answer: Any, key: Any) -> bool:
        return list(answer) == list(key)

    def diagnose(self, reading: Reading) -> str | None:
        return chain_problem(reading.details["sizes"], self.start, self.kernel) or super().diagnose(reading)

    def recorded(self, reading: Reading) -> str:
        sizes = reading.details["sizes"]
        return f"{self.label} is recorded: a chain from {sizes[0].text} to {sizes[-1].text}, read from {reading.details['form']}"


class PlanPart(ValuePart):
    """A plan to 1x1 with convolutions and max pools marked MP. Half the points for a plan that keeps the
    rules, all of them when it also uses as few convolutions as the key says."""

    what = "a plan"

    def __init__(self, name: str, points: float, start: int, kernel: int = 3, min_convs: int = 2, **more: Any) -> None:
        super().__init__(name, points, **more)
        self.start, self.kernel, self.min_convs = start, kernel, min_convs

    def read(self, value: Any) -> Reading:
        return read_plan(value)

    def canonical(self, answer: Any) -> str:
        return canonical(plan_convolutions(answer) if isinstance(answer, list) else answer)

    def same(self, answer: Any, key: Any) -> bool:
        return plan_convolutions(answer) <= key

    def diagnose(self, reading: Reading) -> str | None:
        return plan_problem(reading.value, self.start, self.kernel, self.min_convs)

    def recorded(self, reading: Reading) -> str:
        return f"{self.label} is recorded: a plan that keeps the rules, with {plan_convolutions(reading.value)} convolutions"

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        reading, early = self._read_result(results[0])
        if early is not None:
            return early
        problem = self.diagnose(reading)
        if problem:
            return _part(self.name, "wrong", 0.0, self.points, f"{self.label} breaks the rules.", problem, reading.shown)
        if hidden.digest is not None:
            fewest = hidden.matches(self, reading.value)
        else:
            fewest = hidden.has_key and plan_convolutions(reading.value) <= hidden.value
        if fewest:
            return _part(self.name, "correct", self.points, self.points, f"{self.label}: right.", answer=reading.shown)
        return _part(self.name, "wrong", self.points / 2, self.points,
                     f"{self.label} keeps the rules but uses {plan_convolutions(reading.value)} convolutions: more than needed.",
                     "Pool as soon as the rules allow: every pool halves the size, which saves many convolutions.", reading.shown)


class NumberListPart(ValuePart):
    """A list of numbers (receptive fields, one per layer); rules see the list."""

    what = "a list of whole numbers"

    def __init__(self, name: str, points: float, length: int | None = None, **more: Any) -> None:
        super().__init__(name, points, **more)
        self.length = length

    def read(self, value: Any) -> Reading:
        reading = read_numbers(value, self.label)
        if reading.ok and not all(isinstance(v, int) for v in reading.value):
            return Reading(None, reading.shown, "not whole numbers", f"Every entry of {self.label} is a whole number.")
        return reading

    def key_value(self, key: Any) -> Any:
        return list(key)

    def diagnose(self, reading: Reading) -> str | None:
        if self.length is not None and len(reading.value) != self.length:
            return f"{self.label} should have one value per layer: {self.length} values, not {len(reading.value)}."
        return super().diagnose(reading)

    def explain(self, reading: Reading, key: Any) -> str | None:
        first = next((i for i, (a, b) in enumerate(zip(reading.value, key)) if a != b), None)
        return None if first is None else f"The first value that differs is number {first + 1}."


class TensorPart(ValuePart):
    """A tensor (or nested lists) of a known ``shape``, compared within ``atol``."""

    what = "a tensor of numbers"

    def __init__(self, name: str, points: float, shape: tuple[int, ...], atol: float = 1e-4, **more: Any) -> None:
        super().__init__(name, points, **more)
        self.shape = tuple(shape)
        self.atol = atol

    def read(self, value: Any) -> Reading:
        return read_tensor(value, self.label)

    def key_value(self, key: Any) -> Any:
        import torch

        return key if isinstance(key, torch.Tensor) else torch.tensor(key, dtype=torch.float64)

    def same(self, answer: Any, key: Any) -> bool:
        import torch

        return tuple(answer.shape) == tuple(key.shape) and bool(torch.allclose(answer.double(), key.double(), atol=self.atol))

    def canonical(self, answer: Any) -> str:
        return canonical([round(float(v), 3) + 0.0 for v in answer.reshape(-1).tolist()] + [tuple(answer.shape)])

    def diagnose(self, reading: Reading) -> str | None:
        if tuple(reading.value.shape) != self.shape:
            return f"{self.label} should have shape {self.shape}; it has shape {tuple(reading.value.shape)}."
        return super().diagnose(reading)

    def recorded(self, reading: Reading) -> str:
        return f"{self.label} is recorded (a tensor of shape {tuple(reading.value.shape)})"


# ---------------------------------------------------------------------------------------------
# Functions: examples from the question, hidden cases from the key
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    """A call the question itself states, and its result (or None when ``truth`` computes it)."""

    args: tuple
    expected: Any = None
    shown: str = ""


class FunctionPart(Part):
    """A function the student writes, tried on the question's examples and on hidden cases.

    ``reader`` reads a result; ``same(result, expected)`` compares; ``diagnose(reading,
    inputs)`` explains a wrong result from the result and the inputs alone (full
    feedback on the examples). With ``make_inputs``, the examples' and cases'
    ``args`` are specifications (a seed, sizes) turned into inputs on both sides;
    with ``truth``, the expected result is computed from the inputs (by torch, never
    by a solution in evalib) instead of being given.
    """

    kind = "function"

    def __init__(self, name: str, points: float, *, examples: Sequence[Example], reader: Callable[[Any], Reading],
                 compare: Callable[[Any, Any], bool] = same, canon: Callable[[Any], str] = canonical,
                 key_reader: Callable[[Any], Any] = lambda value: value,
                 diagnose: Callable[[Reading, tuple], str | None] | None = None,
                 make_inputs: Callable[[Any], tuple] | None = None, truth: Callable[..., Any] | None = None,
                 timeout: float = 5.0, hidden_about: str = "other inputs", hidden_advice: str = "",
                 timeout_hint: str = "", label: str | None = None, aliases: Sequence[str] = (),
                 plain_in_practice: bool = False) -> None:
        super().__init__(name, points, label, aliases)
        self.plain_in_practice = plain_in_practice  # results compared with a tolerance cannot be checked by digest
        self.examples = tuple(examples)
        self.reader = reader
        self._same = compare
        self._canonical = canon
        self.key_reader = key_reader
        self._diagnose = diagnose
        self.make_inputs = make_inputs
        self.truth = truth
        self.timeout = timeout
        self.hidden_about = hidden_about
        self.hidden_advice = hidden_advice
        self.timeout_hint = timeout_hint or "A loop that never ends? Make sure it stops for every input."

    def same(self, answer: Any, key: Any) -> bool:
        return self._same(answer, key)

    def canonical(self, answer: Any) -> str:
        return self._canonical(answer)

    def _inputs(self, args: Any) -> tuple:
        return tuple(self.make_inputs(args)) if self.make_inputs else tuple(args)

    def _request(self, case: str, index: int, args: Any) -> dict:
        request = {"op": "call", "part": self.name, "name": self.name, "aliases": list(self.aliases),
                   "case": case, "index": index}
        request["spec" if self.make_inputs else "args"] = to_plain(args if self.make_inputs else tuple(args))
        return request

    def requests(self, hidden: HiddenPart | None) -> list[dict]:
        out = [self._request("example", i, ex.args) for i, ex in enumerate(self.examples)]
        for i, case in enumerate(hidden.cases if hidden is not None else []):
            out.append(self._request("hidden", i, case.args))
        return out

    def probe(self, namespace: dict, request: dict, assignment: str) -> dict:
        found, name, function = lookup(namespace, [request["name"], *request.get("aliases", [])])
        if not found:
            return {"found": False, "name": name}
        if function is None or function is Ellipsis:
            return {"found": True, "name": name, "placeholder": True}
        if not callable(function):
            return {"found": True, "name": name, "callable": False, "value": to_plain(function)}
        raw = request.get("spec") if "spec" in request else request.get("args")
        args = self._inputs(from_plain(raw))
        data = call(function, args, assignment=assignment, timeout=self.timeout)
        data.update({"found": True, "name": name, "callable": True})
        return data

    def _expected(self, case: str, index: int, args: Any, hidden: HiddenPart | None) -> tuple[Any, str | None]:
        """The expected result (or _MISSING) and its digest (or None)."""
        if self.truth is not None:
            return self.truth(*self._inputs(args)), None
        if case == "example":
            return self.key_reader(self.examples[index].expected), None
        hc = hidden.cases[index]
        return (self.key_reader(hc.value) if hc.value is not _MISSING else _MISSING), hc.digest

    def _shown(self, case: str, index: int) -> str:
        if case == "example" and self.examples[index].shown:
            return self.examples[index].shown
        return f"{self.label}(...)"

    def _function_problem(self, results: list[dict]) -> PartOutcome | None:
        """An outcome for the function as a whole: not defined, not written, not a function, uses a helper."""
        if not results:
            return None
        first = results[0]
        if first.get("error") and "found" not in first:
            return _part(self.name, "error", 0.0, self.points, f"{self.label} could not be taken from the notebook.")
        if not first.get("found"):
            return _part(self.name, "not attempted", 0.0, self.points, f"{self.label} is not defined yet.",
                         f"Write {self.label} in its cell (replace the ...), run that cell, then run this check.")
        if first.get("placeholder") or all(r.get("not_implemented") for r in results):
            return _part(self.name, "not attempted", 0.0, self.points, f"{self.label}: not attempted yet.",
                         f"Write {self.label} in its cell (replace the ...), run that cell, then run this check.")
        if first.get("callable") is False:
            return _part(self.name, "wrong", 0.0, self.points, f"{self.label} is not a function.",
                         "Define it with `def` in its cell and run that cell.", shorten(from_plain(first.get("value"))))
        if all(r.get("ok") and r.get("result") is None and not (r.get("output") or "").strip() for r in results):
            return _part(self.name, "not attempted", 0.0, self.points, f"{self.label} returns None: not attempted yet.",
                         f"Write {self.label} in its cell (replace the ...) and end it with `return`; run that cell, "
                         "then run this check.")
        used = sorted({h for r in results for h in r.get("helpers", []) if isinstance(h, str)})
        if used:
            return _part(self.name, "wrong", 0.0, self.points, uses_message(self.label, used), "Write the computation yourself.")
        return None

    def _evaluate(self, result: dict, request: dict, hidden: HiddenPart | None) -> tuple[str, str, str, str | None]:
        """(state, what happened, hint, answer shown) for one call; "correct" when the result is right.

        "what happened" completes a sentence that starts with the call, e.g.
        "conv_chain(7) returned '7x7 > 5x5 > 3x3'".
        """
        if result.get("error") and "found" not in result:
            return "error", "could not be called", "", None
        if result.get("skipped"):
            return "wrong", "was not tried (an earlier case ran out of time)", self.timeout_hint, None
        if result.get("not_implemented"):
            return "wrong", "is not written yet (NotImplementedError)", "", None
        if result.get("timeout"):
            return "wrong", f"did not finish within {self.timeout:g} s", self.timeout_hint, None
        if not result.get("ok"):
            return "wrong", f"stopped with an error ({result.get('error')})", \
                "Run it yourself on a small example to see where it goes wrong.", None
        value = from_plain(result.get("result"))
        if value is None:
            if (result.get("output") or "").strip():
                return "wrong", "prints its result but returns None", \
                    f"End {self.label} with `return` of the result (for example `return text`) instead of printing it.", None
            return "wrong", "returns None", f"End {self.label} with a `return` statement.", None
        reading = self.reader(value)
        if not reading.ok:
            return "wrong", f"returned {reading.shown}, which cannot be read ({reading.problem})", reading.advice, reading.shown
        case, index = request.get("case"), int(request.get("index", 0))
        args = from_plain(request.get("spec") if "spec" in request else request.get("args"))
        expected, stored = self._expected(case, index, args, hidden)
        if expected is not _MISSING and expected is not None:
            right = self.same(reading.value, expected)
        elif stored is not None and hidden is not None:
            right = digest(hidden.salt, hidden.question, self.name, self.canonical(reading.value)) == stored
        else:
            return "error", "has no expected result to be compared with", "", reading.shown
        if right:
            return "correct", "", "", reading.shown
        hint = self._diagnose(reading, self._inputs(args)) if self._diagnose else None
        return "wrong", f"returned {reading.shown}", hint or "", reading.shown

    def review(self, results: list[dict]) -> PartOutcome:
        return self._combine(results, self.requests(None), None, graded=False)

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        return self._combine(results, self.requests(hidden), hidden, graded=True)

    def _combine(self, results: list[dict], requests: list[dict], hidden: HiddenPart | None, graded: bool) -> PartOutcome:
        early = self._function_problem(results)
        if early is not None:
            return early
        found = [(q, self._evaluate(r, q, hidden)) for r, q in zip(results, requests)]
        for request, (state, happened, hint, answer) in found:
            if request["case"] == "example" and state != "correct":
                shown = self._shown("example", int(request["index"]))
                return _part(self.name, "error" if state == "error" else "wrong", 0.0, self.points,
                             f"{shown} {happened}.", hint, answer)
        hidden_found = [f for f in found if f[0]["case"] == "hidden"]
        failing = [f for f in hidden_found if f[1][0] != "correct"]
        if not graded:
            shown = ", ".join(ex.shown for ex in self.examples if ex.shown) or "the examples"
            return _part(self.name, "recorded", 0.0, self.points,
                         f"{self.label} gives the right result for {shown}; hidden cases try {self.hidden_about} "
                         "when you hand in.")
        if not failing:
            return _part(self.name, "correct", self.points, self.points,
                         f"{self.label}: right on the examples and on {len(hidden_found)} hidden cases.")
        request, (_, happened, hint, _) = failing[0]
        wrong_result = happened.startswith("returned")
        what = "a wrong result" if wrong_result else happened
        if happened.startswith("stopped with an error"):  # the error's type only: its text may quote the inputs
            what = f"stopped with {error_type(results[requests.index(request)].get('error'))}"
        advice = " ".join(t for t in ("" if wrong_result else hint, self.hidden_advice) if t)
        return _part(self.name, "wrong", 0.0, self.points,
                     f"{self.label} is right on the examples but fails {len(failing)} of {len(hidden_found)} hidden cases "
                     f"({self.hidden_about}); the first one {'gives ' if wrong_result else ''}{what}.", advice)

    def practice_data(self, hidden: HiddenPart, salt: str, question: str) -> dict:
        cases = []
        for case in hidden.cases:
            stored = None
            if self.plain_in_practice:
                stored = case.value if case.value is not _MISSING else None
            elif self.truth is None and case.value is not _MISSING:
                stored = digest(salt, question, self.name, self.canonical(self.key_reader(case.value)))
            cases.append([case.args, stored])
        return {"notes": hidden.notes, "cases": cases}


# ---------------------------------------------------------------------------------------------
# The question
# ---------------------------------------------------------------------------------------------
class _Shown:
    """Text shown in a notebook cell (a hint, a solution, a notice)."""

    def __init__(self, text: str, code: str | None = None) -> None:
        self.text, self.code = text, code

    def __repr__(self) -> str:
        return self.text + (f"\n\n{self.code}" if self.code else "")

    def _repr_markdown_(self) -> str:
        return self.text + (f"\n\n```python\n{self.code}\n```" if self.code else "")


class Question:
    """One graded test cell: its grade id, the answers it reads and how they are judged."""

    def __init__(self, assignment: str, id: str, attr: str, title: str, parts: Sequence[Part], prompt: str = "",
                 hints: Sequence[str] = ()) -> None:
        self.assignment = assignment
        self.id = id
        self.attr = attr
        self.title = title
        self.parts = tuple(parts)
        self.prompt = prompt
        self.hints = tuple(hints)
        if not self.parts:
            raise ValueError("a question needs at least one part")
        _QUESTIONS[(assignment, id)] = self

    def __repr__(self) -> str:
        return f"<question {self.attr} ({self.id}): {self.title}, {self.points:g} points>"

    @property
    def points(self) -> float:
        return sum(p.points for p in self.parts)

    @property
    def names(self) -> tuple[str, ...]:
        """The answers it reads, in the order ``check`` takes them."""
        seen: list[str] = []
        for p in self.parts:
            for name in p.reads:
                if name not in seen:
                    seen.append(name)
        return tuple(seen)

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(a for p in self.parts for a in p.aliases)

    # -- the hidden key ------------------------------------------------------------------------
    def _hidden(self, hidden: dict | None) -> dict[str, HiddenPart]:
        single = len(self.parts) == 1
        hidden = hidden or {}
        out = {}
        for part in self.parts:
            key = _pick(hidden.get("key", _MISSING), part.name, single)
            cases = _pick(hidden.get("cases", _MISSING), part.name, single)
            notes = _pick(hidden.get("notes", {}), part.name, single)
            out[part.name] = HiddenPart(
                value=key, question=self.id, part=part.name,
                notes={canonical(k) if not isinstance(k, str) else k.casefold(): v
                       for k, v in (notes.items() if isinstance(notes, dict) else [])},
                cases=[HiddenCase(c[0], c[1] if len(c) > 1 else _MISSING) for c in (cases if isinstance(cases, list) else [])])
        return out

    def _practice_hidden(self, entry: dict) -> dict[str, HiddenPart]:
        out = {}
        salt = str(entry.get("salt", ""))
        for part in self.parts:
            data = entry.get("parts", {}).get(part.name, {})
            plain = part.plain_in_practice
            out[part.name] = HiddenPart(
                value=data.get("value", _MISSING), digest=data.get("digest"), salt=salt, question=self.id, part=part.name,
                notes=dict(data.get("notes") or {}), practice=True, extra=dict(data),
                cases=[HiddenCase(c[0], c[1], None) if plain else HiddenCase(c[0], _MISSING, c[1])
                       for c in data.get("cases", [])])
        return out

    def practice_entry(self, hidden: dict, salt: str, solution: str = "") -> dict:
        """This question's share of a practice key (made at release from the hidden key)."""
        views = self._hidden(hidden)
        return {"salt": salt, "solution": solution,
                "parts": {p.name: p.practice_data(views[p.name], salt, self.id) for p in self.parts}}

    def closed_answers(self, hidden: dict) -> list[Any]:
        """The key's values (for scans that make sure no release or wheel spells them out)."""
        return [v.value for v in self._hidden(hidden).values() if v.value is not _MISSING]

    # -- the trusted side ----------------------------------------------------------------------
    def requests(self, hidden: dict | None = None) -> list[dict]:
        """What to take from the student's namespace: values by name, calls with inputs only."""
        views = self._hidden(hidden) if hidden is not None else None
        return [r for p in self.parts for r in p.requests(views[p.name] if views else None)]

    def probe(self, namespace: dict, request: dict) -> dict:
        """Run one request in the student's process; returns plain data."""
        part = self._part(request.get("part"))
        return part.probe(namespace, request, self.assignment)

    def _part(self, name: Any) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise LookupError(f"{self.id} has no part {name!r}")

    def _split(self, extracted: Any, requests: list[dict]) -> dict[str, list[dict]]:
        results = extracted.get("results", []) if isinstance(extracted, dict) else list(extracted or [])
        by_part: dict[str, list[dict]] = {p.name: [] for p in self.parts}
        for i, request in enumerate(requests):
            data = results[i] if i < len(results) and isinstance(results[i], dict) else {"error": "no data"}
            by_part[request["part"]].append(data)
        return by_part

    def judge(self, extracted: Any, hidden: dict) -> Outcome:
        """The outcome from plain probe data and the hidden key (``{"key": ..., "cases": ..., "notes": ...}``)."""
        return self._judge_with(extracted, self._hidden(hidden), self.requests(hidden))

    def _judge_with(self, extracted: Any, views: dict[str, HiddenPart], requests: list[dict]) -> Outcome:
        by_part = self._split(extracted, requests)
        outcomes = [p.judge(by_part[p.name], views[p.name]) for p in self.parts]
        return self._summary(outcomes, judged=True)

    def review(self, extracted: Any) -> Outcome:
        """The outcome a graded release's check gives: well-formed or not, known mistakes, never "correct"."""
        by_part = self._split(extracted, self.requests(None))
        return self._summary([p.review(by_part[p.name]) for p in self.parts], judged=False)

    def _summary(self, outcomes: list[PartOutcome], judged: bool) -> Outcome:
        points = sum(o.points for o in outcomes)
        total = self.points
        points = total if math.isclose(points, total) else round(points, 4)
        state = worst_state([o.state for o in outcomes])
        if judged and points >= total and all(o.state == "correct" for o in outcomes):
            state = "correct"
        elif judged and state == "recorded":
            state = "wrong"
        if len(outcomes) == 1:
            only = outcomes[0]
            return Outcome(self.id, state, points if judged else 0.0, total, only.message, only.answer, only.hint)
        first = next((o for o in outcomes if o.hint), None)
        hint = f"{first.name}: {first.hint}" if first is not None else ""
        answer = next((o.answer for o in outcomes if o.state in ("wrong", "error") and o.answer), None)
        if state == "not attempted" and all(o.state == "not attempted" for o in outcomes):
            message = f"{self.attr}: not attempted yet."
        elif judged and state == "correct":
            message = f"{self.attr}: every answer is right."
        elif judged:
            message = f"{self.attr}: {points:g} of {total:g} points."
        elif state == "recorded":
            message = f"{self.attr}: every answer is recorded; they are graded when you hand in."
        else:
            message = f"{self.attr}: " + ", ".join(f"{sum(o.state == s for o in outcomes)} {s}"
                                                   for s in ("recorded", "wrong", "not attempted", "error")
                                                   if any(o.state == s for o in outcomes)) + "."
        parts = tuple(PartOutcome(o.name, o.state, o.points if judged else 0.0, o.max_points, o.message, o.hint, o.answer)
                      for o in outcomes)
        return Outcome(self.id, state, points if judged else 0.0, total, message, answer, hint, parts)

    # -- the student's side ----------------------------------------------------------------------
    def _namespace(self, answers: tuple, named: dict, depth: int = 2) -> dict:
        if len(answers) > len(self.names):
            raise TypeError(f"{self.attr}.check takes at most {len(self.names)} answers ({', '.join(self.names)})")
        from .guard import HISTORY_KEY, _shell_history

        caller = sys._getframe(depth).f_globals
        namespace = dict(caller)
        cells, shell_ns = _shell_history()
        if shell_ns is caller:  # a notebook cell: answers can be traced through the cells that made them
            namespace[HISTORY_KEY] = cells
        namespace.update(zip(self.names, answers))
        namespace.update(named)
        return namespace

    def probe_all(self, namespace: dict, requests: Sequence[dict]) -> list[dict]:
        """Every request in turn, as JSON data; after a call runs out of time, the rest of that part's
        calls are skipped (one endless loop costs one time limit)."""
        out = []
        timed_out: set[str] = set()
        for request in requests:
            if request.get("op") == "call" and request.get("part") in timed_out:
                out.append({"found": True, "callable": True, "skipped": True})
                continue
            try:
                data = self.probe(namespace, request)
                data = json.loads(json.dumps(data, allow_nan=False))  # exactly what would cross a pipe
            except Exception as error:
                data = {"error": f"the probe failed: {type(error).__name__}: {str(error)[:300]}"}
            if data.get("timeout"):
                timed_out.add(str(request.get("part")))
            out.append(data)
        return out

    def check(self, *answers: Any, **named: Any) -> Outcome:
        """The self-check of a released notebook; never raises.

        Graded release: says whether each answer is well-formed and recorded, and
        answers known mistakes; practice release: right or wrong. Answers not passed
        are read from the notebook's namespace.
        """
        try:
            namespace = self._namespace(answers, named)
            entry = practice_entry(self.assignment, self.id)
            if entry is None:
                outcome = self.review(self.probe_all(namespace, self.requests(None)))
            else:
                views = self._practice_hidden(entry)
                requests = [r for p in self.parts for r in p.requests(views[p.name])]
                outcome = self._judge_with(self.probe_all(namespace, requests), views, requests)
        except Exception as error:  # the check's own failure must not look like the student's
            outcome = Outcome(self.id, "error", 0.0, self.points,
                              f"The check of {self.attr} failed ({type(error).__name__}: {error}); tell your instructor.")
        record(self.assignment, self.id, outcome.state)
        return outcome

    def grade(self, *answers: Any, key: Any = _MISSING, cases: Any = _MISSING, notes: Any = _MISSING, **named: Any) -> float:
        """Judge in this kernel with the hidden key (plain nbgrader), show the outcome, return the points."""
        hidden = {k: v for k, v in (("key", key), ("cases", cases), ("notes", notes)) if v is not _MISSING}
        try:
            namespace = self._namespace(answers, named)
            outcome = self.judge(self.probe_all(namespace, self.requests(hidden)), hidden)
        except Exception as error:
            outcome = Outcome(self.id, "error", 0.0, self.points,
                              f"Grading {self.attr} failed ({type(error).__name__}: {error}).")
        _display(outcome)
        record(self.assignment, self.id, outcome.state)
        return float(min(max(outcome.points, 0.0), self.points))

    def hint(self) -> _Shown:
        """The next hint of the ladder (a further call climbs one rung)."""
        from .mode import next_hint_level

        if not self.hints:
            return _Shown(f"No hints for {self.attr}: read the question again.")
        level = next_hint_level(self.assignment, self.id, len(self.hints))
        return _Shown(f"Hint {level + 1} of {len(self.hints)} for {self.attr}: {self.hints[level]}")

    def solution(self) -> _Shown:
        """The solution, in a practice release; a notice in a graded one."""
        entry = practice_entry(self.assignment, self.id)
        if entry is None or not entry.get("solution"):
            return _Shown(f"Solutions are not part of a graded release; your instructor shares them after grading "
                          f"({feedback_mode(self.assignment)} release).")
        return _Shown(f"A solution for {self.attr}:", str(entry["solution"]))


def _display(outcome: Outcome) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover
        print(outcome)
        return
    if get_ipython() is None:
        print(outcome)
    else:
        display(outcome)


def plain_value(value: Any) -> Any:
    """``value`` as the judge sees it: converted to plain data and rebuilt.

    >>> plain_value((12, 34))
    (12, 34)
    """
    return from_plain(json.loads(json.dumps(to_plain(value))))
