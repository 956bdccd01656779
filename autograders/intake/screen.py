"""Screen a handed-in notebook before it is graded.

:func:`screen` reads a submission and returns a :class:`Screening`:

- ``notebook``: a clean nbformat v4 notebook ready to be graded, or ``None`` when the
  file cannot be graded at all (empty, not JSON, truncated, not a notebook, too large,
  unsupported nbformat, too many cells);
- ``problems``: one line each, for the report ("test cell 'test_kernels' deleted:
  restored from the assignment", "modifies numpy.allclose in cell 7: for review ...");
- ``withhold``: the scan found code worth a person's look. Advisory: grading never
  holds a grade back for it (the verdicts are made where the student's code cannot
  reach, see :mod:`autograders.grading`).

What it repairs, by matching the submission against the source assignment
(``assignments/<a>/<a>.ipynb``):

- nbgrader metadata and cell ids stripped or changed (Colab drops them): locked and
  test cells are recognized by their ``grade_id`` or, failing that, by their text as
  released (hidden tests removed); answer cells by their position between locked
  cells. An honest notebook that lost its metadata gets its real grade.
- test or locked cells deleted, duplicated, moved, edited or turned into markdown:
  put back as released, and reported (one line per cell, however often it was pasted).
- outputs are dropped: a notebook holding hundreds of MB of output costs nothing more.

Every step is linear in the notebook's size and screening has a time limit
(:data:`TIME_LIMIT`), so no file can make it crawl: 64,000 pasted copies of a locked
cell cost what reading them costs, and a notebook of more than :data:`MAX_CODE_CELLS`
code cells is refused with its reason.

The static scan reads every code cell the student controls (answer cells and
cells they added) with :mod:`ast` and reports code that changes the modules the
checks rely on, rebinds names they use, reaches into the interpreter (``ctypes``,
``gc``, frames, ``sys.modules``, IPython's hooks), runs code from strings, reads or
writes files outside its working folder, runs other programs or opens network
connections. It is a screen, not a proof (code built at run time hides from it),
which is why its lines only tell the instructor where to look.
"""
from __future__ import annotations

import ast
import builtins
import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from ..source import PRACTICE_CELL_ID, read_source, strip_hidden
from evalib.course import course_neutral

__all__ = ["Screening", "screen", "scan_code", "MAX_BYTES", "MAX_CODE_CELLS", "TIME_LIMIT"]

#: Larger files are not read at all (a real notebook, outputs included, is far smaller).
MAX_BYTES = 100 * 1024 * 1024
#: More code cells than this (once pasted copies of the assignment's cells are removed) are not graded:
#: a real notebook has a few hundred at most, and every cell costs a step of the grading run.
MAX_CODE_CELLS = 5000
#: Cells larger than this are not scanned (the scan is advisory; such a cell is reported instead).
MAX_SCANNED_CHARS = 200_000
#: Seconds screening may take; every step of it is linear in the notebook's size, so only a
#: machine far slower than expected reaches this.
TIME_LIMIT = 60.0



@dataclass
class Screening:
    notebook: NotebookNode | None
    problems: list[str] = field(default_factory=list)
    withhold: bool = False


# ---------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------
def _read(path: Path) -> tuple[dict | None, list[str]]:
    """The notebook as a dict, or None and the reason."""
    try:
        size = path.stat().st_size
    except OSError as error:
        return None, [f"cannot read the file ({error.strerror or error})"]
    if size == 0:
        return None, ["empty file (0 bytes)"]
    if size > MAX_BYTES:
        return None, [f"file too large ({size / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB)"]
    raw = path.read_bytes()
    head = raw[:1024]
    if b"\x00" in head:
        kind = " (a zip archive?)" if raw.startswith(b"PK") else " (a PDF?)" if raw.startswith(b"%PDF") else ""
        return None, [f"binary file, not a notebook{kind}"]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return None, [f"not UTF-8 text (bad byte at {error.start}): not a notebook"]
    if not text.strip():
        return None, ["empty file (only blank space)"]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        stripped = text.rstrip()
        if stripped[:1] not in "{[":
            return None, ["not a notebook (not JSON: a notebook file starts with '{')"]
        at_end = error.pos >= len(stripped) - 1 or error.msg.startswith("Unterminated string")
        if at_end and not stripped.endswith("}"):
            return None, [f"not valid JSON (truncated at byte {len(raw)})"]
        at = len(text[: error.pos].encode("utf-8"))
        return None, [f"not valid JSON (at byte {at}, line {error.lineno}: {error.msg})"]
    except RecursionError:
        return None, ["not a notebook (JSON nested too deeply)"]
    if not isinstance(data, dict) or not ("cells" in data or "worksheets" in data):
        return None, ["not a notebook (JSON without cells)"]
    return data, []


def _source_text(value) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "".join(value)
    return None


def _to_v4(data: dict) -> tuple[list[dict] | None, list[str]]:
    """The cells of a v3 or v4 notebook as plain dicts {cell_type, source, metadata, id?, index}."""
    problems: list[str] = []
    major = data.get("nbformat")
    if major == 3:
        try:
            nb = nbformat.reads(json.dumps(data), as_version=4)
        except Exception as error:  # nbformat raises many kinds
            return None, [f"nbformat 3 notebook that cannot be converted ({type(error).__name__}: {error})"]
        data = json.loads(nbformat.writes(nb))
        problems.append("nbformat 3 notebook converted to 4")
    elif major != 4:
        return None, [f"unsupported nbformat {major!r} (expected 4)"]
    raw_cells = data.get("cells")
    if not isinstance(raw_cells, list):
        return None, ["not a notebook (its 'cells' is not a list)"]
    cells, skipped = [], 0
    for index, cell in enumerate(raw_cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            skipped += 1
            continue
        source = _source_text(cell.get("source", ""))
        if source is None:
            skipped += 1
            continue
        meta = cell.get("metadata")
        cells.append({"cell_type": cell["cell_type"], "source": source,
                      "metadata": meta if isinstance(meta, dict) else {},
                      "id": cell.get("id") if isinstance(cell.get("id"), str) else None,
                      "index": index})
    if skipped:
        problems.append(f"{skipped} unreadable cell(s) dropped (no cell type or source)")
    return cells, problems


# ---------------------------------------------------------------------------
# The source assignment
# ---------------------------------------------------------------------------
def _norm(text: str) -> str:
    """Text compared loosely: no trailing blanks, no blank lines, unified line ends, and without the
    badge line and set-up code that each published copy writes for its own course address."""
    text = course_neutral(text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = (line.rstrip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def released_text(source: str) -> str:
    """A source cell's text as students get it: hidden tests removed (see autograders.source)."""
    return strip_hidden(source)


@dataclass
class _SourceCell:
    index: int
    cell: NotebookNode
    role: str  # "locked" (tests included), "answer" or "plain"
    grade_id: str | None
    text: str  # normalized released text

    @property
    def is_test(self) -> bool:
        meta = self.cell.metadata.get("nbgrader", {})
        return bool(meta.get("grade")) and not meta.get("solution")

    @property
    def label(self) -> str:
        return f"{'test' if self.is_test else 'locked'} cell '{self.grade_id}'"


_SOURCES: dict[tuple[Path, str], tuple[NotebookNode, list[_SourceCell]]] = {}


#: The source reader's roles as screening needs them: what a student may write, what is restored as released.
_ROLES = {"answer": "answer", "written": "answer", "test": "locked", "locked": "locked", "plain": "plain"}


def _source(assignment: str, folder: Path | None = None) -> tuple[NotebookNode, list[_SourceCell]]:
    source = read_source(assignment, folder)
    key = (source.path, assignment)
    if key not in _SOURCES or _SOURCES[key][0] is not source.notebook:
        cells = [_SourceCell(c.index, c.cell, _ROLES[c.role], c.grade_id, _norm(c.released)) for c in source.cells]
        _SOURCES[key] = (source.notebook, cells)
    return _SOURCES[key]


# ---------------------------------------------------------------------------
# Restoring metadata and the test cells
# ---------------------------------------------------------------------------
def _lis(items: list[tuple[int, int]]) -> set[int]:
    """Positions (first of each pair) forming the longest strictly increasing run of keys (second).

    Of several longest runs, the one that ends first, each element preceded by the earliest one
    that can precede it. O(n log n) to find the lengths, O(n * L) to read the run back (L: its
    length, at most the number of locked cells): a notebook of 64,000 pasted cells costs no more
    than reading it.
    """
    import bisect

    if not items:
        return set()
    tails: list[int] = []  # tails[l]: the smallest key that ends a run of length l + 1 so far
    length = []
    for _, key in items:
        at = bisect.bisect_left(tails, key)
        if at == len(tails):
            tails.append(key)
        else:
            tails[at] = key
        length.append(at + 1)
    best = len(tails)
    by_length: dict[int, list[int]] = {}
    for i, n in enumerate(length):
        by_length.setdefault(n, []).append(i)
    i = by_length[best][0]
    keep = {items[i][0]}
    for n in range(best - 1, 0, -1):
        i = next(j for j in by_length[n] if j < i and items[j][1] < items[i][1])
        keep.add(items[i][0])
    return keep


def _restore(cells: list[dict], sources: list[_SourceCell]) -> tuple[list[dict], list[str]]:
    """Match student cells to the source; returns the cells in grading order (with ``src`` set) and problems."""
    problems: list[str] = []
    by_id = {s.grade_id: s for s in sources if s.grade_id}
    locked_by_text: dict[str, list[_SourceCell]] = {}
    for s in sources:
        if s.role == "locked" and s.text:
            locked_by_text.setdefault(s.text, []).append(s)
    plain_by_text = {s.text: s for s in sources if s.role == "plain" and s.text}
    restored_meta = 0
    unknown_ids = []

    # 0. The practice key cell of a practice release is not part of the assignment: it is dropped.
    cells = [c for c in cells if not (isinstance(c["metadata"].get("nbgrader"), dict)
                                     and c["metadata"]["nbgrader"].get("grade_id") == PRACTICE_CELL_ID)]

    # 1. What each student cell claims to be, by metadata or by text.
    for cell in cells:
        cell["src"], cell["how"] = None, None
        meta = cell["metadata"].get("nbgrader")
        gid = meta.get("grade_id") if isinstance(meta, dict) else None
        text = _norm(cell["source"])
        if isinstance(meta, dict) and meta:
            if isinstance(gid, str) and gid in by_id and by_id[gid].role != "plain":
                cell["src"], cell["how"] = by_id[gid], "id"
            elif gid is not None or meta.get("grade") or meta.get("locked") or meta.get("solution"):
                unknown_ids.append(str(gid))
        if cell["src"] is None and text in locked_by_text:
            cell["src"], cell["how"] = locked_by_text[text][0], "text"
        if cell["src"] is None and cell["cell_type"] == "markdown" and text in plain_by_text:
            cell["src"], cell["how"] = plain_by_text[text], "plain"
    if unknown_ids:
        problems.append(f"unknown nbgrader cell(s) {', '.join(sorted(set(unknown_ids)))}: metadata removed")

    # 2. Locked cells: keep the copies that are in the source's order, report the others.
    anchors = [(k, c["src"].index) for k, c in enumerate(cells) if c["src"] is not None and c["src"].role == "locked"]
    in_place = _lis(anchors)
    placed = {cells[k]["src"].index for k in in_place}
    dropped: set[int] = set()
    extra: dict[int, tuple[_SourceCell, str, list]] = {}  # source index -> (cell, what, the cells)
    for k, index in anchors:
        if k in in_place:
            continue
        s = cells[k]["src"]
        dropped.add(k)
        what = "duplicated" if index in placed else "moved"
        extra.setdefault(index, (s, what, []))[2].append(cells[k]["index"])
    for s, what, where in extra.values():  # one line per cell, however often it was pasted
        shown = ", ".join(str(n) for n in where[:5]) + (", ..." if len(where) > 5 else "")
        if what == "duplicated" and len(where) == 1:
            problems.append(f"{s.label} duplicated (cell {shown}): the extra copy was removed")
        elif what == "duplicated":
            problems.append(f"{s.label} duplicated {len(where)} times (cells {shown}): the extra copies were removed")
        elif len(where) == 1:
            problems.append(f"{s.label} moved (to cell {shown}): put back in its place")
        else:
            problems.append(f"{s.label} moved and pasted {len(where)} times (cells {shown}): put back in its place once")
    # Answer cells claimed more than once: the last copy counts (as nbgrader does); the others lose the claim.
    last_claim: dict[str, int] = {}
    for k, c in enumerate(cells):
        if c["src"] is not None and c["src"].role == "answer":
            last_claim[c["src"].grade_id] = k
    repeated: set[str] = set()
    for k, c in enumerate(cells):
        if c["src"] is not None and c["src"].role == "answer" and last_claim[c["src"].grade_id] != k:
            if c["src"].grade_id not in repeated:
                problems.append(f"answer cell '{c['src'].grade_id}' appears more than once: the last copy is graded")
                repeated.add(c["src"].grade_id)
            c["src"], c["how"] = None, None
    kept = [c for k, c in enumerate(cells) if k not in dropped]

    # 3. Answer cells without metadata: by position between the locked cells around them.
    claimed = {c["src"].index for c in kept if c["src"] is not None}
    for s in sources:
        if s.role != "answer" or s.index in claimed:
            continue
        before = max((c_i for c_i, c in enumerate(kept) if c["src"] is not None and c["src"].role == "locked" and c["src"].index < s.index), default=-1)
        after = min((c_i for c_i, c in enumerate(kept) if c["src"] is not None and c["src"].role == "locked" and c["src"].index > s.index), default=len(kept))
        for c in kept[before + 1:after]:
            same_kind = c["cell_type"] == s.cell.cell_type or (s.cell.cell_type == "markdown" and c["cell_type"] == "raw")
            if c["src"] is None and same_kind:
                c["src"], c["how"] = s, "position"
                claimed.add(s.index)
                break

    # 4. Locked cells that are missing: put back before the first cell that comes after them.
    present = {c["src"].index for c in kept if c["src"] is not None}
    for s in sources:
        if s.role != "locked" or s.index in present:
            continue
        was_moved = any(cells[k]["src"] is s for k in dropped)
        if not was_moved:
            problems.append(f"{s.label} deleted: restored from the assignment")
        restored = {"cell_type": s.cell.cell_type, "source": s.cell.source, "metadata": {}, "id": None,
                    "index": None, "src": s, "how": "restored"}
        last_before = max((i for i, c in enumerate(kept) if c["src"] is not None and c["src"].role == "locked" and c["src"].index < s.index), default=-1)
        at = next((i for i in range(last_before + 1, len(kept)) if kept[i]["src"] is not None and kept[i]["src"].index > s.index), len(kept))
        kept.insert(at, restored)
        present.add(s.index)

    # 5. Locked cells as released; metadata from the source; cell ids.
    for c in kept:
        s = c["src"]
        if s is None or c["how"] == "plain":
            c["metadata"].pop("nbgrader", None)
            continue
        if c["how"] in ("text", "position"):
            restored_meta += 1
        if s.role == "locked" and c["how"] != "restored":
            if c["cell_type"] != s.cell.cell_type:
                problems.append(f"{s.label} turned into a {c['cell_type']} cell: restored as {s.cell.cell_type}")
            elif _norm(c["source"]) != s.text:
                problems.append(f"{s.label} edited (cell {c['index']}): the original was restored")
        if s.role == "locked":
            c["cell_type"], c["source"] = s.cell.cell_type, released_text(s.cell.source)
        elif c["cell_type"] != s.cell.cell_type:
            c["cell_type"] = s.cell.cell_type
        c["metadata"]["nbgrader"] = copy.deepcopy(dict(s.cell.metadata["nbgrader"]))
    if restored_meta:
        problems.append(f"nbgrader metadata missing or changed (Colab strips it): restored for {restored_meta} cells by matching the release")
    return kept, problems


def _build(cells: list[dict], source_nb: NotebookNode) -> tuple[NotebookNode, int]:
    """A fresh v4.5 notebook; cell ids from the source where the cell is known. Returns it and the ids changed."""
    out = nbformat.v4.new_notebook(metadata=copy.deepcopy(source_nb.metadata))
    used: set[str] = set()
    changed = 0
    source_ids = {s_cell.get("id") for s_cell in source_nb.cells}
    for c in cells:
        make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell, "raw": nbformat.v4.new_raw_cell}[c["cell_type"]]
        meta = {k: v for k, v in c["metadata"].items() if k == "nbgrader"}
        new = make(source=c["source"], metadata=meta)
        want = c["src"].cell.get("id") if c["src"] is not None and c["how"] != "plain" else None
        if want is None and c["src"] is not None:
            want = c["src"].cell.get("id")
        given = c.get("id")
        if want and want not in used:
            if given != want and c["how"] != "restored" and c["index"] is not None:
                changed += 1
            new.id = want
        elif given and re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", given) and given not in used and given not in source_ids:
            new.id = given
        else:
            if c["index"] is not None and c["src"] is not None:
                changed += 1
            while new.id in used or new.id in source_ids:
                new.id = nbformat.v4.new_code_cell().id
        used.add(new.id)
        out.cells.append(new)
        c["out_id"] = new.id
    return out, changed


# ---------------------------------------------------------------------------
# The static scan of the student's code
# ---------------------------------------------------------------------------
_TAMPER_MODULES = {"builtins": "builtins", "__builtin__": "builtins", "ctypes": "ctypes", "cffi": "cffi",
                   "socket": "the network", "ssl": "the network", "urllib": "the network", "http": "the network",
                   "requests": "the network", "httpx": "the network", "ftplib": "the network", "smtplib": "the network",
                   "subprocess": "other programs", "pty": "other programs", "multiprocessing": "other processes",
                   "gc": "the garbage collector", "inspect": "the interpreter's frames"}
_FORBIDDEN_CALLS = {"exec": "runs code from a string (exec)", "eval": "runs code from a string (eval)",
                    "compile": "compiles code from a string (compile)", "__import__": "imports through __import__",
                    "globals": "edits the notebook's namespace (globals())", "vars": "reaches a namespace through vars()",
                    "setattr": "changes an object with setattr", "delattr": "deletes an attribute with delattr",
                    "breakpoint": "starts a debugger"}
_FORBIDDEN_ATTRS = {"__dict__", "__code__", "__globals__", "__builtins__", "__closure__", "__defaults__", "__kwdefaults__",
                    "__subclasses__", "__bases__", "__mro__", "__setattr__", "__delattr__", "__getattribute__",
                    "f_globals", "f_locals", "f_back", "f_builtins", "tb_frame", "gi_frame", "cr_frame", "_getframe",
                    "modules", "settrace", "setprofile", "excepthook", "displayhook", "meta_path", "path_hooks",
                    "get_referrers", "get_referents", "get_objects", "reload", "import_module", "pardir",
                    "set_custom_exc", "input_transformers_post", "input_transformers_cleanup", "ast_transformers",
                    "user_ns", "user_global_ns", "showtraceback", "run_cell", "events", "system", "popen", "getoutput",
                    "parent", "parents", "chdir", "home", "expanduser", "fork", "execv", "execve", "execvp", "spawnv", "putenv"}
_SAFE_MAGICS = {"matplotlib", "pip", "time", "timeit", "capture", "config", "precision", "who", "whos", "load_ext"}
_PATH_OUTSIDE = re.compile(r"(^|[/\\])\.\.([/\\]|$)|^\s*(~|/\S|[A-Za-z]:[/\\])")
_KNOWN_MODULES = {"np": "numpy", "numpy": "numpy", "torch": "torch", "evalib": "evalib", "checks": "evalib.checks",
                  **{f"a{n}": f"evalib.exercises.a{n}" for n in range(1, 6)},
                  "math": "math", "sys": "sys", "os": "os", "F": "torch.nn.functional", "nn": "torch.nn",
                  "plt": "matplotlib.pyplot", "random": "random", "IPython": "IPython", "nbgrader": "nbgrader",
                  "importlib": "importlib", "io": "io", "pathlib": "pathlib", "shutil": "shutil", "glob": "glob"}


def _transform(source: str) -> str:
    """Python code for a cell: IPython magics and shell escapes turned into calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # IPython missing or confused: strip the magic lines by hand
        return "\n".join(f"get_ipython().system({line.strip()[1:]!r})" if line.lstrip().startswith("!") else
                         f"get_ipython().run_line_magic({line.strip()[1:].split(' ')[0]!r}, '')" if line.lstrip().startswith("%") else line
                         for line in source.split("\n"))


def _root(node: ast.AST) -> ast.AST:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(aliases.get(node.id, node.id))
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func, aliases) + "()")
    elif isinstance(node, ast.Subscript):
        parts.append(_dotted(node.value, aliases) + "[...]")
    else:
        parts.append("...")
    return ".".join(reversed(parts))


def _bound_names(tree: ast.AST) -> dict[str, ast.AST]:
    """Names a cell binds at its top level (and through ``global`` in functions), with the node binding them."""
    bound: dict[str, ast.AST] = {}
    declared_global: set[str] = set()

    def targets(node):
        if isinstance(node, ast.Name):
            yield node.id, node
        elif isinstance(node, (ast.Tuple, ast.List)):
            for elt in node.elts:
                yield from targets(elt)
        elif isinstance(node, ast.Starred):
            yield from targets(node.value)

    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            declared_global.update(node.names)

    def visit(body, top: bool):
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if top or node.name in declared_global:
                    bound.setdefault(node.name, node)
                visit(node.body, False)
                continue
            for child in ast.walk(node):
                names = []
                if isinstance(child, (ast.Assign,)):
                    for t in child.targets:
                        names += list(targets(t))
                elif isinstance(child, (ast.AugAssign, ast.AnnAssign)):
                    names += list(targets(child.target))
                elif isinstance(child, (ast.For, ast.AsyncFor, ast.comprehension)):
                    names += list(targets(child.target))
                elif isinstance(child, (ast.With, ast.AsyncWith)):
                    for item in child.items:
                        if item.optional_vars is not None:
                            names += list(targets(item.optional_vars))
                elif isinstance(child, ast.NamedExpr):
                    names += list(targets(child.target))
                elif isinstance(child, (ast.Import, ast.ImportFrom)):
                    for alias in child.names:
                        names.append(((alias.asname or alias.name).split(".")[0], child))
                elif isinstance(child, ast.Delete):
                    for t in child.targets:
                        names += list(targets(t))
                elif isinstance(child, ast.ExceptHandler) and child.name:
                    names.append((child.name, child))
                elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and child is not node:
                    continue
                for name, where in names:
                    if top or name in declared_global:
                        bound.setdefault(name, where)
            # Functions nested in other statements (if/for/with) are visited by ast.walk above for their
            # own top-level names; their bodies only matter through ``global``.
    visit(tree.body, True)
    return bound


def _import_targets(tree: ast.AST) -> dict[str, str]:
    """alias -> what it is bound to (module or module.attribute), for every import in the cell."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    found[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


def scan_code(source: str, cell: int | str = "?", protected: dict[str, str] | None = None,
              aliases: dict[str, str] | None = None) -> list[str]:
    """Reasons to hold this cell's code for review (empty: nothing found).

    ``protected`` maps names the tests rely on (set by the assignment's own cells, or
    builtins the tests call) to what they are bound to; ``aliases`` maps imported
    names to modules, for the messages.
    """
    protected = protected or {}
    aliases = {**_KNOWN_MODULES, **(aliases or {})}
    code = _transform(source)
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # it fails when run; nothing to hide
    own_imports = _import_targets(tree)
    aliases.update(own_imports)
    imported = set(aliases) | set(own_imports)
    reasons: list[str] = []

    def flag(text: str) -> None:
        line = f"{text} in cell {cell}: for review (the grade is not held back)"
        if line not in reasons:
            reasons.append(line)

    # Rebinding names that the tests use.
    for name, node in _bound_names(tree).items():
        if name not in protected:
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)) and own_imports.get(name) == protected[name]:
            continue  # importing the same thing again
        what = "a builtin the tests use" if protected[name] == "builtins" else "set by the assignment"
        flag(f"rebinds '{name}' ({what})")

    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                if top in _TAMPER_MODULES:
                    flag(f"imports {name} (reaches {_TAMPER_MODULES[top]})")
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("os", "sys", "importlib"):
                for alias in node.names:
                    if alias.name in _FORBIDDEN_ATTRS or alias.name in ("system", "popen", "modules"):
                        flag(f"imports {node.module}.{alias.name}")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            verb = "deletes" if isinstance(node, ast.Delete) else "modifies"
            for target in targets:
                for t in (target.elts if isinstance(target, (ast.Tuple, ast.List)) else [target]):
                    root = _root(t)
                    if isinstance(t, ast.Attribute) and isinstance(root, ast.Name) and (root.id in imported or root.id in protected):
                        flag(f"{verb} {_dotted(t, aliases)}")
                    elif isinstance(t, ast.Attribute) and re.fullmatch(r"__\w+__", t.attr) and not (isinstance(root, ast.Name) and root.id == "self"):
                        flag(f"{verb} {_dotted(t, aliases)}")
                    elif isinstance(t, ast.Subscript) and isinstance(root, ast.Name) and root.id in ("__builtins__",):
                        flag(f"{verb} __builtins__")
                    elif isinstance(t, ast.Subscript) and isinstance(t.value, ast.Attribute) and isinstance(root, ast.Name) \
                            and root.id in imported and aliases.get(root.id, root.id).split(".")[0] in ("sys", "os", "builtins"):
                        flag(f"{verb} {_dotted(t.value, aliases)}[...]")
        elif isinstance(node, ast.Name) and node.id == "__builtins__":
            flag("uses __builtins__")
        elif isinstance(node, ast.Attribute) and node.attr in _FORBIDDEN_ATTRS:
            dotted = _dotted(node, aliases)
            if node.attr == "system" and isinstance(node.value, ast.Call) and _dotted(node.value.func, aliases) == "get_ipython":
                continue  # shell escapes: judged below with their command
            if node.attr in ("parent", "parents"):
                flag(f"walks up the folders ({dotted})")
            elif node.attr == "modules" and not dotted.startswith("sys."):
                continue
            elif node.attr == "events" and "get_ipython" not in dotted:
                continue
            else:
                flag(f"uses {dotted}")
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if name in _FORBIDDEN_CALLS and name not in protected:
                first = node.args[0] if node.args else None
                if name in ("setattr", "delattr") and isinstance(first, ast.Name) and first.id in ("self", "cls"):
                    pass
                elif name == "vars" and not node.args:
                    flag(_FORBIDDEN_CALLS[name])
                else:
                    flag(_FORBIDDEN_CALLS[name])
            dotted = _dotted(func, aliases)
            if dotted.startswith("get_ipython().") and dotted.count(".") == 1:
                method = dotted.split(".")[1]
                arg = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
                if method in ("run_line_magic", "run_cell_magic"):
                    if str(arg) not in _SAFE_MAGICS:
                        flag(f"runs the IPython magic %{arg}")
                elif method in ("system", "getoutput"):
                    if not (isinstance(arg, str) and re.match(r"\s*(pip|python -m pip)\s+install\b", arg) and not re.search(r"[;&|`$<>]", arg)):
                        flag(f"runs a shell command ({str(arg)[:40]!r})")
                else:
                    flag(f"uses IPython's {method}")
            # Paths that leave the working folder, given to any call.
            values = list(node.args) + [k.value for k in node.keywords]
            for value in values:
                for const in ast.walk(value) if isinstance(value, ast.JoinedStr) else [value]:
                    if isinstance(const, ast.Constant) and isinstance(const.value, str) and _PATH_OUTSIDE.search(const.value):
                        flag(f"uses a path outside its folder ({const.value[:60]!r} in {dotted}())")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and isinstance(side.value, str) and _PATH_OUTSIDE.search(side.value):
                    flag(f"uses a path outside its folder ({side.value[:60]!r})")
    # A bare get_ipython() handed around (ip = get_ipython(); ip.events...) is as good as using it.
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _dotted(node.value.func, aliases) == "get_ipython":
            flag("keeps a handle on the IPython shell (get_ipython())")
    return reasons


def _protected_names(sources: list[_SourceCell]) -> tuple[dict[str, str], dict[str, str]]:
    """Names the assignment's own cells bind (-> what), builtins its tests call (-> "builtins"), and its import aliases."""
    protected: dict[str, str] = {}
    aliases: dict[str, str] = {}
    builtin_names = set(dir(builtins))
    for s in sources:
        if s.role != "locked" or s.cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(_transform(s.cell.source))
        except SyntaxError:
            continue
        imports = _import_targets(tree)
        aliases.update(imports)
        if not s.is_test:
            for name in _bound_names(tree):
                protected[name] = imports.get(name, "a value")
        bound_here = set(_bound_names(tree))
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in builtin_names and node.id not in bound_here:
                protected.setdefault(node.id, "builtins")
    return protected, aliases


# ---------------------------------------------------------------------------
def screen(path: Path, assignment: str, source_folder: Path | None = None, time_limit: float = TIME_LIMIT) -> Screening:
    """Check and repair one submission for ``assignment``; never raises for a bad file.

    Every step is linear in the notebook's size; a notebook that still takes longer than
    ``time_limit`` seconds is not graded (the scan, advisory, just stops there).
    """
    import time

    path = Path(path)
    deadline = time.monotonic() + time_limit
    try:
        data, problems = _read(path)
        if data is None:
            return Screening(None, problems)
        cells, more = _to_v4(data)
        problems += more
        if cells is None:
            return Screening(None, problems)
        source_nb, sources = _source(assignment, source_folder)
        if not any(c["cell_type"] == "code" for c in cells):
            problems.append("no code cells")
        ordered, more = _restore(cells, sources)
        problems += more
        code_cells = sum(1 for c in ordered if c["cell_type"] == "code")
        if code_cells > MAX_CODE_CELLS:
            return Screening(None, [f"too many cells ({code_cells:,} code cells; at most {MAX_CODE_CELLS:,} are graded)"] + problems)
        if time.monotonic() > deadline:
            return Screening(None, [f"screening took longer than {time_limit:g} s: not graded"] + problems)
        notebook, ids_changed = _build(ordered, source_nb)
        if ids_changed:
            problems.append(f"cell ids missing or changed for {ids_changed} cells: restored from the assignment")
        # The static scan: every code cell the student controls.
        protected, aliases = _protected_names(sources)
        withhold = False
        for c in ordered:
            if c["cell_type"] != "code" or (c["src"] is not None and c["src"].role == "locked"):
                continue
            where = c["index"] if c["index"] is not None else "?"
            if time.monotonic() > deadline:
                problems.append(f"the scan stopped at cell {where} after {time_limit:g} s: the cells after it were not scanned")
                break
            if len(c["source"]) > MAX_SCANNED_CHARS:
                problems.append(f"cell {where} not scanned ({len(c['source']) // 1000:,} thousand characters)")
                continue
            reasons = scan_code(c["source"], where, protected, aliases)
            if reasons:
                withhold = True
                problems += reasons
        try:
            nbformat.validate(notebook)
        except nbformat.ValidationError as error:  # pragma: no cover - the cells are rebuilt from scratch
            problems.append(f"notebook still invalid after repair ({str(error).splitlines()[0]})")
        return Screening(notebook, problems, withhold)
    except Exception as error:  # a screen must never stop a batch
        return Screening(None, [f"could not be screened ({type(error).__name__}: {error})"])
