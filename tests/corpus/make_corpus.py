"""Build the corpus of broken and hostile submissions for assignment 1 (kernels and channels).

    python tests/corpus/make_corpus.py        # rewrite tests/corpus/submissions and tests/corpus/expected.json

Every case starts from the full solution as a student would hand it in (solutions as
their own code, hidden tests removed) or from the release, then breaks one thing.
``expected.json`` maps each file to what grading it must give:

- ``status``: "graded", "flagged" (tampering: graded, 0 autograded points, held for
  review), "error" (cannot be graded), "unmatched" (not taken as a submission), or a
  list of acceptable statuses where the grader's policy decides (a dead kernel);
- ``points``: the exact autograded points its honest content earns, or ``max_points``
  an upper bound where a crash may cost more;
- ``reason``: a piece of the one-line reason the report must give for the file (or null).

Files that must be made at test time (a zip holding a symlink, a file of hundreds of MB)
are described in ``expected.json`` under "generated" and built by tests/test_corpus.py.
The output is deterministic: running this again rewrites the same bytes.
"""
from __future__ import annotations

import copy
import json
import shutil
import sys
import unicodedata
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from autograders.samples.make_samples import WRONG, as_handed_in  # noqa: E402

A = "a1_kernels_channels"
OUT = HERE / "submissions"
SOURCE_NB = ROOT / "assignments" / A / f"{A}.ipynb"
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


def cases() -> dict[str, tuple[object, dict]]:
    """file name -> (notebook, bytes or text; expected outcome)."""
    c: dict[str, tuple[object, dict]] = {}

    def add(name, content, status, points=None, max_points=None, reason=None, note=""):
        entry = {"status": status, "reason": reason, "note": note}
        if points is not None:
            entry["points"] = float(points)
        if max_points is not None:
            entry["max_points"] = float(max_points)
        c[name] = (content, entry)

    # --- Kernels that never end, die or eat resources -------------------------------------
    add("loop_a1_kernels_channels.ipynb", prepend(full(), "responses", "while True:\n    pass"), "graded",
        points=FULL_POINTS - POINTS["test_responses"], note="an answer cell that never ends: stopped by the cell timeout")
    add("deafloop_a1_kernels_channels.ipynb", prepend(full(), "responses",
        "import time\nwhile True:\n    try:\n        while True:\n            time.sleep(0.01)\n    except KeyboardInterrupt:\n        pass"),
        ["graded", "error"], max_points=FULL_POINTS - POINTS["test_responses"],
        note="a loop that ignores interrupts: only killing the kernel stops it")
    add("sleepy_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import time\ntime.sleep(3600)"), "graded",
        points=FULL_POINTS - POINTS["test_kernels"] - POINTS["test_responses"], note="a cell sleeping past the timeout")
    add("sysexit_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import sys\nsys.exit(1)"), "graded",
        points=FULL_POINTS - POINTS["test_kernels"] - POINTS["test_responses"], note="sys.exit: IPython turns it into an error")
    add("osexit_a1_kernels_channels.ipynb", prepend(full(), "quiz_numbers", "import os\nos._exit(0)"), ["graded", "error"],
        max_points=FULL_POINTS - QUIZ, note="os._exit kills the kernel before the quiz answers")
    add("segv_a1_kernels_channels.ipynb", prepend(full(), "quiz_numbers", "import faulthandler\nfaulthandler._sigsegv()"),
        ["graded", "error"], max_points=FULL_POINTS - QUIZ, note="a segmentation fault in the kernel")
    add("ctypesegv_a1_kernels_channels.ipynb", prepend(full(), "quiz_numbers", "import ctypes\nctypes.string_at(0)"), "flagged",
        points=0, reason="ctypes", note="a segfault through ctypes: ctypes is held for review")
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
    partial = as_handed_in(nbformat.read(SOURCE_NB, as_version=4), WRONG[A]["partial"])
    add("colabpartial_a1_kernels_channels.ipynb", colab(partial), "graded", points=6, reason="nbgrader metadata missing",
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
    add(f"李雷/{A}.ipynb", partial, "graded", points=6, note="a name in another script")

    # --- Hostile code ---------------------------------------------------------------------------
    add("hardcoded_a1_kernels_channels.ipynb", hard_coded(), "graded",
        points=FULL_POINTS - POINTS["test_conv2d_by_hand"] - POINTS["test_shape_functions"] - RESPONSES,
        note="literal answers pass the visible checks and fail the hidden tests; responses made with torch's conv2d earn nothing")
    add("patchchecks_a1_kernels_channels.ipynb", replace(full(), "kernels", WRONG_SOBEL + "a1.kernels.grade = lambda *a, **k: 2.0"),
        "flagged", points=0, reason="modifies evalib.exercises.a1.kernels.grade")
    add("patchnumpy_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import numpy as np\nnp.allclose = lambda *a, **k: True"),
        "flagged", points=0, reason="modifies numpy.allclose")
    add("patchtorch_a1_kernels_channels.ipynb", replace(full(), "conv2d_by_hand",
        "def conv2d_by_hand(x, weight, bias):\n    return torch.zeros(weight.shape[0], x.shape[1] - weight.shape[2] + 1, x.shape[2] - weight.shape[3] + 1)\n\n"
        "torch.allclose = lambda *a, **k: True"), "flagged", points=0, reason="modifies torch.allclose")
    add("patchbuiltins_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import builtins\nbuiltins.isinstance = lambda *a: True"),
        "flagged", points=0, reason="builtins")
    add("shadowstr_a1_kernels_channels.ipynb", replace(full(), "responses",
        "responses = None\nclass _Yes(str):\n    def __ne__(self, other):\n        return False\ndef str(value):\n    return _Yes('sobel_y')\n"
        "blind_to_vertical_line = 'no idea'"), "graded", points=FULL_POINTS - POINTS["test_responses"],
        note="a str that lies: the checks read answers as plain data and never call the notebook's str, so it earns nothing")
    add("shadowchecks_a1_kernels_channels.ipynb", append(full(), "conv2d_by_hand",
        "class a1:\n    def __getattr__(self, name):\n        return lambda *a, **k: None\na1 = a1()"),
        "flagged", points=0, reason="rebinds 'a1'")
    add("ipyhook_a1_kernels_channels.ipynb", replace(release(), "conv2d_by_hand",
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'] if any('check' in l for l in lines) else lines)"),
        "flagged", points=0, reason="input_transformers_post", note="turns every test cell into 'pass'")
    add("sysmodules_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "import sys\nsys.modules['evalib.exercises.a1_kernels_channels'].weights_49.grade = lambda *a, **k: 1.0"),
        "flagged", points=0, reason="sys.modules")
    add("setattr_a1_kernels_channels.ipynb", prepend(full(), "kernels", "setattr(torch, 'allclose', lambda *a, **k: True)"),
        "flagged", points=0, reason="setattr")
    add("exec_a1_kernels_channels.ipynb", prepend(full(), "kernels", "exec('torch.allclose = lambda *a, **k: True')"),
        "flagged", points=0, reason="exec")
    add("reload_a1_kernels_channels.ipynb", prepend(full(), "kernels", "import importlib\nimportlib.reload(a1)"),
        "flagged", points=0, reason="importlib.reload")
    add("readsource_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "try:\n    _secret = open('../../../source/a1_kernels_channels/a1_kernels_channels.ipynb').read()\nexcept OSError:\n    _secret = ''"),
        "flagged", points=0, reason="path outside its folder", note="reads the source assignment with the hidden tests")
    add("gradebook_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "import glob\n_found = glob.glob('/**/gradebook.db', recursive=True)"), "flagged", points=0, reason="path outside its folder")
    add("listdir_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "import os\n_others = os.listdir(os.pardir)"), "flagged", points=0, reason="pardir", note="lists the other students' folders")
    add("writeother_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "try:\n    open('../ada/a1_kernels_channels.ipynb', 'w').write('{}')\nexcept OSError:\n    pass"),
        "flagged", points=0, reason="path outside its folder", note="writes into another student's folder")
    add("network_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "import socket\ntry:\n    socket.create_connection(('192.0.2.1', 80), timeout=1).close()\nexcept OSError:\n    pass"),
        "flagged", points=0, reason="socket", note="opens a connection to a TEST-NET address (never routed)")
    add("dunderimport_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "getattr(__import__('o' + 's'), 'sys' + 'tem')('true')"), "flagged", points=0, reason="__import__")
    # Honest but unusual code must not be held.
    add("honest_a1_kernels_channels.ipynb", prepend(full(), "kernels",
        "!pip install --quiet numpy\n%matplotlib inline\nimport numpy as np\nfrom pathlib import Path\nnp.random.seed(0)\n"
        "_notes = Path('notes.txt')\nclass Helper:\n    def __init__(self):\n        setattr(self, 'ready', True)\n"
        "total = sum([1, 2, 3])\n"), "graded", points=FULL_POINTS, note="magics, numpy, a helper class: nothing to hold")
    return c


def build(out: Path = OUT) -> dict:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    expected: dict = {"assignment": A, "full_points": FULL_POINTS, "files": {}, "generated": {}}
    for name, (content, entry) in sorted(cases().items()):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_text(nbformat.writes(content) + "\n", encoding="utf-8")
        expected["files"][unicodedata.normalize("NFC", name)] = entry
    expected["generated"] = {
        "huge_a1_kernels_channels.ipynb": {"status": "error", "points": 0.0, "reason": "file too large",
                                            "note": "a 300 MB file (sparse), made by the test"},
        "lms.zip": {"note": "a zip with a good notebook, '../' and absolute members and a symlink, made by the test"},
    }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return expected


if __name__ == "__main__":
    result = build()
    print(f"wrote {len(result['files'])} files to {OUT} and {HERE / 'expected.json'}")
