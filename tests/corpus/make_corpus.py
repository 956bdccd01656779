"""Build the corpus of broken and hostile submissions (assignment 1, and assignment 4's network).

    python tests/corpus/make_corpus.py        # rewrite tests/corpus/submissions and tests/corpus/expected.json

Every case starts from the full solution as a student would hand it in (solutions as
their own code, hidden tests removed), from the release, or from the typical wrong
answers of the samples, then breaks one thing or adds one attack (tests/corpus/attacks.py).
``expected.json`` maps each file to what grading it must give:

- ``status``: "graded", "error" (cannot be graded, with its reason) or "unmatched" (not
  taken as a submission);
- ``points``: the exact autograded points its honest content earns, or ``min_points`` and
  ``max_points`` where the machine decides (a crash that only some kernels survive);
  attacks never change a verdict, so a case earns what its base earns;
- ``reason``: a piece of the one-line reason the report must give for the file (or null);
- ``class``: the kind of attack; ``markers``: the names of the files it tries to plant
  outside its working folder (the test looks for them afterwards).

Files that are made at test time (too large or too oddly named for a repository: a 300 MB
file, 64,000 copies of a locked cell, 100,000 cells, a 50 MB line, 255-byte names, a zip
with a 260-byte folder) are built by :func:`generated` and described under "generated".
The output is deterministic: running this again rewrites the same bytes.
"""
from __future__ import annotations

import copy
import hashlib
import json
import shutil
import sys
import unicodedata
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import attacks  # noqa: E402

from autograders.samples.make_samples import WRONG, as_handed_in  # noqa: E402

A = "a1_kernels_channels"
A4 = "a4_mnist_one_epoch"
OUT = HERE / "submissions"
SOURCE_NB = ROOT / "assignments" / A / f"{A}.ipynb"
SOURCE_A4 = ROOT / "assignments" / A4 / f"{A4}.ipynb"
FULL_POINTS = 13.0
#: Points of each test cell of assignment 1.
POINTS = {"test_conv2d_by_hand": 4, "test_kernels": 2, "test_responses": 1, "test_shape_functions": 2,
          "test_weights_49": 1, "test_kernels_depend": 1, "test_channels_in_memory": 2}
#: Points of the parts that some cases lose alone (evalib.exercises.a1_kernels_channels): sobel_x of the
#: kernels, the responses tensor, and blind_to_vertical_line.
SOBEL_X, RESPONSES, BLIND = 0.5, 0.5, 0.5


def full():
    return as_handed_in(nbformat.read(SOURCE_NB, as_version=4))


def release():
    """The release as a student receives it (built from the source, so no build/ is needed)."""
    import re

    from autograders.source import strip_hidden

    nb = nbformat.read(SOURCE_NB, as_version=4)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = re.sub(r"[ \t]*### BEGIN SOLUTION.*?### END SOLUTION[ \t]*", "# YOUR CODE HERE\n...", cell.source, flags=re.S)
        elif meta.get("solution"):
            cell.source = "YOUR ANSWER HERE"
        cell.source = strip_hidden(cell.source).rstrip()
    return nb


def cell(nb, gid):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def index(nb, gid):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def prepend(nb, gid, code):
    c = cell(nb, gid)
    c.source = code.rstrip() + "\n" + c.source
    return nb


def append(nb, gid, code):
    c = cell(nb, gid)
    c.source = c.source.rstrip() + "\n" + code.rstrip()
    return nb


def replace(nb, gid, code):
    cell(nb, gid).source = code.rstrip()
    return nb


def new_cell(code, n):
    c = nbformat.v4.new_code_cell(code.rstrip())
    c.id = f"corpus-{n}"
    return c


WRONG_SOBEL = ("sobel_x = torch.tensor([[-1., -2., -1.], [0., 0., 0.], [1., 2., 1.]])  # transposed\n"
               "sobel_y = torch.tensor([[1., 2., 1.], [0., 0., 0.], [-1., -2., -1.]])\n"
               "laplacian = torch.tensor([[0., 1., 0.], [1., -4., 1.], [0., 1., 0.]])\n")
QUIZ_CELLS = ("test_weights_49", "test_kernels_depend", "test_channels_in_memory")
QUIZ = sum(POINTS[k] for k in QUIZ_CELLS)


def colab(nb):
    """What Colab hands back: no nbgrader metadata, no cell ids, its own metadata, nbformat 4.0."""
    data = json.loads(nbformat.writes(nb))
    for i, c in enumerate(data["cells"]):
        c.pop("id", None)
        c["metadata"] = {"id": f"cOlAb{i:04d}x"}
    data["metadata"] = {"colab": {"provenance": [], "name": f"{A}.ipynb"}, "kernelspec": {"name": "python3", "display_name": "Python 3"},
                        "language_info": {"name": "python"}}
    data["nbformat_minor"] = 0
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


def hard_coded():
    """Answers that pass the visible checks only: literal results for the examples the questions state."""
    import torch
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 6, 7, generator=g)
    w = torch.randn(2, 3, 3, 3, generator=g)
    b = torch.randn(2, generator=g)
    right = F.conv2d(x[None], w, b)[0]
    literal = repr([[[round(float(v), 6) for v in row] for row in ch] for ch in right])
    nb = full()
    replace(nb, "conv2d_by_hand", f"def conv2d_by_hand(x, weight, bias):\n    return torch.tensor({literal})\n")
    replace(nb, "shape_functions", "def conv_output_shape(h, w, c_in, n_kernels, k, padding=0):\n"
            "    return (8, 10, 8) if padding == 0 else (10, 12, 8)\n\n"
            "def conv_weight_count(k, c_in, c_out):\n    return 1200\n")
    replace(nb, "quiz_numbers", "weights_49 = 1_179_648\nkernels_depend_on_channels = False\nchannels_in_memory = 2019\n")
    replace(nb, "responses", "responses = torch.nn.functional.conv2d(image[None], torch.stack([sobel_x, sobel_y, laplacian])[:, None])[0]\n"
            "blind_to_vertical_line = 'sobel_y'\n")
    return nb


def insert_after(nb, gid, code, n):
    """A new code cell (the student's own) right after the cell ``gid``."""
    nb.cells.insert(index(nb, gid) + 1, new_cell(code, n))
    return nb


def marked(code: str, case: str) -> str:
    return code.replace("{m}", marker(case))


def marker(case: str) -> str:
    return f"{attacks.MARKER}-{case}"


#: Honest points of the bases the attacks are added to.
PARTIAL_POINTS = 6.0  # the typical wrong answers of the samples (the sample cy)
#: conv2d_by_hand written with torch's convolution: it earns nothing, and the responses cell, which calls it,
#: stops there (torch's convolution is switched off in grading kernels), so blind_to_vertical_line is lost too.
HELPER_POINTS = FULL_POINTS - POINTS["test_conv2d_by_hand"] - POINTS["test_responses"]
#: conv_output_shape and conv_weight_count taken from the library: both lost, and the quiz cell that
#: calls conv_weight_count stops there, so its three answers too.
SHAPES_POINTS = FULL_POINTS - POINTS["test_shape_functions"] - QUIZ


def partial():
    return as_handed_in(nbformat.read(SOURCE_NB, as_version=4), WRONG[A]["partial"])


def helper_base():
    return replace(full(), "conv2d_by_hand", attacks.HELPER_CONV)


def a4_full():
    return as_handed_in(nbformat.read(SOURCE_A4, as_version=4))


def _a4_points() -> tuple[float, float]:
    from autograders.source import read_source

    source = read_source(A4, ROOT / "assignments")
    return source.auto_max, source.by_id("test_accuracy").points


def memo_literal_table() -> str:
    """The literal of MEMO_LITERAL: a short hash of each held-out digit, as the network will compute it -> label."""
    import torch

    from evalib.mnist.data import load_mnist

    data = load_mnist(source="offline", val_size=500, seed=1, verbose=False)
    pixels = data.train_images.double()
    mean, std = float(pixels.mean()), float(pixels.std(unbiased=False))
    table = {}
    for image, label in zip(data.test_images, data.test_labels):
        levels = ((image.float() - mean) / std).flatten()
        levels = ((levels - levels.min()) / (levels.max() - levels.min() + 1e-12) * 255).round().to(torch.uint8)
        table[hashlib.sha1(levels.numpy().tobytes()).hexdigest()[:10]] = int(label)
    return "{\n" + "".join(f"    {k!r}: {v},\n" for k, v in sorted(table.items())) + "}"


def cases() -> dict[str, tuple[object, dict]]:
    """file name -> (notebook, bytes or text; expected outcome)."""
    c: dict[str, tuple[object, dict]] = {}

    def add(name, content, status, points=None, max_points=None, reason=None, note="", kind=None, min_points=None,
            markers=()):
        entry = {"status": status, "reason": reason, "note": note}
        if points is not None:
            entry["points"] = float(points)
        if max_points is not None:
            entry["max_points"] = float(max_points)
        if min_points is not None:
            entry["min_points"] = float(min_points)
        if kind:
            entry["class"] = kind
        if markers:
            entry["markers"] = list(markers)
        c[name] = (content, entry)

    # --- Kernels that never end, die or eat resources -------------------------------------
    add("loop_a1_kernels_channels.ipynb", prepend(full(), "responses", "while True:\n    pass"), "graded",
        points=FULL_POINTS - POINTS["test_responses"], note="an answer cell that never ends: stopped by the cell timeout")
    add("deafloop_a1_kernels_channels.ipynb", prepend(full(), "responses",
        "import time\nwhile True:\n    try:\n        while True:\n            time.sleep(0.01)\n    except KeyboardInterrupt:\n        pass"),
        "graded", points=POINTS["test_conv2d_by_hand"] + POINTS["test_kernels"], reason="did not stop when interrupted",
        note="a loop that ignores interrupts: the run is stopped there, so the questions after it are not graded")
    add("sleepy_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import time\ntime.sleep(3600)"), "graded",
        points=FULL_POINTS - POINTS["test_kernels"] - POINTS["test_responses"], note="a cell sleeping past the timeout")
    add("sysexit_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import sys\nsys.exit(1)"), "graded",
        points=FULL_POINTS - POINTS["test_kernels"] - POINTS["test_responses"], note="sys.exit: IPython turns it into an error")
    add("osexit_a1_kernels_channels.ipynb", prepend(full(), "quiz_numbers", "import os\nos._exit(0)"), "graded",
        points=FULL_POINTS - QUIZ, reason="the kernel exited", note="os._exit ends the kernel before the quiz answers")
    add("segv_a1_kernels_channels.ipynb", prepend(full(), "quiz_numbers", "import faulthandler\nfaulthandler._sigsegv()"),
        "graded", min_points=FULL_POINTS - QUIZ, max_points=FULL_POINTS,
        note="a SIGSEGV the kernel raises itself: the init of a PID namespace ignores it (13), a kernel without "
             "one dies before the quiz (9)")
    add("ctypesegv_a1_kernels_channels.ipynb", prepend(full(), "quiz_numbers", "import ctypes\nctypes.string_at(0)"), "graded",
        points=FULL_POINTS - QUIZ, reason="SIGSEGV", note="a real segmentation fault (ctypes): the questions after it are lost")
    add("membomb_a1_kernels_channels.ipynb", prepend(full(), "quiz_numbers",
        "def _bomb():\n    hog = []\n    while True:\n        hog.append(torch.empty(2 ** 28))  # 1 GB each\n_bomb()"),
        "graded", points=FULL_POINTS - QUIZ, note="a memory bomb: stopped by the sandbox's memory limit (or the address space)")
    add("bigoutput_a1_kernels_channels.ipynb", append(full(), "quiz_numbers", "for _ in range(300):\n    print('x' * 2 ** 20)"),
        "graded", points=FULL_POINTS, note="300 MB of output after correct answers")
    add("diskfill_a1_kernels_channels.ipynb", append(full(), "quiz_numbers",
        "with open('fill.bin', 'wb') as _f:\n    for _ in range(1024):\n        _f.write(b'0' * 2 ** 20)"),
        "graded", points=FULL_POINTS, note="writes 1 GB to disk after correct answers: stopped by the file-size limit")

    # --- Test and locked cells tampered with, metadata lost ---------------------------------
    nb = full()
    del nb.cells[index(nb, "test_kernels")]
    add("deltest_a1_kernels_channels.ipynb", nb, "graded", points=FULL_POINTS, reason="test cell 'test_kernels' deleted",
        note="a deleted test cell is restored from the assignment")
    nb = replace(replace(full(), "kernels", WRONG_SOBEL), "test_kernels", "print('all good')")
    add("edittest_a1_kernels_channels.ipynb", nb, "graded", points=FULL_POINTS - SOBEL_X - RESPONSES,
        reason="test cell 'test_kernels' edited", note="an edited test cell is restored: the wrong sobel_x (and the responses made with it) still fail")
    nb = full()
    nb.cells.append(copy.deepcopy(cell(nb, "test_conv2d_by_hand")))
    nb.cells[-1].id = "corpus-dup"
    add("duptest_a1_kernels_channels.ipynb", nb, "graded", points=FULL_POINTS, reason="duplicated",
        note="a test cell pasted twice counts once")
    nb = full()
    moved = nb.cells.pop(index(nb, "test_channels_in_memory"))
    nb.cells.insert(index(nb, "imports") + 1, moved)
    add("movetest_a1_kernels_channels.ipynb", nb, "graded", points=FULL_POINTS, reason="moved",
        note="a test cell moved above its answer is put back in place")
    nb = replace(full(), "kernels", WRONG_SOBEL)
    t = cell(nb, "test_kernels")
    t.cell_type = "markdown"
    del t["outputs"], t["execution_count"]
    add("mdtest_a1_kernels_channels.ipynb", nb, "graded", points=FULL_POINTS - SOBEL_X - RESPONSES,
        reason="markdown", note="a test cell turned into markdown to switch it off")
    nb = replace(full(), "line_image", "image = torch.zeros(1, 15, 15)")
    replace(nb, "responses", "responses = torch.zeros(3, 13, 13)\nblind_to_vertical_line = 'sobel_y'")
    add("editlocked_a1_kernels_channels.ipynb", nb, "graded", points=FULL_POINTS - RESPONSES,
        reason="locked cell 'line_image' edited", note="a locked cell edited so that zeros pass: restored")
    add("colab_a1_kernels_channels.ipynb", colab(full()), "graded", points=FULL_POINTS, reason="nbgrader metadata missing",
        note="an honest notebook saved by Colab (metadata and ids stripped)")
    add("colabpartial_a1_kernels_channels.ipynb", colab(partial()), "graded", points=PARTIAL_POINTS, reason="nbgrader metadata missing",
        note="Colab-stripped with typical wrong answers: the same 6 points as the sample cy")
    nb = replace(full(), "kernels", WRONG_SOBEL)
    t = cell(nb, "test_kernels")
    t.metadata.nbgrader.update({"grade_id": "test_kernels_mine", "locked": False, "points": 100})
    cell(nb, "test_channels_in_memory").metadata.nbgrader["points"] = 50
    add("metachanged_a1_kernels_channels.ipynb", nb, "graded", points=FULL_POINTS - SOBEL_X - RESPONSES,
        reason="unknown nbgrader cell", note="grade_id renamed, points raised: recognised by text and restored")
    nb = full()
    for ce in nb.cells:
        ce.id = "same"
    add("sameids_a1_kernels_channels.ipynb", json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", "graded",
        points=FULL_POINTS, reason="cell ids", note="every cell with the same id (invalid nbformat)")

    # --- Files that are not notebooks ---------------------------------------------------------
    text = nbformat.writes(full())
    add("truncated_a1_kernels_channels.ipynb", text[: len(text) // 2], "error", points=0, reason="truncated")
    add("broken_a1_kernels_channels.ipynb", text.replace('"cell_type": "code"', '"cell_type": "code" "', 1), "error", points=0,
        reason="not valid JSON")
    add("empty_a1_kernels_channels.ipynb", "", "error", points=0, reason="empty file")
    add("png_a1_kernels_channels.ipynb", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "error", points=0, reason="binary file")
    add("json_a1_kernels_channels.ipynb", '{"student": "me", "answers": [1, 2, 3]}\n', "error", points=0, reason="not a notebook")
    add("v3_a1_kernels_channels.ipynb", nbformat.writes(nbformat.convert(full(), 3)), "graded", points=FULL_POINTS,
        reason="nbformat 3 notebook converted to 4")
    add("v5_a1_kernels_channels.ipynb", json.dumps({"nbformat": 5, "nbformat_minor": 0, "cells": [], "metadata": {}}), "error",
        points=0, reason="unsupported nbformat")
    add("homework_final.ipynb", full(), "unmatched", reason="no known assignment")
    add(f"{A}.ipynb", full(), "unmatched", reason="no student name")
    # Two hand-ins from one student: the test sets the newer one's time; the full one is newer.
    add("twice_a1_kernels_channels.ipynb", release(), "unmatched", reason="second notebook", note="older hand-in (mtime set by the test)")
    add(f"twice/{A}.ipynb", full(), "graded", points=FULL_POINTS, note="newer hand-in of the same student")
    add(unicodedata.normalize("NFD", "Zoë Ångström") + f"_{A}.ipynb", full(), "graded", points=FULL_POINTS,
        note="a non-ASCII name written in decomposed form (as macOS does)")
    add(f"李雷/{A}.ipynb", partial(), "graded", points=PARTIAL_POINTS, note="a name in another script")

    # --- Hostile code of the first corpus: the scan reports it; the grade is what the answers earn ----------------
    add("hardcoded_a1_kernels_channels.ipynb", hard_coded(), "graded",
        points=FULL_POINTS - POINTS["test_conv2d_by_hand"] - POINTS["test_shape_functions"] - POINTS["test_responses"],
        note="literal answers pass the visible checks and fail the hidden tests; the responses cell calls torch's conv2d, "
             "switched off while grading, and stops there")
    add("patchchecks_a1_kernels_channels.ipynb", replace(full(), "kernels", WRONG_SOBEL + "a1.kernels.grade = lambda *a, **k: 2.0"),
        "graded", points=FULL_POINTS - SOBEL_X - RESPONSES, reason="modifies evalib.exercises.a1.kernels.grade",
        note="the question object patched in the kernel: the judge is elsewhere, the wrong sobel_x still fails")
    add("patchnumpy_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import numpy as np\nnp.allclose = lambda *a, **k: True"),
        "graded", points=FULL_POINTS, reason="modifies numpy.allclose")
    add("patchtorch_a1_kernels_channels.ipynb", replace(full(), "conv2d_by_hand",
        "def conv2d_by_hand(x, weight, bias):\n    return torch.zeros(weight.shape[0], x.shape[1] - weight.shape[2] + 1, x.shape[2] - weight.shape[3] + 1)\n\n"
        "torch.allclose = lambda *a, **k: True"), "graded", points=FULL_POINTS - POINTS["test_conv2d_by_hand"] - RESPONSES,
        reason="modifies torch.allclose", note="a convolution that returns zeros, with torch.allclose always True")
    add("patchbuiltins_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import builtins\nbuiltins.isinstance = lambda *a: True"),
        "graded", points=POINTS["test_conv2d_by_hand"], reason="builtins",
        note="isinstance always True breaks the notebook's own kernel: what came before counts, the rest is lost")
    add("shadowstr_a1_kernels_channels.ipynb", replace(full(), "responses",
        "responses = None\nclass _Yes(str):\n    def __ne__(self, other):\n        return False\ndef str(value):\n    return _Yes('sobel_y')\n"
        "blind_to_vertical_line = 'no idea'"), "graded", points=FULL_POINTS - POINTS["test_responses"],
        note="a str that lies: the checks read answers as plain data and never call the notebook's str, so it earns nothing")
    add("shadowchecks_a1_kernels_channels.ipynb", append(full(), "conv2d_by_hand",
        "class a1:\n    def __getattr__(self, name):\n        return lambda *a, **k: None\na1 = a1()"),
        "graded", points=FULL_POINTS, reason="rebinds 'a1'")
    add("ipyhook_a1_kernels_channels.ipynb", replace(release(), "conv2d_by_hand",
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'] if any('check' in l for l in lines) else lines)"),
        "graded", points=0, reason="input_transformers_post", note="turns every test cell into 'pass' (test cells never run)")
    add("sysmodules_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "import sys\nsys.modules['evalib.exercises.a1_kernels_channels'].weights_49.grade = lambda *a, **k: 1.0"),
        "graded", points=FULL_POINTS, reason="sys.modules")
    add("setattr_a1_kernels_channels.ipynb", prepend(full(), "kernels", "setattr(torch, 'allclose', lambda *a, **k: True)"),
        "graded", points=FULL_POINTS, reason="setattr")
    add("exec_a1_kernels_channels.ipynb", prepend(full(), "kernels", "exec('torch.allclose = lambda *a, **k: True')"),
        "graded", points=FULL_POINTS, reason="exec")
    add("reload_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import importlib\nimportlib.reload(a1)"),
        "graded", points=FULL_POINTS, reason="importlib.reload")
    add("readsource_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "try:\n    _secret = open('../../../source/a1_kernels_channels/a1_kernels_channels.ipynb').read()\nexcept OSError:\n    _secret = ''\n"
        "if _secret:\n    sobel_x = _secret"),
        "graded", points=FULL_POINTS, reason="path outside its folder",
        note="reads the source assignment with the hidden tests (nothing there to read)")
    add("gradebook_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "import os, time\n_found, _until = [], time.monotonic() + 5\n"
        "for _folder, _dirs, _files in os.walk('/'):\n"
        "    _found += [os.path.join(_folder, f) for f in _files if f in ('gradebook.db', 'results.sqlite')]\n"
        "    if time.monotonic() > _until:\n        break\n"
        "if _found:\n    sobel_x = _found"),
        "graded", points=FULL_POINTS, note="looks for the gradebook and the results store everywhere it can see "
                                           "(the scan misses it: os.walk('/') names no path it knows)")
    add("listdir_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "import os\n_others = os.listdir(os.pardir)\nif any(n.endswith('.ipynb') or n in ('ada', 'bo') for n in _others):\n    sobel_x = _others"),
        "graded", points=FULL_POINTS, reason="pardir", note="lists the other students' folders")
    add("writeother_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "try:\n    open('../ada/a1_kernels_channels.ipynb', 'w').write('{}')\n    sobel_x = 'written'\nexcept OSError:\n    pass"),
        "graded", points=FULL_POINTS, reason="path outside its folder", note="writes into another student's folder")
    add("network_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=1).close()\n    sobel_x = 'online'\nexcept OSError:\n    pass"),
        "graded", points=FULL_POINTS, reason="socket", note="opens a connection to a TEST-NET address (never routed)")
    add("dunderimport_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "getattr(__import__('o' + 's'), 'sys' + 'tem')('true')"), "graded", points=FULL_POINTS, reason="__import__")
    # Honest but unusual code.
    add("honest_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "!pip install --quiet numpy\n%matplotlib inline\nimport numpy as np\nfrom pathlib import Path\nnp.random.seed(0)\n"
        "_notes = Path('notes.txt')\nclass Helper:\n    def __init__(self):\n        setattr(self, 'ready', True)\n"
        "total = sum([1, 2, 3])\n"), "graded", points=FULL_POINTS, note="magics, numpy, a helper class")

    # --- Output-type tricks: make a test cell look passed --------------------------------------------------------
    n = 100
    for name, code, note in (
            ("out_prerunhook", attacks.PRE_RUN_HOOK, "a pre_run_cell hook displays a number before every cell"),
            ("out_nodeall", attacks.NODE_ALL, "%config ast_node_interactivity='all': every expression displayed, a number first"),
            ("out_fakeoutcome", attacks.FAKE_OUTCOME, "publishes outcome outputs (the evalib MIME type) saying correct after every cell"),
            ("out_printcorrect", attacks.PRINT_CORRECT, "print replaced: every print says correct, 13/13")):
        n += 1
        add(f"{name}_{A}.ipynb", insert_after(release(), "imports", code, n), "graded", points=0, kind="output", note=note)
    nb = replace(full(), "conv2d_by_hand", attacks.STDERR_CONV)
    add(f"out_stderr_{A}.ipynb", insert_after(nb, "kernels", attacks.STDERR_CELL, 110), "graded", points=FULL_POINTS,
        kind="honest output", note="honest debug output on stderr (prints, warnings, logging) inside a graded function and a cell")

    # --- Hooks, magics, input transformers, extensions -----------------------------------------------------------
    add(f"hook_transformer_{A}.ipynb", insert_after(release(), "imports", attacks.TRANSFORMERS, 120), "graded", points=0,
        kind="hooks", note="input and AST transformers that rewrite the check calls and make every comparison True")
    add(f"hook_capture_{A}.ipynb", insert_after(partial(), "imports", attacks.CAPTURE_BODY, 121), "graded",
        points=PARTIAL_POINTS, kind="hooks", note="torch, numpy and math comparisons patched inside a %%capture cell")
    add(f"hook_time_{A}.ipynb", insert_after(partial(), "imports", attacks.TIME_BODY, 122), "graded",
        points=PARTIAL_POINTS, kind="hooks", note="every question's judge and grade replaced inside a %%time cell")
    add(f"hook_loadext_{A}.ipynb", insert_after(release(), "imports", attacks.LOAD_EXT, 123), "graded", points=0,
        kind="hooks", note="%load_ext of a file the notebook has just written: it sets lying answers after every cell")
    add(f"hook_settrace_{A}.ipynb", insert_after(helper_base(), "imports", attacks.SETTRACE, 124), "graded",
        points=HELPER_POINTS, kind="hooks",
        note="conv2d_by_hand written with F.conv2d; sys.settrace scrubs the helpers the probe records")
    add(f"hook_patchprobe_{A}.ipynb", insert_after(helper_base(), "imports", attacks.PATCH_PROBE, 125), "graded",
        points=HELPER_POINTS, kind="hooks",
        note="conv2d_by_hand written with F.conv2d; the probe's helper switch and tracer replaced in the kernel")

    # --- Answers that lie ------------------------------------------------------------------------------------------
    add(f"lie_equal_{A}.ipynb", replace(release(), "quiz_numbers", attacks.ALWAYS_EQUAL), "graded", points=0, kind="lies",
        note="numbers whose __eq__ is always True (or __ne__ always False)")
    nb = replace(release(), "kernels", attacks.TENSOR_SUBCLASS)
    add(f"lie_tensor_{A}.ipynb", replace(nb, "responses", attacks.TENSOR_SUBCLASS_RESPONSES), "graded", points=0, kind="lies",
        note="zeros as a torch.Tensor subclass whose __torch_function__ says allclose, equal and eq are True")
    add(f"lie_item_{A}.ipynb", replace(release(), "quiz_numbers", attacks.LYING_ITEM), "graded", points=0, kind="lies",
        note="objects whose item(), __int__, __index__ and __repr__ give the expected number")
    nb = replace(release(), "conv2d_by_hand", attacks.LAZY_ITER)
    add(f"lie_lazy_{A}.ipynb", nb, "graded", points=0, kind="lies",
        note="results that call the forbidden helpers only when they are read (__iter__, __array__), after the window")
    add(f"lie_str_{A}.ipynb", replace(release(), "responses", attacks.STR_SUBCLASS), "graded", points=0, kind="lies",
        note="a str and a list whose __eq__ is always True")
    add(f"lie_class_{A}.ipynb", replace(release(), "kernels", attacks.FAKE_CLASS), "graded", points=0, kind="lies",
        note="an object whose __class__ says torch.Tensor, with a shape, a tolist and a __torch_function__")
    add(f"lie_probe_{A}.ipynb", insert_after(release(), "imports", attacks.FAKE_PROBE, 130), "graded", points=0, kind="lies",
        note="the kernel's probe replaced: it answers every request with made-up results")

    # --- Escaping the helper guards ------------------------------------------------------------------------------------
    n = 140
    for name, code, note in (
            ("guard_defaultarg", attacks.GUARD_DEFAULT_ARG, "F.conv2d captured in a default argument"),
            ("guard_convolution", attacks.GUARD_TORCH_CONVOLUTION, "torch.convolution"),
            ("guard_aten", attacks.GUARD_ATEN, "the aten operator torch.ops.aten.convolution itself"),
            ("guard_module", attacks.GUARD_MODULE, "an nn.Conv2d layer does the work"),
            ("guard_getattr", attacks.GUARD_GETATTR, "F.conv2d reached through import_module and getattr with built strings"),
            ("guard_lesson", attacks.GUARD_LESSON, "the lesson's own convolution, by built names"),
            ("guard_dispatchoff", attacks.GUARD_DISPATCH_OFF,
             "torch's dispatch modes switched off inside the function (_DisableTorchDispatch, _pop_mode_temporarily)"),
            ("guard_thread", attacks.GUARD_THREAD, "F.conv2d run in another thread"),
            ("guard_torchvision", attacks.GUARD_TORCHVISION, "torchvision's deform_conv2d with zero offsets, an operator "
                                                             "that exists only once torchvision is imported"),
            ("guard_scipy", attacks.GUARD_SCIPY, "scipy.signal.correlate, channel by channel")):
        n += 1
        add(f"{name}_{A}.ipynb", replace(full(), "conv2d_by_hand", code), "graded", points=HELPER_POINTS, kind="guards",
            note=note + "; the responses cell, which calls it, stops there")
    add(f"guard_celltime_{A}.ipynb", replace(full(), "responses", attacks.GUARD_CELL_TIME), "graded",
        points=FULL_POINTS - POINTS["test_responses"], kind="guards",
        note="responses worked out at cell time with the aten convolution reached by built strings: the cell stops there")
    for name, code, note in (
            ("guard_reload", attacks.GUARD_RELOAD, "importlib.reload of the shapes module"),
            ("guard_execsource", attacks.GUARD_EXEC_SOURCE, "the shapes module's source file run again with exec"),
            ("guard_original", attacks.GUARD_ORIGINAL_FILES, "the library's original files looked for on every path")):
        add(f"{name}_{A}.ipynb", replace(full(), "shape_functions", code), "graded", points=SHAPES_POINTS, kind="guards",
            note=note + "; the quiz cell calls conv_weight_count, so its answers go too")

    # --- Writing outside the working folder ----------------------------------------------------------------------------
    n = 160
    for name, code, note in (
            ("file_home", attacks.WRITE_HOME, "IPython startup files in HOME, /root and IPYTHONDIR"),
            ("file_jupyterconfig", attacks.WRITE_JUPYTER_CONFIG, "nbgrader and Jupyter configuration in every folder Jupyter reads"),
            ("file_interpreter", attacks.WRITE_INTERPRETER, "a .pth file, a module, sitecustomize in the standard library and site-packages"),
            ("file_tmp", attacks.WRITE_TMP, "/tmp, /var/tmp, /dev/shm, /run and the folders in them; through a symbolic link too"),
            ("file_checkout", attacks.WRITE_CHECKOUT, "the library's folder, every sys.path entry and the folders above them")):
        n += 1
        add(f"{name}_{A}.ipynb", insert_after(full(), "quiz_numbers", marked(code, name) + attacks.SPOIL, n), "graded",
            points=FULL_POINTS, kind="files", markers=[marker(name)], note=note)

    # --- Reaching other kernels and the grader ---------------------------------------------------------------------
    add(f"proc_scan_{A}.ipynb", insert_after(full(), "quiz_numbers", attacks.PROC_SCAN + attacks.SPOIL, 170), "graded",
        points=FULL_POINTS, kind="processes", note="every other process's command line, environment, memory and folders through /proc; every notebook on disk")
    add(f"proc_kill_{A}.ipynb", insert_after(full(), "quiz_numbers", attacks.PROC_KILL, 171), "graded", points=FULL_POINTS,
        kind="processes", note="SIGKILL to its parent, pid 1, pids up to 4000, kill(-1) and its process group")
    add(f"proc_sockets_{A}.ipynb", insert_after(full(), "quiz_numbers", attacks.PROC_SOCKETS + attacks.SPOIL, 172), "graded",
        points=FULL_POINTS, kind="processes",
        note="every TCP port of 127.0.0.1 and ::1, Unix sockets under /tmp and /run, kernel connection files, abstract sockets")

    # --- Orphan processes -------------------------------------------------------------------------------------------
    add(f"orphan_setsid_{A}.ipynb", insert_after(full(), "quiz_numbers", marked(attacks.ORPHAN, "orphan_setsid"), 180),
        "graded", points=FULL_POINTS, kind="orphans", markers=[marker("orphan_setsid")],
        note="a grandchild in its own session holding the kernel's pipes, writing to /tmp every second, for ever")
    add(f"orphan_forkbomb_{A}.ipynb", insert_after(full(), "quiz_numbers", attacks.FORK_BOMB, 181), "graded",
        points=FULL_POINTS, kind="orphans", note="forks until it cannot, every child forking too")

    # --- Printing hidden tests, and handing them back through the feedback ------------------------------------------------
    lost = POINTS["test_weights_49"]  # the leak goes back through weights_49's answer
    for name, code, note in (
            ("leak_history", attacks.LEAK_HISTORY, "In, _i, Out and the history after every cell"),
            ("leak_linecache", attacks.LEAK_LINECACHE, "the source of every cell in linecache"),
            ("leak_rawcell", attacks.LEAK_RAW_CELL, "pre and post_run_cell hooks keeping info.raw_cell")):
        nb = insert_after(full(), "imports", code, 190)
        add(f"{name}_{A}.ipynb", insert_after(nb, "quiz_numbers", attacks.LEAK_BACK, 199), "graded",
            points=FULL_POINTS - lost, kind="hidden", note=note + "; handed back through an answer and an error message")
    nb = replace(replace(full(), "conv2d_by_hand", attacks.LEAK_FRAMES_CONV), "shape_functions", attacks.LEAK_FRAMES_SHAPES)
    add(f"leak_frames_{A}.ipynb", insert_after(nb, "quiz_numbers", attacks.LEAK_BACK, 200), "graded",
        points=FULL_POINTS - lost, kind="hidden",
        note="the arguments and the callers' frames seen inside the functions the grader calls, handed back later")
    nb = insert_after(full(), "imports", attacks.LEAK_GC, 201)
    add(f"leak_gc_{A}.ipynb", insert_after(nb, "quiz_numbers", attacks.LEAK_BACK, 202), "graded",
        points=FULL_POINTS - lost, kind="hidden", note="the run's plan looked for in the kernel's memory with gc, handed back")

    # --- Colliding names --------------------------------------------------------------------------------------------------
    add(f"Sam Ng/{A}.ipynb", full(), "graded", points=FULL_POINTS, kind="names",
        note="two folders differing only by a space and an underscore: two students")
    add(f"Sam_Ng/{A}.ipynb", release(), "graded", points=0, kind="names",
        note="the other of the two: keeps its own grade")
    add(f"mallory/ada_{A}.ipynb", release(), "graded", points=0, kind="names", reason="named for 'ada' but inside the folder 'mallory'",
        note="a file named for student ada inside mallory's folder: mallory's hand-in; ada's own grade is unchanged")

    # --- Assignment 4: memorizing the evaluation digits -----------------------------------------------------------------
    a4_max, accuracy = _a4_points()
    add(f"memo_hash_{A4}.ipynb", replace(a4_full(), "my_net", attacks.MEMO_HASH), "graded", points=a4_max - accuracy,
        kind="memorize", note="a MyNet holding the held-out digits' labels keyed by a hash of each image, built from the "
                              "public offline digits")
    add(f"memo_literal_{A4}.ipynb", replace(a4_full(), "my_net", attacks.MEMO_LITERAL.replace("{table}", memo_literal_table())),
        "graded", points=a4_max - accuracy, kind="memorize",
        note="a MyNet whose lookup table of the held-out digits is a literal in the cell, outside what is counted")
    return c


def generated() -> dict[str, tuple[object, dict]]:
    """Cases too large or too oddly named to keep in the repository: file name (a path, or a zip member path
    after ``::``) -> (content, expected outcome). Content is bytes, text, a notebook, or a size for a sparse file."""
    out: dict[str, tuple[object, dict]] = {}
    out[f"huge_{A}.ipynb"] = (300 * 2 ** 20, {"status": "error", "points": 0.0, "reason": "file too large",
                                              "note": "a 300 MB file (sparse)", "class": "quadratic"})
    data = json.loads(nbformat.writes(full()))  # plain dicts: 64,000 copies are quick to make
    at = next(i for i, c in enumerate(data["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_kernels")
    data["cells"][at + 1:at + 1] = [{**data["cells"][at], "id": f"copy-{i}"} for i in range(64_000)]
    out[f"locked64k_{A}.ipynb"] = (json.dumps(data), {"status": "graded", "points": FULL_POINTS,
                                                      "reason": "duplicated 64000 times", "screening": "duplicated 64000 times",
                                                      "note": "64,000 copies of a locked test cell", "class": "quadratic"})
    data = json.loads(nbformat.writes(full()))
    data["cells"] += [{"cell_type": "code", "id": f"tiny-{i}", "metadata": {}, "execution_count": None, "outputs": [],
                       "source": f"_x = {i}"} for i in range(100_000)]
    out[f"tinycells_{A}.ipynb"] = (json.dumps(data), {"status": "error", "points": 0.0, "reason": "too many cells",
                                                      "screening": "too many cells",
                                                      "note": "a notebook of 100,000 tiny cells", "class": "quadratic"})
    nb = insert_after(full(), "quiz_numbers", "_blob = '" + "x" * (50 * 2 ** 20) + "'", 300)
    out[f"bigline_{A}.ipynb"] = (nb, {"status": "graded", "points": FULL_POINTS, "reason": "too large to run",
                                       "screening": "not scanned",
                                       "note": "a cell of one 50 MB line: that cell is not run, the rest is graded",
                                       "class": "quadratic"})
    long_name = "n" * (255 - len(f"_{A}.ipynb")) + f"_{A}.ipynb"
    out[long_name] = (full(), {"status": "graded", "points": FULL_POINTS, "class": "names",
                               "note": "a 255-byte file name: the student's id is shortened"})
    folder = "d" * 260
    out[f"names.zip::{folder}/{A}.ipynb"] = (full(), {"status": "graded", "points": FULL_POINTS, "class": "names",
                                                      "note": "a 260-byte folder name inside a zip"})
    deep = "/".join(["deep"] * 40)
    out[f"names.zip::{deep}/{A}.ipynb"] = (release(), {"status": "graded", "points": 0.0, "class": "names",
                                                       "note": "a folder 40 levels deep inside a zip"})
    return out


def content_bytes(content) -> bytes:
    """The bytes of a case's content (a sparse size is not handled here)."""
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode("utf-8")
    return (nbformat.writes(content) + "\n").encode("utf-8")


def build(out: Path = OUT) -> dict:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    expected: dict = {"assignments": [A, A4], "full_points": FULL_POINTS, "marker": attacks.MARKER,
                      "config_names": list(attacks.CONFIG_NAMES), "files": {}, "generated": {}}
    for name, (content, entry) in sorted(cases().items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content_bytes(content))
        expected["files"][unicodedata.normalize("NFC", name)] = entry
    expected["generated"] = {name: entry for name, (_, entry) in sorted(generated().items())}
    expected["generated"]["lms.zip"] = {"note": "a zip with a good notebook, '../' and absolute members and a symlink, made by the test"}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return expected


if __name__ == "__main__":
    result = build()
    print(f"wrote {len(result['files'])} files to {OUT} and {HERE / 'expected.json'}")
