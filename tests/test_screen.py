"""Screening submissions before grading: file checks, metadata repair, test-cell restoration, the static scan."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest

from autograders.samples.make_samples import WRONG, as_handed_in
from autograders.intake.screen import MAX_BYTES, scan_code, screen

ROOT = Path(__file__).resolve().parents[1]
A = "a1_kernels_channels"
SOURCE = nbformat.read(ROOT / "assignments" / A / f"{A}.ipynb", as_version=4)
PROTECTED = {"checks": "evalib.checks", "torch": "torch", "image": "a value", "str": "builtins"}


def _full():
    return as_handed_in(SOURCE)


def _write(tmp_path, content, name="x.ipynb") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content)
    else:
        path.write_text(json.dumps(content))
    return path


def _gids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def _source_gids():
    return _gids(SOURCE)


# --- the file -----------------------------------------------------------------------------
@pytest.mark.parametrize("content, reason", [
    (b"", "empty file (0 bytes)"),
    ("   \n", "empty file"),
    (b"PK\x03\x04" + bytes(100), "binary file, not a notebook (a zip archive?)"),
    ("hello", "not a notebook (not JSON"),
    ('{"cells": [{"cell_type": "code", "source": "x = 1"', "not valid JSON (truncated at byte"),
    ('{"cells": [} ]}', "not valid JSON (at byte 11"),
    ("[1, 2, 3]", "not a notebook (JSON without cells)"),
    ('{"nbformat": 2, "cells": []}', "unsupported nbformat 2"),
    (b"\xff\xfe{\x00", "binary file"),
])
def test_files_that_cannot_be_graded_say_why(tmp_path, content, reason):
    result = screen(_write(tmp_path, content), A)
    assert result.notebook is None and not result.withhold
    assert len(result.problems) == 1 and result.problems[0].startswith(reason), result.problems


def test_a_huge_file_is_not_read(tmp_path):
    path = tmp_path / "huge.ipynb"
    with open(path, "wb") as f:
        f.truncate(MAX_BYTES + 1)
    result = screen(path, A)
    assert result.notebook is None and result.problems[0].startswith("file too large")


def test_an_honest_notebook_passes_untouched(tmp_path):
    result = screen(_write(tmp_path, nbformat.writes(_full())), A)
    assert result.problems == [] and not result.withhold
    assert _gids(result.notebook) == _source_gids()
    assert [c.id for c in result.notebook.cells] == [c.id for c in SOURCE.cells]
    nbformat.validate(result.notebook)


def test_nbformat_3_is_converted(tmp_path):
    result = screen(_write(tmp_path, nbformat.writes(nbformat.convert(_full(), 3))), A)
    assert result.problems[0] == "nbformat 3 notebook converted to 4"
    assert result.notebook.nbformat == 4 and _gids(result.notebook) == _source_gids()


def _colab(nb) -> dict:
    data = json.loads(nbformat.writes(nb))
    for i, c in enumerate(data["cells"]):
        c.pop("id")
        c["metadata"] = {"id": f"colab{i}"}
    data["nbformat_minor"] = 0
    return data


def test_colab_stripped_metadata_is_restored_by_matching_the_release(tmp_path):
    partial = as_handed_in(SOURCE, WRONG[A]["partial"])
    result = screen(_write(tmp_path, _colab(partial)), A)
    assert not result.withhold
    assert any(p.startswith("nbgrader metadata missing") and "17 cells" in p for p in result.problems), result.problems
    assert _gids(result.notebook) == _source_gids()
    assert [c.id for c in result.notebook.cells] == [c.id for c in SOURCE.cells]
    # The student's (wrong) answers are kept, not replaced by the solution.
    by_gid = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in result.notebook.cells}
    assert "bias forgotten" in by_gid["conv2d_by_hand"].source
    assert by_gid["written_channels_kernels"].cell_type == "markdown"


def test_colab_release_keeps_its_stub_answers(tmp_path):
    release = ROOT / "build" / "release" / A / f"{A}.ipynb"
    if not release.exists():
        pytest.skip("run `python -m autograders release` first")
    result = screen(_write(tmp_path, _colab(nbformat.read(release, as_version=4))), A)
    assert _gids(result.notebook) == _source_gids() and not result.withhold


def _by(nb, gid):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)


def test_deleted_moved_duplicated_edited_test_cells(tmp_path):
    nb = _full()
    del nb.cells[_by(nb, "test_kernels")]
    moved = nb.cells.pop(_by(nb, "test_channels_in_memory"))
    nb.cells.insert(2, moved)
    dup = copy.deepcopy(nb.cells[_by(nb, "test_conv2d_by_hand")])
    dup.id = "dup"
    nb.cells.append(dup)
    nb.cells[_by(nb, "test_weights_49")].source = "pass"
    imports = nb.cells[_by(nb, "imports")]
    imports.cell_type = "raw"
    del imports["outputs"], imports["execution_count"]
    result = screen(_write(tmp_path, json.loads(nbformat.writes(nb))), A)
    text = "\n".join(result.problems)
    assert "test cell 'test_kernels' deleted: restored from the assignment" in text
    assert "test cell 'test_channels_in_memory' moved" in text
    assert "test cell 'test_conv2d_by_hand' duplicated" in text
    assert "test cell 'test_weights_49' edited" in text
    assert "locked cell 'imports' turned into a raw cell: restored as code" in text
    assert _gids(result.notebook) == _source_gids(), "every cell back in its place, once"
    sources = {c.metadata["nbgrader"]["grade_id"]: c for c in result.notebook.cells if "nbgrader" in c.metadata}
    assert sources["test_weights_49"].source.startswith("a1.weights_49.check(weights_49)")
    assert sources["imports"].cell_type == "code"
    assert "BEGIN HIDDEN" not in "".join(c.source for c in result.notebook.cells)
    assert not result.withhold


def test_changed_metadata_is_put_back(tmp_path):
    nb = _full()
    meta = nb.cells[_by(nb, "test_kernels")].metadata.nbgrader
    meta.update({"grade_id": "mine", "points": 100, "locked": False})
    nb.cells[_by(nb, "conv2d_by_hand")].metadata.nbgrader["grade_id"] = "nonsense"
    result = screen(_write(tmp_path, json.loads(nbformat.writes(nb))), A)
    assert any(p.startswith("unknown nbgrader cell(s) mine, nonsense") for p in result.problems), result.problems
    assert _gids(result.notebook) == _source_gids()
    assert result.notebook.cells[_by(result.notebook, "test_kernels")].metadata.nbgrader["points"] == 2


def test_an_extra_cell_claiming_a_test_id_does_not_displace_the_test(tmp_path):
    nb = _full()
    fake = nbformat.v4.new_code_cell("print('test passed')")
    fake.metadata["nbgrader"] = dict(nb.cells[_by(nb, "test_responses")].metadata.nbgrader)
    fake.id = "fake"
    nb.cells.insert(1, fake)
    result = screen(_write(tmp_path, json.loads(nbformat.writes(nb))), A)
    assert _gids(result.notebook) == _source_gids()
    assert "print('test passed')" not in "".join(c.source for c in result.notebook.cells)


# --- the static scan ---------------------------------------------------------------------------
@pytest.mark.parametrize("code, reason", [
    ("import numpy as np\nnp.allclose = lambda *a, **k: True", "modifies numpy.allclose"),
    ("torch.Tensor.__eq__ = lambda a, b: True", "modifies torch.Tensor.__eq__"),
    ("checks.check_number = print", "modifies evalib.checks.check_number"),
    ("import evalib\ndel evalib.checks.check_tensor", "deletes evalib.checks.check_tensor"),
    ("from evalib import checks as c\nc.passed = None", "modifies evalib.checks.passed"),
    ("setattr(torch, 'allclose', min)", "setattr"),
    ("delattr(checks, 'check_tensor')", "delattr"),
    ("import builtins", "imports builtins"),
    ("__builtins__['len'] = lambda x: 3", "__builtins__"),
    ("import ctypes", "imports ctypes"),
    ("import gc\ngc.get_referrers(checks)", "gc"),
    ("exec('x = 1')", "exec"),
    ("eval('1')", "eval"),
    ("compile('x', 'f', 'exec')", "compile"),
    ("__import__('os')", "__import__"),
    ("import importlib\nimportlib.reload(checks)", "importlib.reload"),
    ("import sys\nsys.modules['torch'] = None", "sys.modules"),
    ("globals()['checks'] = 1", "globals()"),
    ("checks = None", "rebinds 'checks'"),
    ("def str(x):\n    return 'sobel_y'", "rebinds 'str'"),
    ("image = torch.zeros(1, 15, 15)", "rebinds 'image'"),
    ("for checks in range(3):\n    pass", "rebinds 'checks'"),
    ("def f():\n    global torch\n    torch = None", "rebinds 'torch'"),
    ("import numpy as torch", "rebinds 'torch'"),
    ("open('../../source/a1/a1.ipynb').read()", "path outside its folder"),
    ("open('/etc/passwd')", "path outside its folder"),
    ("from pathlib import Path\nPath('.') / '..' / 'bo'", "path outside its folder"),
    ("import os\nos.listdir(os.pardir)", "os.pardir"),
    ("from pathlib import Path\nlist(Path.cwd().parent.iterdir())", "walks up the folders"),
    ("import glob\nglob.glob('/**/gradebook.db', recursive=True)", "path outside its folder"),
    ("import socket", "imports socket"),
    ("import urllib.request", "imports urllib.request"),
    ("import subprocess", "imports subprocess"),
    ("import os\nos.system('ls')", "os.system"),
    ("!cat ../../gradebook.db", "runs a shell command"),
    ("%%bash\nls ..", "magic %bash"),
    ("get_ipython().input_transformers_post.append(lambda l: [])", "input_transformers_post"),
    ("ip = get_ipython()\nip.set_custom_exc((Exception,), print)", "IPython shell"),
    ("import sys\nsys.settrace(print)", "sys.settrace"),
    ("import inspect\ninspect.currentframe().f_back.f_globals['checks'] = 1", "inspect"),
])
def test_tampering_is_held_for_review(code, reason):
    reasons = scan_code(code, 7, PROTECTED)
    assert reasons, code
    assert any(reason in r for r in reasons), reasons
    assert all(r.endswith("in cell 7: for review (the grade is not held back)") for r in reasons)


@pytest.mark.parametrize("code", [
    "import torch\nfrom evalib import checks\nimport evalib.checks as checks",  # the same things again
    "import numpy as np\nnp.random.seed(0)\nx = np.allclose([1], [1])",
    "!pip install --quiet numpy\n%matplotlib inline",
    "class Net(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n        setattr(self, 'w', 1)\n        self.__dict_like = 1",
    "def conv(x):\n    image = x * 2\n    return image",  # a local name, not the notebook's
    "total = sum([1, 2])\nlist_of = list(range(3))",
    "weights = torch.zeros(3)\nweights[0] = 1.0\nweights.data = torch.ones(3)",
    "with open('answers.txt', 'w') as f:\n    f.write('a/b')\nparts = 'a/b'.split('/')",
    "def broken(:\n    pass",  # a syntax error fails when run; nothing to hold
])
def test_ordinary_code_is_not_held(code):
    assert scan_code(code, 3, PROTECTED) == []


def test_tampering_withholds_the_grade(tmp_path):
    nb = _full()
    nb.cells[_by(nb, "kernels")].source += "\nimport numpy as np\nnp.allclose = lambda *a, **k: True"
    result = screen(_write(tmp_path, json.loads(nbformat.writes(nb))), A)
    assert result.withhold and result.notebook is not None
    assert result.problems == [f"modifies numpy.allclose in cell {_by(nb, 'kernels') + 1}: for review (the grade is not held back)"]


def test_test_cells_themselves_are_not_scanned(tmp_path):
    """Locked cells are graded as released whatever the student did to them, so their text is not the student's code."""
    nb = _full()
    nb.cells[_by(nb, "test_kernels")].source = "import ctypes"
    result = screen(_write(tmp_path, json.loads(nbformat.writes(nb))), A)
    assert not result.withhold
    assert result.problems == [f"test cell 'test_kernels' edited (cell {_by(nb, 'test_kernels') + 1}): the original was restored"]


def test_screening_never_raises(tmp_path):
    weird = {"nbformat": 4, "nbformat_minor": 5, "metadata": [], "cells": [None, 3, {"cell_type": "code", "source": 5},
             {"cell_type": "code", "source": ["x = 1\n"], "metadata": "no"}, {"cell_type": "widget"}]}
    result = screen(_write(tmp_path, weird), A)
    assert result.notebook is not None
    assert any("unreadable cell" in p for p in result.problems)
