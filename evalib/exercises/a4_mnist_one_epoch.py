"""Assignment 4: MNIST in one epoch: the lecture network annotated, normalized loaders, a network of one's own.

Each graded question of the notebook is declared here once; the right answers live in the source
assignment's hidden tests. The network questions are split the way the grading side runs them:

- ``my_net``: the probe builds ``MyNet``, counts every number it holds (parameters, buffers, and any
  tensors or containers of numbers in its attributes) and runs it on random digits; the judge checks
  the budget and the log-probabilities;
- ``accuracy``: the probe returns the trained ``model``'s predictions on the held-out images it is
  given (never their labels) and the same count; the judge compares the predictions with the labels.

>>> sizes.check([("conv1", "1x28x28", "32x28x28", 3)] * 9).hint
'Write each size as height x width x channels, like 28x28x1: these read as channels first.'
"""
from __future__ import annotations

import hashlib
import math
import re
from typing import Any, Sequence

from ..checks import mode
from ..checks.compare import close
from ..checks.guard import uses_helpers
from ..checks.outcome import PartOutcome
from ..checks.parse import Reading, is_placeholder, read_number, read_numbers, read_whole_number, shorten
from ..checks.plain import from_plain, to_plain
from ..checks.probe import call, lookup
from ..checks.question import Example, FunctionPart, HiddenPart, Part, Question, ValuePart, uses_message

ASSIGNMENT = "a4_mnist_one_epoch"

#: The lecture network (evalib.LectureNet, printed in the notebook), one entry per layer in the order
#: forward uses them: (name, kind, kernel, stride, padding, output channels or None for a pool).
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
#: The digits the checks use, as the notebook loads them.
DATA = {"source": "offline", "val_size": 500, "seed": 1}


def progress() -> mode.Progress:
    """Every question of this assignment: the last check's state and how often it was checked."""
    return mode.progress(ASSIGNMENT)


# --- 1. The lecture network, layer by layer -------------------------------------------------------------------
_FORMAT = ("Write one entry per layer, in order, as (name, input, output, rf), with sizes like '28x28x1' "
           "(height x width x channels) and the RF as a number.")


def _numbers(value: Any) -> tuple[int, ...]:
    if isinstance(value, str):
        return tuple(int(n) for n in re.findall(r"\d+", value))
    if isinstance(value, bool) or value is None:
        return ()
    if isinstance(value, (list, tuple)):
        out: tuple[int, ...] = ()
        for item in value:
            out += _numbers(item)
        return out
    n = read_whole_number(value)
    return (n.value,) if n.ok else ()


def _entries(value: Any) -> list[tuple[str | None, Any, Any, Any]]:
    """(name, input, output, rf) of each layer, from tuples, dicts, or text with one layer per line."""
    if isinstance(value, str):
        rows = []
        for line in value.splitlines():
            line = line.strip().lstrip("#").strip()
            sizes = re.findall(r"\d+(?:\s*[xX×*]\s*\d+)+", line)
            if len(sizes) < 2:
                continue
            name = re.match(r"([A-Za-z_]\w*)", line)
            rest = line[line.rfind(sizes[1]) + len(sizes[1]):]
            rows.append((name.group(1) if name else None, sizes[0], sizes[1], _numbers(rest)[:2]))
        if not rows:
            raise ValueError("no layers found")
        return rows
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, (list, tuple)):
        items = [(None, v) for v in value]
    else:
        raise ValueError("not a list of layers")
    rows = []
    for name, entry in items:
        if isinstance(entry, dict):
            parts: dict[str, Any] = {}
            for key, item in entry.items():
                k = str(key).lower()
                slot = "rf" if k.startswith(("rf", "recep")) else "in" if k.startswith("in") else "out" if k.startswith("out") else None
                if slot:
                    parts[slot] = item
                elif k in ("name", "layer"):
                    name = str(item)
            if set(parts) != {"in", "out", "rf"}:
                raise ValueError("a layer needs an input, an output and an RF")
            rows.append((name, parts["in"], parts["out"], parts["rf"]))
            continue
        if not isinstance(entry, (list, tuple)):
            raise ValueError("each layer should be a tuple")
        items_ = list(entry)
        if len(items_) == 4 and isinstance(items_[0], str) and not re.search(r"\d+\s*[xX×*]\s*\d+", items_[0]):
            name, items_ = items_[0], items_[1:]
        if len(items_) != 3:
            raise ValueError("each layer needs three parts")
        rows.append((name, *items_))
    return rows


def read_annotations(value: Any) -> Reading:
    """Layer annotations as (name, input, output, rf) with the numbers of each part.

    Accepts tuples ``(name, input, output, rf)`` or ``(input, output, rf)``, dicts, and text
    with one layer per line (as code comments); sizes as ``"28x28x1"``, ``(28, 28, 1)``.

    >>> read_annotations([("conv1", "28x28x1", (28, 28, 32), "3x3")]).value
    [('conv1', (28, 28, 1), (28, 28, 32), (3, 3))]
    >>> read_annotations("# conv1: 28x28x1 > 28x28x32, RF 3").value
    [('conv1', (28, 28, 1), (28, 28, 32), (3,))]
    """
    if is_placeholder(value) or (isinstance(value, (list, tuple, dict)) and len(value) == 0):
        return Reading(None, shorten(value), placeholder=True)
    try:
        rows = _entries(value)
    except (TypeError, ValueError):
        return Reading(None, shorten(value), "not a list of layers", _FORMAT)
    return Reading([(None if n is None else str(n), _numbers(i), _numbers(o), _numbers(r)) for n, i, o, r in rows],
                   shorten(value))


def _channels_first(size: tuple[int, ...]) -> bool:
    return len(size) == 3 and size[1] == size[2] and size[0] != size[1]


def _size(numbers: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in numbers) if numbers else "?"


def _form_problem(rows: list) -> str | None:
    """Key-free problems of form: the count of layers, channels missing or first, sizes that are not 3 numbers."""
    if len(rows) != len(LECTURE_SPECS):
        convs = sum(1 for s in LECTURE_SPECS if s[1] == "conv")
        return (f"One entry per layer: the network has {len(LECTURE_SPECS)} layers that change sizes or the RF "
                f"({convs} convolutions and {len(LECTURE_SPECS) - convs} max pools, in the order forward uses them); "
                f"yours has {len(rows)}.")
    sizes = [s for _, i, o, _ in rows for s in (i, o)]
    if any(len(s) == 2 for s in sizes):
        return "Give the channels too: write each size as height x width x channels, like 28x28x1."
    if any(len(s) != 3 for s in sizes):
        return "Write each size as three numbers, height x width x channels, like 28x28x1."
    if sum(_channels_first(s) for s in sizes) > len(sizes) / 2:
        return "Write each size as height x width x channels, like 28x28x1: these read as channels first."
    return None


def _size_problem(rows: list) -> str | None:
    """A mistake in the sizes recognized from the layers' own definition (no key needed)."""
    for index, ((_, got_in, got_out, _), (label, kind, k, s, p, c_out)) in enumerate(zip(rows, LECTURE_SPECS)):
        if index == 0 and got_in[:2] != (28, 28):
            if got_in[:2] == (30, 30):
                return "The first layer gets one digit, 28x28x1: the padding is not part of the input's size."
            return "The first layer gets one digit: 28x28 pixels with a single (grey) channel."
        if index > 0 and got_in != rows[index - 1][2]:
            return f"The input of {label} is the output of the layer before it, {LECTURE_SPECS[index - 1][0]}."
        side_in, side_out = got_in[0], got_out[0]
        if kind == "conv":
            if got_out[2] != c_out:
                if got_out[2] == got_in[2]:
                    return f"A convolution gives one output channel per kernel: {label} has {c_out} kernels, whatever its input has."
                return f"Read the channels off {label}: Conv2d(in_channels, out_channels, ...) gives out_channels channels."
            if p > 0 and side_out == side_in - (k - 1):
                return (f"{label} has padding={p}: a pixel added on every side makes up for the one the {k}x{k} kernel "
                        f"cannot be centred on at each border, so a padded {k}x{k} convolution keeps the size.")
            if p == 0 and side_out == side_in:
                return f"{label} has no padding: a {k}x{k} kernel cannot be centred on the outer pixel, so each side loses {k - 1}."
            if got_out[:2] != ((got_in[0] + 2 * p - k) // s + 1, (got_in[1] + 2 * p - k) // s + 1):
                return f"{label}: use out = (in + 2 * padding - kernel) // stride + 1 for the height and for the width."
        else:
            if got_out[2] != got_in[2]:
                return "Max pooling works on each channel separately: the number of channels does not change."
            if side_out == side_in:
                return f"A {k}x{k} max pool with stride {s} keeps one value of every {k}x{k} block: it divides the size by {s}."
            if got_out[:2] != (got_in[0] // s, got_in[1] // s):
                return f"A {k}x{k} max pool with stride {s} divides height and width by {s} (rounding down)."
    return None


def _rfs(rows: list) -> list[int] | None:
    out = []
    for _, _, _, rf in rows:
        if len(rf) not in (1, 2) or (len(rf) == 2 and rf[0] != rf[1]):
            return None
        out.append(rf[0])
    return out


def _rf_problem(rfs: list[int]) -> str | None:
    rf, jump, shortcut = 1, 1, True
    no_jump, plain = 1, True
    for value, (_, kind, k, s, _, _) in zip(rfs, LECTURE_SPECS):
        shortcut_rf = rf * 2 if kind == "pool" else None
        if kind == "pool" and value != shortcut_rf:
            shortcut = False
        no_jump += k - 1
        plain = plain and value == no_jump
        rf = value
    if shortcut:
        return ("This is the lecture's shortcut (a max pool doubles the RF). The exact rule adds (k - 1) * jump per layer: "
                "a 2x2 pool with stride 2 adds only 1 * jump, but doubles the jump for every later layer.")
    if plain or rfs[-1] == 22:
        return ("It looks like every layer adds k - 1 no matter where it sits: after a stride-2 max pool each step of a "
                "later layer is `jump` pixels apart, so a 3x3 convolution there adds 2 * jump. Padding does not change the RF.")
    if any(b < a for a, b in zip(rfs, rfs[1:])):
        return "The receptive field never shrinks from one layer to the next."
    return None


def accuracy_hint(accuracy: float, classes: int, at_chance: str) -> str:
    """The hint for a trained network below the target: at chance (``at_chance`` says what to
    check), predicting only some digits, or close.

    >>> accuracy_hint(0.3, 4, "")[:25]
    'It predicts only 4 of the'
    """
    if accuracy < 0.15:
        return "About chance: " + at_chance
    if classes < 10 and accuracy < 0.9:
        return (f"It predicts only {classes} of the 10 digits: is there an activation (ReLU) after the last layer? "
                "Class scores must be able to go negative.")
    return ("Improve the design: batch normalization after each convolution, a receptive field that covers the digit "
            "before the output, global average pooling before the last 1x1 convolution; or try another MAX_LR.")

class AnnotationPart(ValuePart):
    """One aspect of ``lecture_annotations``: the sizes (channels, then heights and widths) or the RFs."""

    what = "a list of layers"

    def __init__(self, name: str, points: float, aspect: str, **more: Any) -> None:
        super().__init__(name, points, **more)
        self.aspect = aspect

    @property
    def _aspect(self) -> str:
        return "receptive fields" if self.aspect == "rfs" else "sizes"

    def read(self, value: Any) -> Reading:
        return read_annotations(value)

    def key_value(self, key: Any) -> Any:
        if self.aspect == "rfs" and all(isinstance(v, int) for v in key):
            return list(key)
        rows = read_annotations(key).value
        if self.aspect == "rfs":
            return _rfs(rows)
        return [(i, o) for _, i, o, _ in rows]

    def _mine(self, reading: Reading) -> Any:
        if self.aspect == "rfs":
            return _rfs(reading.value)
        return [(i, o) for _, i, o, _ in reading.value]

    def canonical(self, answer: Any) -> str:
        from ..checks.compare import canonical

        return canonical(answer)

    def same(self, answer: Any, key: Any) -> bool:
        return answer == key

    def diagnose(self, reading: Reading) -> str | None:
        rows = reading.value
        problem = _form_problem(rows)
        if self.aspect == "rfs":
            if len(rows) != len(LECTURE_SPECS):
                return problem
            rfs = _rfs(rows)
            if rfs is None:
                return "Give the RF of each layer as one number (3) or as a square ('3x3')."
            return _rf_problem(rfs)
        return problem or _size_problem(rows)

    def recorded(self, reading: Reading) -> str:
        return f"{self.label} is recorded: {len(reading.value)} layers, read for the {self._aspect}"

    @staticmethod
    def _channels(rows: list) -> list:
        return [(list(i[2:]), list(o[2:])) for i, o in rows]

    @staticmethod
    def _sides(rows: list) -> list:
        return [(list(i[:2]), list(o[:2])) for i, o in rows]

    def practice_data(self, hidden: HiddenPart, salt: str, question: str) -> dict:
        data = super().practice_data(hidden, salt, question)
        if self.aspect == "sizes" and hidden.has_key:
            from ..checks.compare import canonical, digest

            key = self.key_value(hidden.value)
            data["channels"] = digest(salt, question, self.name, canonical(self._channels(key)))
            data["sides"] = digest(salt, question, self.name, canonical(self._sides(key)))
        return data

    def _judge_reading(self, reading: Reading, hidden: HiddenPart) -> PartOutcome:
        from ..checks.compare import canonical, digest

        mine = self._mine(reading)
        if self.aspect == "sizes" and hidden.practice and "channels" in hidden.extra:
            channels = digest(hidden.salt, hidden.question, self.name, canonical(self._channels(mine))) == hidden.extra["channels"]
            sides = digest(hidden.salt, hidden.question, self.name, canonical(self._sides(mine))) == hidden.extra["sides"]
        elif self.aspect == "sizes" and hidden.has_key and not hidden.practice:
            key = self.key_value(hidden.value)
            channels = self._channels(mine) == self._channels(key)
            sides = self._sides(mine) == self._sides(key)
        else:
            channels = sides = hidden.matches(self, mine)
        share = self.points / 4
        points = share * channels + (self.points - share) * sides
        if math.isclose(points, self.points):
            return PartOutcome(self.name, "correct", self.points, self.points, f"{self.label}: the {self._aspect} are right.")
        hint = self.diagnose(reading) or ("Work every layer out again with out = (in + 2p - k) // s + 1." if self.aspect == "sizes"
                                           else "Use rf_out = rf_in + (k - 1) * jump_in, jump_out = jump_in * stride.")
        what = "the channels are right but not every height and width" if channels and not sides else f"the {self._aspect} are not right"
        return PartOutcome(self.name, "wrong", points, self.points, f"{self.label}: {what}.", hint, reading.shown)

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        reading, early = self._read_result(results[0])
        if early is not None:
            return early
        return self._judge_reading(reading, hidden)


sizes = Question(
    ASSIGNMENT, "test_lecture_sizes", "sizes", "The input and output size of every layer",
    prompt="lecture_annotations: the input and output size (height x width x channels) of every layer of the lecture network.",
    parts=[AnnotationPart("lecture_annotations", 4, "sizes")],
    hints=["A padded 3x3 convolution keeps the size; an unpadded one removes 2; a 2x2 max pool halves it.",
           "Each layer's input is the previous layer's output; a convolution's channels are its out_channels."])

rfs = Question(
    ASSIGNMENT, "test_lecture_rfs", "rfs", "The receptive field after every layer",
    prompt="lecture_annotations: the global receptive field after every layer, by the exact rule.",
    parts=[AnnotationPart("lecture_annotations", 3, "rfs")],
    hints=["Keep rf and jump as you go, both 1 at the input.", "A 2x2 pool with stride 2 adds 1 * jump and doubles the jump."])


# --- 2. Normalized loaders -------------------------------------------------------------------------------------------
def _images(spec: Any) -> Any:
    """Images from a case: [seed, kind, shape] (the question's tiny example, uniform, 1/255 levels, constant, band)."""
    import torch

    seed, kind, shape = int(spec[0]), str(spec[1]), tuple(int(n) for n in spec[2])
    g = torch.Generator().manual_seed(seed)
    if kind == "example":
        return torch.tensor([[[[0.0, 0.0], [0.0, 1.0]]], [[[1.0, 1.0], [1.0, 1.0]]]])
    if kind == "uniform":
        return torch.rand(*shape, generator=g)
    if kind == "levels":
        return torch.randint(0, 256, shape, generator=g).float() / 255
    if kind == "constant":
        return torch.full(shape, 0.25)
    return torch.rand(*shape, generator=g) * 0.5 + 0.2


def _pair(value: Any) -> Reading:
    reading = read_numbers(value, "(mean, std)")
    if reading.ok and len(reading.value) != 2:
        return Reading(None, reading.shown, "not two numbers", "End it with `return mean, std`.")
    if not reading.ok and not reading.placeholder:
        return Reading(None, reading.shown, reading.problem, "Return two numbers, (mean, std); floats or 0-d tensors are both fine.")
    return reading


def _same_stats(got: Any, want: Any) -> bool:
    mean, std = got
    return abs(mean - want[0]) <= 1e-4 and min(abs(std - want[1]), abs(std - want[2])) <= 1e-4


def _stats_diagnosis(reading: Reading, inputs: tuple) -> str | None:
    (images,) = inputs
    x = images.double()
    mean, std = reading.value
    if abs(mean - float(x.mean())) > 1e-4:
        return "The mean is over every pixel of every image together: all values summed, divided by how many there are."
    if any(abs(std - float(v) ** 2) <= 1e-4 for v in (x.std(unbiased=False), x.std())) and float(x.std()) > 0.05:
        return "That is the variance; the standard deviation is its square root."
    per_image = float(x.flatten(1).std(dim=1, unbiased=False).mean())
    if abs(std - per_image) <= 1e-4 and abs(per_image - float(x.std(unbiased=False))) > 1e-4:
        return "You averaged the std of each image; take the std over all pixels of all images together."
    return "The std is the square root of the mean squared distance of every pixel from the mean."


class MeasuredPart(Part):
    """``train_mean`` and ``train_std`` measured on the training digits; the key holds what they must be."""

    def __init__(self, points: float) -> None:
        super().__init__("train_mean", points, label="train_mean and train_std")

    @property
    def reads(self) -> tuple[str, ...]:
        return ("train_mean", "train_std")

    def requests(self, hidden: HiddenPart | None) -> list[dict]:
        return [{"op": "value", "part": self.name, "name": n, "aliases": []} for n in ("train_mean", "train_std")]

    def _read(self, results: list[dict]) -> tuple[tuple[float, float] | None, PartOutcome | None, str]:
        values = []
        for result in results:
            if not result.get("found"):
                return None, PartOutcome(self.name, "not attempted", 0.0, self.points, "train_mean and train_std are not defined yet."), ""
            value = from_plain(result.get("value"))
            if is_placeholder(value):
                return None, PartOutcome(self.name, "not attempted", 0.0, self.points, "train_mean and train_std: not attempted yet."), ""
            helpers = result.get("made_with", [])
            if helpers:
                return None, PartOutcome(self.name, "wrong", 0.0, self.points, uses_message(result["name"], helpers, "was computed with"),
                                         "Measure them with your own pixel_mean_std."), ""
            number = read_number(_scalar(value))
            if not number.ok:
                return None, PartOutcome(self.name, "wrong", 0.0, self.points, f"{result['name']} should be a number.",
                                         "Give a plain float (or a 0-d tensor).", number.shown), ""
            values.append(float(number.value))
        shown = f"mean {values[0]:.4f}, std {values[1]:.4f}"
        return (values[0], values[1]), None, shown

    def _key_free(self, mean: float, std: float) -> str | None:
        if mean > 1.5 or std > 1.5:
            return "These look like pixel values from 0 to 255; the images here are already scaled to [0, 1]."
        if close(mean, 0.1307, rel=1e-6) and close(std, 0.3081, rel=1e-6):
            return ("These are the published values for all 60,000 MNIST training digits. Measure your own on "
                    "data.train_images: this subset gives values close to them, but not the same.")
        if std <= 0:
            return "A standard deviation is positive."
        return None

    def review(self, results: list[dict]) -> PartOutcome:
        values, early, shown = self._read(results)
        if early is not None:
            return early
        hint = self._key_free(*values)
        if hint:
            return PartOutcome(self.name, "wrong", 0.0, self.points, "train_mean and train_std are not right yet.", hint, shown)
        return PartOutcome(self.name, "recorded", 0.0, self.points,
                           f"train_mean and train_std are recorded ({shown}); they are graded when you hand in.", answer=shown)

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        values, early, shown = self._read(results)
        if early is not None:
            return early
        mean, std = values
        key = hidden.value if isinstance(hidden.value, dict) else {}
        near = lambda a, b: abs(a - b) <= 1e-4  # noqa: E731
        train = key.get("train", [math.nan, math.nan])
        if near(mean, train[0]) and near(std, train[1]):
            return PartOutcome(self.name, "correct", self.points, self.points, f"train_mean and train_std: right ({shown}).", answer=shown)
        hint = self._key_free(mean, std)
        if hint is None:
            validation, both = key.get("validation", [math.nan] * 2), key.get("all", [math.nan] * 2)
            if near(mean, train[1]) and near(std, train[0]):
                hint = "Mean and std are swapped."
            elif near(mean, train[0]) and near(std, train[1] ** 2):
                hint = "That is the variance; the standard deviation is its square root."
            elif near(mean, train[0]) and near(std, key.get("per_image_std", math.nan)):
                hint = "You averaged the std of each image; take the std over all pixels of all images together."
            elif near(mean, validation[0]) and near(std, validation[1]):
                hint = ("You measured the validation digits. Measure the training digits only: the validation digits "
                        "stand for data the model never sees.")
            elif near(mean, both[0]) or near(std, both[1]):
                hint = "You included the validation digits. Measure the training digits only."
            else:
                hint = "The mean is right but the std is not." if near(mean, train[0]) else \
                    "Measure both over every pixel of every image of data.train_images."
        return PartOutcome(self.name, "wrong", 0.0, self.points, "train_mean and train_std are not right.", hint, shown)

    def practice_data(self, hidden: HiddenPart, salt: str, question: str) -> dict:
        return {"notes": hidden.notes, "value": hidden.value}


def _scalar(value: Any) -> Any:
    if isinstance(value, dict) and len(value.get("data", [])) == 1:
        return value["data"][0]
    try:
        import torch

        if isinstance(value, torch.Tensor) and value.numel() == 1:
            return float(value.reshape(-1)[0])
    except ImportError:  # pragma: no cover
        pass
    return value


mean_std = Question(
    ASSIGNMENT, "test_mean_std", "mean_std", "The mean and std of the training pixels",
    prompt="pixel_mean_std(images) returns (mean, std) over all pixels; train_mean, train_std: those of data.train_images.",
    parts=[FunctionPart(
        "pixel_mean_std", 1,
        examples=[Example((0, "example", [2, 1, 2, 2]), [0.625, 0.4841229182759271, 0.5175491695067657],
                          "pixel_mean_std on the two 2x2 images of the question")],
        reader=_pair, compare=_same_stats, make_inputs=lambda spec: (_images(spec),), diagnose=_stats_diagnosis,
        hidden_about="other images", hidden_advice="Use all the pixels of whatever images it is given.",
        plain_in_practice=True),
        MeasuredPart(1)],
    hints=["images.double().mean() and .std() over the whole tensor give both numbers.",
           "Measure data.train_images only: never the validation digits."])


# --- make_loaders ---------------------------------------------------------------------------------------------------
def _fake_data(seed: int) -> Any:
    import torch

    from ..mnist.data import MnistData

    g = torch.Generator().manual_seed(seed)
    return MnistData(torch.randint(0, 256, (80, 1, 28, 28), generator=g).float() / 255, torch.arange(80) % 10,
                     torch.randint(0, 256, (30, 1, 28, 28), generator=g).float() / 255, torch.arange(30) % 10,
                     "hidden", "random pixels", "validation split")


_DATA_CACHE: dict[tuple, Any] = {}


def _loader_data(kind: str, seed: int) -> Any:
    if kind == "random":
        return _fake_data(seed)
    if (kind, seed) not in _DATA_CACHE:
        from ..mnist.data import load_mnist

        _DATA_CACHE[(kind, seed)] = load_mnist(source="offline", val_size=DATA["val_size"], seed=seed, verbose=False)
    return _DATA_CACHE[(kind, seed)]


def _signature(images: Any, labels: Any, mean: float, std: float) -> str:
    """One digest of the multiset of (image, label) pairs, pixels back on the 0-255 scale."""
    import torch

    pixels = torch.round((images.double().flatten(1).cpu() * std + mean) * 255).to(torch.int16).numpy()
    rows = sorted(hashlib.sha1(row.tobytes() + str(int(label)).encode()).hexdigest() for row, label in zip(pixels, labels.tolist()))
    return hashlib.sha256("".join(rows).encode()).hexdigest()


def _summary(loader: Any, mean: float, std: float) -> dict:
    """What one loader gives, as plain data: its batches' form, how many digits, per-image sums, the pairs' digest."""
    import torch

    out: dict[str, Any] = {"shuffled": type(getattr(loader, "sampler", None)).__name__ != "SequentialSampler"}
    batches = list(loader)
    out["batches"] = len(batches)
    if not batches:
        return out
    first = batches[0]
    if not (isinstance(first, (tuple, list)) and len(first) == 2 and all(isinstance(t, torch.Tensor) for t in first)):
        out["form"] = type(first).__name__
        return out
    xb, yb = first
    out.update({"form": "pair", "x_shape": list(xb.shape), "x_dtype": str(xb.dtype).replace("torch.", ""),
                "y_shape": list(yb.shape), "y_dtype": str(yb.dtype).replace("torch.", "")})
    try:
        x = torch.cat([b[0] for b in batches]).double()
        y = torch.cat([b[1] for b in batches])
    except Exception:
        out["form"] = "uneven"
        return out
    out["count"] = int(y.numel())
    out["sums"] = sorted(round(float(v), 4) for v in x.flatten(1).sum(dim=1))
    out["labels"] = sorted(int(v) for v in y.tolist())
    out["signature"] = _signature(x, y, mean, std)
    out["mean"], out["std"] = float(x.mean()), float(x.std())
    return out


def _probe_loaders(make_loaders: Any, kind: str, seed: int, mean: float, std: float, batch_size: int) -> dict:
    got = make_loaders(_loader_data(kind, seed), mean, std, batch_size=batch_size)
    if not (isinstance(got, (tuple, list)) and len(got) == 2):
        return {"form": type(got).__name__}
    return {"form": "two", "train": _summary(got[0], mean, std), "val": _summary(got[1], mean, std)}


def _expected_sums(images: Any, transform: Any) -> list[float]:
    return sorted(round(float(v), 4) for v in transform(images.double()).flatten(1).sum(dim=1))


def _close_lists(a: Sequence[float], b: Sequence[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= 1e-2 + 1e-5 * abs(y) for x, y in zip(a, b))


class LoadersPart(Part):
    """``make_loaders(data, mean, std, batch_size=32)``: tried on the notebook's digits (the example) and on hidden data."""

    kind = "function"
    example = ("offline", 1, 0.5, 0.25, 32)

    def requests(self, hidden: HiddenPart | None) -> list[dict]:
        cases = [("example", self.example)] + [("hidden", tuple(c.args)) for c in (hidden.cases if hidden else [])]
        return [{"op": "loaders", "part": self.name, "name": self.name, "case": case, "spec": list(spec)} for case, spec in cases]

    def probe(self, namespace: dict, request: dict, assignment: str) -> dict:
        found, _, function = lookup(namespace, [request["name"]])
        if not found:
            return {"found": False}
        if not callable(function):
            return {"found": True, "callable": False}
        kind, seed, mean, std, batch = request["spec"]
        data = call(_probe_loaders, (function, kind, int(seed), float(mean), float(std), int(batch)), assignment=assignment,
                    timeout=120, convert=lambda v: v)
        data["helpers"] = sorted(set(data["helpers"]) | set(uses_helpers(function, assignment)))
        data["found"] = True
        return data

    def _one(self, result: dict, spec: Sequence[Any]) -> tuple[str | None, str, str | None]:
        """(problem, hint, answer) for one call; problem None when both loaders are right."""
        import torch

        if result.get("timeout"):
            return "did not finish in time", "", None
        if not result.get("ok"):
            return f"stopped with an error ({result.get('error')})", "Return DataLoader objects over TensorDatasets of (images, labels).", None
        got = result["result"]
        if got.get("form") != "two":
            return "should return two loaders, (train_loader, val_loader)", "", got.get("form")
        kind, seed, mean, std, batch = spec
        data = _loader_data(kind, int(seed))
        for which, images, labels, other, size in (("the training loader", data.train_images, data.train_labels, data.test_images, batch),
                                                   ("the validation loader", data.test_images, data.test_labels, data.train_images, None)):
            summary = got["train" if size else "val"]
            if size and not summary.get("shuffled"):
                return f"{which} does not shuffle", "Shuffle the training digits (shuffle=True), so that each epoch sees them in a new order.", "no shuffling"
            if summary.get("batches", 0) == 0:
                return f"{which} is empty", "It should give every digit of its split once.", None
            if summary.get("form") != "pair":
                return f"{which} gives batches that are not (images, labels)", "A DataLoader over a TensorDataset gives pairs (images, labels).", summary.get("form")
            shape = tuple(summary["x_shape"])
            if shape[1:] != (1, 28, 28):
                hint = ("Keep the channel axis: a batch of digits has shape (batch, 1, 28, 28)." if shape[1:] == (28, 28) else
                        "Keep the images as 1x28x28; do not flatten them: the network is convolutional." if len(shape) == 2 else
                        "A batch of digits should have shape (batch, 1, 28, 28).")
                return f"{which} gives images of shape {shape}", hint, None
            if summary["x_dtype"] != "float32":
                return f"{which} gives images of dtype {summary['x_dtype']}", "The images should be float32, like the network's weights: use .float().", None
            if summary["y_dtype"] != "int64" or len(summary["y_shape"]) != 1:
                return f"{which} gives labels of dtype {summary['y_dtype']}", "The labels should be one int64 class index per digit.", None
            if size and shape[0] != min(size, len(labels)):
                return f"{which} gives batches of {shape[0]} digits", f"Pass batch_size to the DataLoader ({size} here).", None
            if summary.get("count") != len(labels):
                hint = f"It should give each of the {len(labels):,} digits of its split once."
                if summary.get("count") == len(labels) + len(other):
                    hint = "It holds the training and the validation digits together; keep them apart."
                return f"{which} gives {summary.get('count')} digits", hint, None
            sums = summary["sums"]
            if not _close_lists(sums, _expected_sums(images, lambda x: (x - mean) / std)):
                candidates = [
                    (lambda x: x, "The images are not normalized yet: subtract the mean, then divide by the std."),
                    (lambda x: x - mean, "You subtracted the mean; divide by the std too."),
                    (lambda x: x / std - mean, "Normalize as (images - mean) / std: subtract first, then divide."),
                    (lambda x: (x - mean) * std, "Normalize as (images - mean) / std: subtract first, then divide."),
                    (lambda x: (x - x.mean()) / x.std(), "These digits are normalized with their own mean and std. Use the mean "
                     "and std given to make_loaders for both loaders: new digits must be treated exactly like the training digits."),
                    (lambda x: (x - 0.1307) / 0.3081, "You used MNIST's published constants; use the mean and std given to make_loaders."),
                ]
                hint = next((h for f, h in candidates if _close_lists(sums, _expected_sums(images, f))),
                            "Each digit should appear once, as (image - mean) / std with the mean and std given to make_loaders.")
                return f"{which} is not normalized with the mean and std it is given", hint, \
                    f"pixel mean {summary['mean']:.3f}, std {summary['std']:.3f}"
            if summary["labels"] != sorted(int(v) for v in labels.tolist()):
                return f"{which} gives other labels", "Keep each split's labels with its images.", None
            if summary["signature"] != _signature((images.double() - mean) / std, labels, mean, std):
                return f"{which} mixes images and labels up", "Build the dataset from images and labels in the same order.", None
        return None, "", None

    def _combine(self, results: list[dict], hidden: HiddenPart | None, graded: bool) -> PartOutcome:
        requests = self.requests(hidden)
        first = results[0] if results else {}
        if not first.get("found"):
            return PartOutcome(self.name, "not attempted", 0.0, self.points, "make_loaders is not defined yet.")
        if first.get("callable") is False:
            return PartOutcome(self.name, "wrong", 0.0, self.points, "make_loaders is not a function.")
        if first.get("ok") and (first.get("result") or {}).get("form") == "NoneType":
            return PartOutcome(self.name, "not attempted", 0.0, self.points, "make_loaders returns None: not attempted yet.")
        used = sorted({h for r in results for h in r.get("helpers", [])})
        if used:
            return PartOutcome(self.name, "wrong", 0.0, self.points, uses_message("make_loaders", used),
                               "Build the datasets and loaders yourself with TensorDataset and DataLoader.")
        problem, hint, answer = self._one(first, requests[0]["spec"])
        if problem:
            return PartOutcome(self.name, "wrong", 0.0, self.points,
                               f"make_loaders(data, 0.5, 0.25): {problem}.", hint, answer)
        if not graded:
            return PartOutcome(self.name, "recorded", 0.0, self.points,
                               "make_loaders gives the right loaders for make_loaders(data, 0.5, 0.25); hidden cases try "
                               "other digits, statistics and batch sizes when you hand in.")
        failing = [r for r, q in zip(results[1:], requests[1:]) if self._one(r, q["spec"])[0]]
        if failing:
            return PartOutcome(self.name, "wrong", 0.0, self.points,
                               f"make_loaders is right on the notebook's digits but fails {len(failing)} of {len(results) - 1} "
                               "hidden cases (other digits, mean, std and batch size).",
                               "Use the data, mean, std and batch_size it is given, nothing fixed.")
        return PartOutcome(self.name, "correct", self.points, self.points, "make_loaders: right, on the notebook's digits and on hidden data.")

    def review(self, results: list[dict]) -> PartOutcome:
        return self._combine(results, None, graded=False)

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        return self._combine(results, hidden, graded=True)

    def practice_data(self, hidden: HiddenPart, salt: str, question: str) -> dict:
        return {"notes": hidden.notes, "cases": [[c.args, None] for c in hidden.cases]}


loaders = Question(
    ASSIGNMENT, "test_loaders", "loaders", "Normalized loaders",
    prompt="make_loaders(data, mean, std, batch_size=32) returns (train_loader, val_loader) of normalized (images, labels).",
    parts=[LoadersPart("make_loaders", 3)],
    hints=["TensorDataset((data.train_images - mean) / std, data.train_labels), and the same for the validation digits.",
           "DataLoader(train_set, batch_size=batch_size, shuffle=True) for training; no shuffling for validation."])


# --- 3. A network of one's own ---------------------------------------------------------------------------------------
def _count_numbers(value: Any, seen: set[int], depth: int = 0) -> int:
    import numpy as np
    import torch

    if isinstance(value, (bool, int, float)):
        return 1
    if id(value) in seen or depth > 6:  # a container or tensor held twice counts once
        return 0
    seen.add(id(value))
    if isinstance(value, torch.Tensor):
        return int(value.numel())
    if isinstance(value, np.ndarray):
        return int(value.size)
    if isinstance(value, dict):
        return sum(_count_numbers(k, seen, depth + 1) + _count_numbers(v, seen, depth + 1) for k, v in list(value.items())[:100_000])
    if isinstance(value, (list, tuple, set, frozenset)):
        return sum(_count_numbers(v, seen, depth + 1) for v in list(value)[:100_000])
    return 0


#: A module's attributes holding at most this many plain numbers are settings (kernel sizes, strides), not data.
SETTINGS_LIMIT = 16


def _has_tensor(value: Any, depth: int = 0) -> bool:
    import numpy as np
    import torch

    if isinstance(value, (torch.Tensor, np.ndarray)):
        return True
    if depth < 4 and isinstance(value, (list, tuple, set, frozenset)):
        return any(_has_tensor(v, depth + 1) for v in list(value)[:1000])
    if depth < 4 and isinstance(value, dict):
        return any(_has_tensor(v, depth + 1) for v in list(value.values())[:1000])
    return False


def held_numbers(model: Any) -> dict:
    """Every number a model holds: its parameters, its buffers (batch-norm statistics apart), and tensors or
    containers of numbers kept in any attribute of any of its modules (a layer's few settings aside).

    >>> import torch.nn as nn
    >>> net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    >>> net.memory = {i: i % 10 for i in range(500)}
    >>> held_numbers(net)
    {'parameters': 24, 'norm_statistics': 5, 'other_buffers': 0, 'attributes': 1000}
    """
    import torch.nn as nn

    parameters = sum(int(p.numel()) for p in nn.Module.parameters(model))
    norm = other = attributes = 0
    seen: set[int] = set()
    for module in nn.Module.modules(model):
        for buffer in module._buffers.values():
            if buffer is None:
                continue
            if isinstance(module, nn.modules.batchnorm._NormBase):
                norm += int(buffer.numel())
            else:
                other += int(buffer.numel())
        for key, value in vars(module).items():
            if key.startswith("_") or key == "training":
                continue
            count = _count_numbers(value, seen)
            if count > SETTINGS_LIMIT or _has_tensor(value):  # a layer's own settings (kernel_size=(3, 3)) are not data
                attributes += count
    return {"parameters": parameters, "norm_statistics": norm, "other_buffers": other, "attributes": attributes}


def _largest_layer(model: Any) -> tuple[str, int]:
    import torch.nn as nn

    best = ("", 0)
    for name, module in nn.Module.named_modules(model):
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if own > best[1]:
            best = (name or type(module).__name__, int(own))
    return best


def _probe_my_net(cls: Any) -> dict:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(11)
    model = cls if isinstance(cls, nn.Module) else cls()
    if not isinstance(model, nn.Module):
        return {"module": False}
    from .a5_buggy_code import _reused_model

    out: dict[str, Any] = {"module": True, "reuses": _reused_model(model), "held": held_numbers(model),
                           "largest": list(_largest_layer(model))}
    if out["held"]["parameters"] == 0:
        return out
    nn.Module.eval(model)
    outputs = []
    with torch.no_grad():
        for n in (1, 4):
            outputs.append(to_plain(model(torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(n)))))
    out["outputs"] = outputs
    nn.Module.train(model)
    F.nll_loss(model(torch.randn(8, 1, 28, 28)), torch.arange(8)).backward()
    out["learns"] = any(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in nn.Module.parameters(model))
    return out


def _budget_problem(held: dict, budget: int, largest: Sequence[Any], label: str) -> str | None:
    counted = held["parameters"] + held["other_buffers"] + held["attributes"]
    if counted <= budget:
        return None
    if held["attributes"] + held["other_buffers"] > 0:
        return (f"{label} holds {counted:,} numbers ({held['parameters']:,} parameters and {held['attributes'] + held['other_buffers']:,} "
                f"more in its attributes and buffers): over the budget of {budget:,}.")
    return (f"{label} has {held['parameters']:,} parameters: over the budget of {budget:,}. Its largest layer, {largest[0]}, has "
            f"{largest[1]:,}. Use fewer channels, a 1x1 convolution to cut channels down, and global average pooling instead of "
            "a large last convolution or fully connected layer.")


class MyNetPart(Part):
    """MyNet: within the budget (every number it holds counted), (N, 10) log-probabilities, gradients in training.
    The budget is the question's stated requirement, so the check says everything it finds."""

    kind = "class"
    budget = 20_000

    def requests(self, hidden: HiddenPart | None) -> list[dict]:
        return [{"op": "my_net", "part": self.name, "name": self.name}]

    def probe(self, namespace: dict, request: dict, assignment: str) -> dict:
        found, _, cls = lookup(namespace, [request["name"]])
        if not found:
            return {"found": False}
        if cls is None or cls is Ellipsis:
            return {"found": True, "placeholder": True}
        data = call(_probe_my_net, (cls,), assignment=assignment, timeout=120, convert=lambda v: v)
        data["found"] = True
        return data

    def _outcome(self, results: list[dict], budget: int, graded: bool) -> PartOutcome:
        import torch

        result, label = results[0], self.label
        if not result.get("found"):
            return PartOutcome(self.name, "not attempted", 0.0, self.points, f"{label} is not defined yet.")
        if result.get("placeholder"):
            return PartOutcome(self.name, "not attempted", 0.0, self.points, f"{label}: not attempted yet.")
        if result.get("helpers"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, uses_message(label, result["helpers"]))
        if not result.get("ok"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label} could not be built and run ({result.get('error')}).",
                               "Run MyNet()(torch.randn(2, 1, 28, 28)) in a cell of your own to see the error.")
        data = result["result"]
        if not data.get("module"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label} should be an nn.Module class.",
                               "Write `class MyNet(nn.Module):` with __init__ and forward.")
        if data.get("reuses"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label} reuses evalib's {data['reuses']}: it earns no points.",
                               "Design the network yourself, layer by layer; evalib's networks are there to read, not to hand in.")
        held = data["held"]
        if held["parameters"] == 0:
            return PartOutcome(self.name, "not attempted", 0.0, self.points, f"{label} has no layers yet: not attempted yet.")
        over = _budget_problem(held, budget, data["largest"], label)
        if over:
            return PartOutcome(self.name, "wrong", 0.0, self.points, over, answer=f"{held['parameters']:,} parameters")
        for n, plain in zip((1, 4), data.get("outputs", [])):
            out = from_plain(plain)
            if not isinstance(out, torch.Tensor) or tuple(out.shape) != (n, 10):
                shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
                return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label} returns {shape} for {n} digit(s).",
                                   "Return one row of 10 class log-probabilities per digit: shape (N, 10); flatten the last feature map.")
            out = out.double()
            if not torch.allclose(out.exp().sum(dim=1), torch.ones(n, dtype=torch.float64), atol=1e-4):
                if bool((out >= 0).all()) and torch.allclose(out.sum(dim=1), torch.ones(n, dtype=torch.float64), atol=1e-4):
                    hint = "These are probabilities (softmax); the training loop's nll_loss wants their logarithm: F.log_softmax(x, dim=1)."
                else:
                    hint = "End forward with F.log_softmax(x, dim=1): the training loop's nll_loss expects log-probabilities."
                return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label} does not return log-probabilities.", hint)
        if not data.get("learns"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"{label}'s parameters get no gradient in training.",
                               "Do not detach the output or wrap forward in torch.no_grad().")
        message = f"{label}: {held['parameters']:,} parameters (budget {budget:,}), log-probabilities of shape (N, 10)"
        if graded:
            return PartOutcome(self.name, "correct", self.points, self.points, message + ".")
        return PartOutcome(self.name, "recorded", 0.0, self.points, message + "; it is graded again when you hand in.")

    def review(self, results: list[dict]) -> PartOutcome:
        return self._outcome(results, self.budget, graded=False)

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        budget = int(hidden.value.get("budget", self.budget)) if isinstance(hidden.value, dict) else self.budget
        return self._outcome(results, budget, graded=True)

    def practice_data(self, hidden: HiddenPart, salt: str, question: str) -> dict:
        return {"notes": hidden.notes, "value": hidden.value}


my_net = Question(
    ASSIGNMENT, "test_my_net", "my_net", "A network of one's own",
    prompt="MyNet: at most 20,000 parameters (every number the network holds counts), log-probabilities of shape (N, 10).",
    parts=[MyNetPart("MyNet", 2)],
    hints=["Blocks of 3x3 convolutions with batch norm and ReLU, a 2x2 max pool once the RF covers a stroke.",
           "Global average pooling and a 1x1 convolution to 10 channels make a cheap last layer."])


def _probe_predictions(model: Any, cls: Any, mean: Any, std: Any, spec: dict) -> dict:
    """Predictions of the trained model on the held-out images of ``spec`` (their labels stay out), and what it holds."""
    import torch
    import torch.nn as nn

    if not isinstance(model, nn.Module):
        return {"module": False}
    from .a5_buggy_code import _reused_model

    out: dict[str, Any] = {"module": True, "is_my_net": isinstance(cls, type) and isinstance(model, cls),
                           "reuses": _reused_model(model), "held": held_numbers(model)}
    m, s = _scalar(mean), _scalar(std)
    if not isinstance(m, (int, float)) or not isinstance(s, (int, float)) or isinstance(m, bool) or not s > 0:
        out["statistics"] = False
        return out
    images = _loader_data("offline", int(spec.get("seed", 1))).test_images
    x = (images.float() - float(m)) / float(s)
    device = next((t.device for t in list(nn.Module.parameters(model)) + list(nn.Module.buffers(model))), torch.device("cpu"))
    was_training = model.training
    nn.Module.eval(model)
    predictions: list[int] = []
    try:
        with torch.no_grad():
            for start in range(0, len(x), 250):
                predictions += [int(v) for v in model(x[start:start + 250].to(device)).argmax(dim=1).cpu().tolist()]
    finally:
        nn.Module.train(model, was_training)
    out["predictions"] = predictions
    return out


class AccuracyPart(Part):
    """The trained ``model`` on the held-out digits: its accuracy must reach the key's target."""

    kind = "class"

    def __init__(self, points: float) -> None:
        super().__init__("model", points)

    @property
    def reads(self) -> tuple[str, ...]:
        return ("model", "MyNet", "train_mean", "train_std")

    def requests(self, hidden: HiddenPart | None) -> list[dict]:
        return [{"op": "predict", "part": self.name, "name": "model", "data": dict(DATA)}]

    def probe(self, namespace: dict, request: dict, assignment: str) -> dict:
        found, _, model = lookup(namespace, ["model"])
        if not found:
            return {"found": False}
        values = [namespace.get(n) for n in ("MyNet", "train_mean", "train_std")]
        data = call(_probe_predictions, (model, *values, request["data"]), assignment=assignment, timeout=300, convert=lambda v: v)
        data["found"] = True
        return data

    def _outcome(self, results: list[dict], key: dict, graded: bool) -> PartOutcome:
        result, target, budget = results[0], float(key.get("target", 0.95)), int(key.get("budget", MyNetPart.budget))
        if not result.get("found"):
            return PartOutcome(self.name, "not attempted", 0.0, self.points, "There is no trained model yet: run the training cell.")
        if not result.get("ok"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"The trained model could not be evaluated ({result.get('error')}).")
        data = result["result"]
        if not data.get("module"):
            return PartOutcome(self.name, "not attempted", 0.0, self.points, "model is not a trained network yet: run the training cell.")
        if data.get("reuses"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, f"The trained model reuses evalib's {data['reuses']}: it earns no points.")
        if not data.get("is_my_net"):
            return PartOutcome(self.name, "wrong", 0.0, self.points, "The network evaluated should be the MyNet trained by the training cell.",
                               "Run the training cell as given after your last change to MyNet.")
        held = data["held"]
        if held["parameters"] == 0:
            return PartOutcome(self.name, "not attempted", 0.0, self.points, "MyNet and the training cell: not attempted yet.")
        over = _budget_problem(held, budget, ["", 0], "The trained model")
        if over:
            return PartOutcome(self.name, "wrong", 0.0, self.points, over, "The accuracy counts only for a network within the budget.")
        if data.get("statistics") is False:
            return PartOutcome(self.name, "wrong", 0.0, self.points, "The model cannot be evaluated without train_mean and train_std.",
                               "Measure train_mean and train_std first (part 2).")
        labels = _loader_data("offline", int(DATA["seed"])).test_labels.tolist()
        predictions = data.get("predictions", [])
        if len(predictions) != len(labels):
            return PartOutcome(self.name, "wrong", 0.0, self.points, "The model did not give one prediction per held-out digit.")
        accuracy = sum(int(p == y) for p, y in zip(predictions, labels)) / len(labels)
        shown = f"{accuracy:.1%} of the {len(labels)} held-out digits"
        if not graded:
            return PartOutcome(self.name, "recorded", 0.0, self.points,
                               f"The trained model gets {shown} right; the grader evaluates it again when you hand in.", answer=shown)
        if accuracy >= target:
            return PartOutcome(self.name, "correct", self.points, self.points, f"The trained model: {shown} right (target {target:.0%}).",
                               answer=shown)
        hint = accuracy_hint(accuracy, len(set(predictions)),
                             "run the training cell again after your last change to MyNet, and check that the loss falls.")
        return PartOutcome(self.name, "wrong", 0.0, self.points, f"The trained model does not reach {target:.0%} yet.", hint, shown)

    def review(self, results: list[dict]) -> PartOutcome:
        return self._outcome(results, {}, graded=False)

    def judge(self, results: list[dict], hidden: HiddenPart) -> PartOutcome:
        return self._outcome(results, hidden.value if isinstance(hidden.value, dict) else {}, graded=True)

    def practice_data(self, hidden: HiddenPart, salt: str, question: str) -> dict:
        return {"notes": hidden.notes, "value": hidden.value}


accuracy = Question(
    ASSIGNMENT, "test_accuracy", "accuracy", "The trained network on the held-out digits",
    prompt="The trained model (MyNet after the training cell) on the 500 held-out digits: at least 95 % right.",
    parts=[AccuracyPart(3)],
    hints=["Batch norm after every convolution helps a small network learn in one epoch.", "Try another MAX_LR."])
