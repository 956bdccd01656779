"""The grading sandbox, checked from inside a real kernel started through its kernelspec."""
from __future__ import annotations

import json
import os
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from autograders.sandbox import write_kernelspec

pytestmark = pytest.mark.skipif(
    not (sys.platform.startswith("linux") and os.geteuid() == 0),
    reason="network and file isolation need Linux and root (CI has both)",
)

PROBES = {
    "network": "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 9), timeout=2); print('OPEN')\nexcept OSError as e:\n    print('closed', e.errno)",
    "hidden": "import os; print(os.path.exists(SECRET), sorted(os.listdir(ROOT)))",
    "kept": "print(open(KEPT_FILE).read())",
    "kept_readonly": "try:\n    open(KEPT_DIR + '/new.py', 'w'); print('WROTE')\nexcept OSError as e:\n    print('refused', e.errno)",
    "workdir": "open('answer.txt', 'w').write('mine'); print(open('answer.txt').read())",
    "sealed": "try:\n    open(ROOT + '/planted.txt', 'w'); print('WROTE')\nexcept OSError as e:\n    print('refused', e.errno)",
    "memory": "try:\n    block = bytearray(8 * 1024 ** 3); print('ALLOCATED')\nexcept MemoryError:\n    print('MemoryError')",
    "file_size": "try:\n    open('big.bin', 'wb').write(b'0' * (40 * 1024 * 1024)); print('WROTE')\nexcept OSError as e:\n    print('refused', e.errno)",
    "capabilities": "print(open('/proc/self/status').read().split('CapEff:')[1].split()[0])",
    "umount": "import subprocess; print(subprocess.run(['umount', SECRET_PARENT], capture_output=True).returncode)",
}


def test_kernel_runs_without_network_secrets_or_privileges(tmp_path):
    root = tmp_path / "course"
    secret = root / "source" / "hidden_tests.py"
    secret.parent.mkdir(parents=True)
    secret.write_text("ANSWER = 42\n")
    kept = root / "lib"
    kept.mkdir()
    (kept / "helper.py").write_text("public\n")
    work = root / "autograded" / "alice"
    work.mkdir(parents=True)
    sockets = root / "ipc"
    sockets.mkdir()
    spec = write_kernelspec(
        tmp_path / "jupyter", memory_mb=4096, file_mb=16, hide=[root], keep=[kept], writable=[sockets],
        report=tmp_path / "report.json",
    )

    setup = (
        f"SECRET = {str(secret)!r}; SECRET_PARENT = {str(secret.parent)!r}; ROOT = {str(root)!r}\n"
        f"KEPT_DIR = {str(kept)!r}; KEPT_FILE = {str(kept / 'helper.py')!r}"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(setup)] + [nbformat.v4.new_code_cell(c) for c in PROBES.values()])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(spec)
    try:
        client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}})
        # No network inside: the kernel talks to us over Unix sockets in a folder it may write.
        client.km = client.kernel_manager_class(kernel_name="python3", transport="ipc", ip=str(sockets / "kernel"))
        client.execute()
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH")
        else:
            os.environ["JUPYTER_PATH"] = old
    out = {name: "".join(o.get("text", "") for o in cell.outputs).strip() for name, cell in zip(PROBES, nb.cells[1:])}
    assert out["network"].startswith("closed"), out["network"]
    assert out["hidden"] == "False ['autograded', 'ipc', 'lib']", out["hidden"]
    assert out["kept"] == "public"
    assert out["kept_readonly"].startswith("refused")
    assert out["workdir"] == "mine" and (work / "answer.txt").read_text() == "mine"
    assert out["sealed"].startswith("refused") and not (root / "planted.txt").exists()
    assert out["memory"] == "MemoryError"
    assert out["file_size"].startswith("refused")
    assert int(out["capabilities"], 16) == 0
    assert out["umount"] != "0" and secret.read_text() == "ANSWER = 42\n"
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["privileges"] == "all capabilities dropped"
