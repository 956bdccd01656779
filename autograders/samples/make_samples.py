"""Build sample submissions from the source assignments: full, untouched and partial answers.

    python -m autograders.samples.make_samples            # rewrite autograders/samples/submissions

A variant is the source notebook with some answer cells replaced by a typical wrong
answer. ``expected.json`` beside the notebooks gives the autograded points each must
score; the tests grade them with the real nbgrader and compare.
"""
from __future__ import annotations

import copy
import json
import shutil
import sys
from pathlib import Path

import nbformat

from ..course import ASSIGNMENTS, RELEASE, SOURCE
from ..source import strip_hidden, strip_solution_markers

HERE = Path(__file__).resolve().parent
OUT = HERE / "submissions"

#: Typical wrong answers: assignment -> variant -> {grade_id of an answer cell: new source}.
#: Points lost per variant are written in EXPECTED_LOSS.
WRONG = {
    "a1_kernels_channels": {
        "partial": {
            "conv2d_by_hand": (
                "def conv2d_by_hand(x, weight, bias):\n"
                "    c_out, c_in, k, _ = weight.shape\n"
                "    out = torch.zeros(c_out, x.shape[1] - k + 1, x.shape[2] - k + 1)\n"
                "    for i in range(out.shape[1]):\n"
                "        for j in range(out.shape[2]):\n"
                "            out[:, i, j] = (weight * x[:, i:i + k, j:j + k]).sum(dim=(1, 2, 3))  # bias forgotten\n"
                "    return out\n"),
            "shape_functions": (
                "def conv_output_shape(h, w, c_in, n_kernels, k, padding=0):\n"
                "    return (h + 2 * padding - k + 1, w + 2 * padding - k + 1, c_in)\n\n"
                "def conv_weight_count(k, c_in, c_out):\n"
                "    return k * k * c_in * c_out\n"),
            "quiz_numbers": (
                "weights_49 = conv_weight_count(3, 256, 512)\n"
                "kernels_depend_on_channels = False\n"
                "channels_in_memory = 32 + 64 + 128 + 256 + 512 + 1024\n"),
        },
    },
    "a2_receptive_field": {
        "partial": {
            "conv_chain": (
                "import evalib\n\n"
                "def conv_chain(size, kernel=3):\n"
                "    return evalib.format_chain(evalib.shrink_chain(size, kernel))\n"),
            # Written by hand (not with the conv_chain above, which uses evalib), with a typo in one size.
            "chain_199": (
                "chain_199 = ' > '.join(f'{n}x{n}' for n in range(199, 0, -2)).replace('189x189 > 187x187', '189 x 189 > 187 x 1897')\n"
                "n_convs_199 = 100\n"),
            "receptive_fields": (
                "def receptive_fields(layers):\n"
                "    rf, jump, out = 1, 1, []\n"
                "    for kernel, stride in layers:\n"
                "        rf += (kernel - 1) * jump\n"
                "        jump *= stride\n"
                "        out.append(rf)\n"
                "    return out\n\n"
                "rf_lecture = [3, 5, 10, 12, 14, 28, 30, 32, 34]\n"),
        },
    },
    "a3_initialization": {
        "partial": {
            "init_functions": (
                "def xavier_std(fan_in, fan_out):\n"
                "    return math.sqrt(2.0 / (fan_in + fan_out))\n\n"
                "def he_std(fan_in):\n"
                "    return math.sqrt(2.0 / fan_in)\n\n"
                "def init_xavier_(weight):\n"
                "    fan_in, fan_out = fans(weight.shape)\n"
                "    with torch.no_grad():\n"
                "        return weight.normal_(0.0, xavier_std(fan_in, fan_out))\n\n"
                "def init_he_(weight):\n"
                "    return torch.nn.init.kaiming_normal_(weight)\n"),
            "best_for_relu": "best_for_relu = 'b'\n",
            "symmetry": "symmetry = 'a'\n",
        },
    },
    "a4_mnist_one_epoch": {
        # The two wrong answers of the syllabus (26x26 after a padded conv, the pooling shortcut's RFs)
        # and validation digits normalized with their own statistics.
        "partial": {
            "lecture_annotations": (
                "lecture_annotations = [\n"
                "    ('conv1', '28x28x1', '26x26x32', 3),\n"
                "    ('conv2', '26x26x32', '24x24x64', 5),\n"
                "    ('pool1', '24x24x64', '12x12x64', 10),\n"
                "    ('conv3', '12x12x64', '10x10x128', 12),\n"
                "    ('conv4', '10x10x128', '8x8x256', 14),\n"
                "    ('pool2', '8x8x256', '4x4x256', 28),\n"
                "    ('conv5', '4x4x256', '2x2x512', 30),\n"
                "    ('conv6', '2x2x512', '1x1x1024', 32),\n"
                "    ('conv7', '1x1x1024', '1x1x10', 34),\n"
                "]\n"),
            "make_loaders": (
                "def make_loaders(data, mean, std, batch_size=32):\n"
                "    train_set = TensorDataset((data.train_images - mean) / std, data.train_labels)\n"
                "    v = data.test_images\n"
                "    val_set = TensorDataset((v - v.mean()) / v.std(), data.test_labels)\n"
                "    return DataLoader(train_set, batch_size=batch_size, shuffle=True), DataLoader(val_set, batch_size=100)\n"),
        },
        # Everything visible passes, but with evalib's helpers where the exercise forbids them.
        "helpers": {
            "lecture_annotations": (
                "rows = [r for r in evalib.summary(evalib.LectureNet(final_relu=False), (1, 28, 28)) if r.role in ('conv', 'maxpool')]\n"
                "shapes = [(1, 28, 28)] + [r.output_shape for r in rows]\n"
                "lecture_annotations = [(r.name, f'{a[1]}x{a[2]}x{a[0]}', f'{b[1]}x{b[2]}x{b[0]}', r.rf)\n"
                "                       for r, a, b in zip(rows, shapes, shapes[1:])]\n"),
            "mean_std": (
                "def pixel_mean_std(images):\n"
                "    return images.mean().item(), images.std().item()\n\n"
                "train_mean, train_std = data.stats.mean, data.stats.std\n"),
            "make_loaders": (
                "def make_loaders(data, mean, std, batch_size=32):\n"
                "    loaders = evalib.mnist_loaders(data, batch_size=batch_size, normalize=(mean, std))\n"
                "    return loaders.train, loaders.test\n"),
        },
    },
    "a5_buggy_code": {
        "partial": {
            # `normalise`: the answer's name in notebooks handed out before it became `normalize`, still read.
            "code_quiz": "padding_1 = 'b'\nminus_one = 'c'\nnormalise = 'a'\nno_grad = 'b'\ntensor = 'a'\n",
            "diagnosis": "diagnosis = 'a'  # lower the learning rate\n",
            "fixed_net": (
                "class FixedNet(nn.Module):\n"
                "    def __init__(self):\n"
                "        super().__init__()\n"
                "        self.net = Net()\n\n"
                "    def forward(self, x):\n"
                "        return self.net(x)\n"),
        },
    },
}

#: Autograded points each variant loses (full marks minus these is what it must score). Questions with
#: parts lose only the parts that are wrong: a1's conv_output_shape (1 of the 2 points of the shape
#: functions), a3's init_he_ (1.5 of 3), a4's sizes written without padding keep the channels' point, the
#: statistics from data.stats lose their point but not pixel_mean_std's, and the FixedNet that wraps Net
#: keeps the point for the lecture's layers.
EXPECTED_LOSS = {
    "a1_kernels_channels": {"partial": 4 + 1 + 2},
    "a2_receptive_field": {"partial": 2 + 2 + 1 + 2},
    "a3_initialization": {"partial": 1.5 + 1 + 1},
    "a4_mnist_one_epoch": {"partial": 3 + 3 + 3, "helpers": 4 + 3 + 1 + 3},
    "a5_buggy_code": {"partial": 1 + 3 + 3},
}


def as_handed_in(source_nb, replacements: dict[str, str] | None = None):
    """What a student would hand in: solutions as their own code, no hidden tests, some answers replaced."""
    nb = copy.deepcopy(source_nb)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if cell.cell_type == "code":
            cell.source = strip_solution_markers(strip_hidden(cell.source)).rstrip()
            if replacements and gid in replacements:
                cell.source = replacements[gid].rstrip()
    return nb


def variant(assignment: str, name: str):
    """The notebook of variant ``name``: "full", "empty" (the release) or one of WRONG's."""
    if name == "empty":
        return nbformat.read(RELEASE / assignment / f"{assignment}.ipynb", as_version=4)
    source = nbformat.read(SOURCE / assignment / f"{assignment}.ipynb", as_version=4)
    return as_handed_in(source, WRONG.get(assignment, {}).get(name) if name != "full" else None)


def expected_points(assignment: str, name: str) -> float:
    from ..source import read_source

    if name == "empty":
        return 0.0
    return read_source(assignment).auto_max - (EXPECTED_LOSS.get(assignment, {}).get(name, 0) if name != "full" else 0)


def variants(assignment: str) -> list[str]:
    return ["full", "empty", *WRONG.get(assignment, {})]


def build(out: Path = OUT, assignments: list[str] | None = None) -> dict:
    """Write the sample submissions (three naming styles, a broken file, stray files) and expected.json."""
    names = [a for a in (assignments or ASSIGNMENTS) if (SOURCE / a).exists()]
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    expected: dict = {"submissions": {}, "unmatched": []}
    students = {"full": "ada", "empty": "bo", "partial": "cy", "helpers": "gus"}
    for a in names:
        for v in variants(a):
            student = students[v]
            if v == "full":
                path = out / student / f"{a}.ipynb"           # <student>/<assignment>.ipynb
            elif v == "empty":
                path = out / f"{student}_{a}.ipynb"           # <student>_<assignment>.ipynb
            else:
                path = out / f"Copy of {student}_{a} (1).ipynb"  # as a browser names a second download
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(variant(a, v), path)
            expected["submissions"][f"{student}/{a}"] = {"file": str(path.relative_to(out)), "autograded": expected_points(a, v), "status": "graded"}
    broken = out / f"dan_{names[0]}.ipynb"
    broken.write_text('{"cells": [ this is not a notebook')
    expected["submissions"][f"dan/{names[0]}"] = {"file": broken.name, "autograded": 0.0, "status": "error"}
    (out / "notes.txt").write_text("A file an LMS adds to every zip.\n")
    (out / "eve_homework.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    expected["unmatched"] = ["eve_homework.ipynb", "notes.txt"]
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    return expected


if __name__ == "__main__":
    from ..course import release

    release(sys.argv[1:] or None, quiet=True)  # the untouched samples are today's release, never an older one
    build(assignments=sys.argv[1:] or None)
    print(f"wrote {OUT}")
