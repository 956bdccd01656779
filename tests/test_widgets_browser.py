"""The explorers in a real browser: JupyterLab on 127.0.0.1, driven by headless Chromium.

tests/test_widgets.py sets the controls from Python. This file checks what a student
actually meets: the notebook opens in JupyterLab, "Run All Cells" renders the three
explorers through the ipywidgets front end, and typing a weight, picking a preset or
moving a control reaches the kernel and comes back as a new picture.

Needs Debian's ``chromium`` (``apt-get install chromium``) and the ``playwright``
Python package; no Playwright browser download is used. Skips with the reason when
either is missing. Nothing leaves 127.0.0.1: the page's requests to other hosts are
aborted and JupyterLab's news and update checks are switched off.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.slow

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
from browser import launch, require_chromium  # noqa: E402
pytest.importorskip("jupyterlab", reason="jupyterlab is not installed")
pytest.importorskip("ipywidgets", reason="ipywidgets is not installed")

CHROMIUM = require_chromium()
START_TIMEOUT_S = 90  # JupyterLab on two busy cores
WAIT_MS = 60_000  # any one thing the page must show
NOTEBOOK = "widgets.ipynb"

# Cell order in the notebook the test writes: 0 set-up, then one explorer per cell.
SETUP, EDITOR, RF, INIT = range(4)
CELLS = [
    "import os, pathlib, torch\n"
    "torch.set_num_threads(1)\n"
    "pathlib.Path('kernel.pid').write_text(str(os.getpid()))\n"
    "import evalib",
    'editor = evalib.kernel_editor(image="lines", preset="identity")\neditor',
    'rf = evalib.receptive_field_explorer(stack="block, max pool, block")\nrf',
    'init = evalib.init_explorer(scheme="pytorch_default", depth=20)\ninit',
]


def _notebook() -> dict:
    return {
        "cells": [
            {"cell_type": "code", "execution_count": None, "id": f"cell{i}", "metadata": {}, "outputs": [], "source": src}
            for i, src in enumerate(CELLS)
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class Lab:
    def __init__(self, root: Path, port: int, token: str, proc: subprocess.Popen, log: Path) -> None:
        self.root, self.port, self.token, self.proc, self.log = root, port, token, proc, log
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}?token={self.token}"

    def log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no server log)"


def _stop(lab: Lab) -> None:
    """Stop the server (it shuts its kernels down), then make sure nothing it started is left."""
    proc = lab.proc
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # anything left in the server's process group
    except ProcessLookupError:
        pass
    proc.wait(timeout=10)
    # Kernels run in their own session, so the group kill does not reach them: the set-up
    # cell wrote the kernel's pid, and a kernel still running after the server is gone is ours.
    pid_file = lab.root / "kernel.pid"
    if pid_file.exists():
        pid = int(pid_file.read_text() or 0)
        if pid > 0 and _alive(pid):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                cmdline = b""
            if b"ipykernel" in cmdline:
                os.kill(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Lab:
    """A JupyterLab server on a free port of 127.0.0.1, serving a tmp dir with the test notebook."""
    root = tmp_path_factory.mktemp("lab")
    (root / NOTEBOOK).write_text(json.dumps(_notebook(), indent=1))
    home = tmp_path_factory.mktemp("jupyter-home")
    config_dir = home / "config"
    config_dir.mkdir()
    # No news feed, no update check: the server must not reach beyond 127.0.0.1.
    (config_dir / "jupyter_lab_config.json").write_text(
        json.dumps({"LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"}})
    )
    # ... and no "get notified about Jupyter news?" toast over the notebook.
    notification = home / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    port, token = _free_port(), secrets.token_hex(16)
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "JUPYTER_CONFIG_DIR": str(config_dir),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log = home / "server.log"
    cmd = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.terminals_enabled=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI containers run as root
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Lab(root, port, token, proc, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode} before answering:\n{server.log_tail()}")
            try:
                with urllib.request.urlopen(server.url("/api/status"), timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer on port {port} within {START_TIMEOUT_S} s:\n{server.log_tail()}")
            time.sleep(0.25)  # polling a port that is not up yet: there is nothing to wait on
        yield server
    finally:
        _stop(server)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        chromium = launch(p, CHROMIUM)
        try:
            yield chromium
        finally:
            chromium.close()


def _local_only(route) -> None:
    host = urlparse(route.request.url).hostname
    if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
        route.continue_()
    else:
        route.abort()


@pytest.fixture(scope="module")
def page(lab: Lab, browser):
    """The test notebook open in JupyterLab, all cells run, the three explorers on screen."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.route("**/*", _local_only)
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(lab.url(f"/lab/tree/{NOTEBOOK}"))
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-CodeCell")
        # Run only once the kernel has started and the page is connected to it.
        page.locator(".jp-StatusBar-Widget", has_text="Python 3 (ipykernel) | Idle").wait_for()
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            for index in (EDITOR, RF, INIT):
                _cell(page, index).locator(".jp-OutputArea-output img").wait_for()
        except sync_api.Error as exc:
            shot = lab.root.parent / "failure.png"
            page.screenshot(path=str(shot), full_page=True)
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            pytest.fail(
                f"the explorers did not render: {exc.message.splitlines()[0]}\n"
                f"screenshot: {shot}\noutputs: {outputs}\npage errors: {errors}\nserver log:\n{lab.log_tail()}"
            )
        page.errors = errors  # type: ignore[attr-defined]
        yield page
    finally:
        context.close()


def _cell(page, index: int):
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-CodeCell").nth(index)


def _shot(locator) -> bytes:
    locator.scroll_into_view_if_needed()
    return locator.screenshot()


def _new_text(page, locator, before: str) -> str:
    """Wait until the element's text differs from ``before``; return the new text."""
    page.wait_for_function("([el, old]) => el.textContent !== old", arg=[locator.element_handle(), before])
    return locator.text_content()


def _new_picture(page, img, before_src: str) -> None:
    """Wait until the widget's <img> got a new PNG from the kernel and the browser has decoded it."""
    page.wait_for_function(
        "([el, old]) => el.getAttribute('src') !== old && el.complete && el.naturalWidth > 0",
        arg=[img.element_handle(), before_src],
    )


# --- kernel editor ---------------------------------------------------------------------------


def test_kernel_editor_renders_nine_boxes_and_a_picture(page, tmp_path):
    cell = _cell(page, EDITOR)
    boxes = cell.locator(".widget-text input")
    assert boxes.count() == 9
    values = [float(boxes.nth(i).input_value()) for i in range(9)]
    assert values == [0, 0, 0, 0, 1, 0, 0, 0, 0]  # the identity preset
    assert cell.locator("select").first.input_value() == "lines"
    img = cell.locator(".jp-OutputArea-output img")
    assert img.evaluate("el => el.complete && el.naturalWidth") > 100
    page.screenshot(path=str(tmp_path / "notebook.png"), full_page=True)


def test_kernel_editor_typing_a_weight_redraws_the_output(page, tmp_path):
    cell = _cell(page, EDITOR)
    cell.locator("select").nth(1).select_option("identity")  # a no-op when the test runs first
    centre = cell.locator(".widget-text input").nth(4)
    page.wait_for_function("el => el.value === '1'", arg=centre.element_handle())
    img = cell.locator(".jp-OutputArea-output img")
    note = cell.locator(".widget-html-content").first
    page.wait_for_function("el => el.textContent.includes('identity')", arg=note.element_handle())
    before_src, before_png, before_note = img.get_attribute("src"), _shot(img), note.text_content()
    assert "identity" in before_note and "0.00 to 1.00" in before_note

    centre.click()
    centre.fill("-2")
    centre.press("Tab")

    # The kernel recomputed (the note says so), the preset switched to "custom" and the
    # picture the browser shows is a different one.
    _new_picture(page, img, before_src)
    after_note = _new_text(page, note, before_note)
    assert "custom" in after_note and "-2.00 to 0.00" in after_note, after_note
    assert cell.locator("select").nth(1).input_value() == "custom"
    assert _shot(img) != before_png
    cell.screenshot(path=str(tmp_path / "kernel_editor_typed.png"))


def test_kernel_editor_preset_fills_the_boxes_and_redraws(page, tmp_path):
    cell = _cell(page, EDITOR)
    img = cell.locator(".jp-OutputArea-output img")
    before_src, before_png = img.get_attribute("src"), _shot(img)
    cell.locator("select").nth(1).select_option("sobel_x")
    _new_picture(page, img, before_src)
    boxes = cell.locator(".widget-text input")
    page.wait_for_function("el => el.value === '1'", arg=boxes.nth(2).element_handle())
    values = [float(boxes.nth(i).input_value()) for i in range(9)]
    assert values == [-1, 0, 1, -2, 0, 2, -1, 0, 1]
    assert "sobel_x" in cell.locator(".widget-html-content").first.text_content()
    assert _shot(img) != before_png
    cell.screenshot(path=str(tmp_path / "kernel_editor_sobel.png"))


# --- receptive-field explorer ----------------------------------------------------------------


def test_rf_explorer_layer_and_pixel_move_the_region(page, tmp_path):
    cell = _cell(page, RF)
    img = cell.locator(".jp-OutputArea-output img")
    text = cell.locator(".widget-html-content").last
    first = text.text_content()
    assert "Output pixel (0, 0) of layer 4 sees input rows -6 to 7" in first, first

    before_src, before_png = img.get_attribute("src"), _shot(img)
    cell.locator("select").nth(1).select_option("0")  # the first 3x3 conv: RF 3
    second = _new_text(page, text, first)
    assert "Output pixel (0, 0) of layer 0 sees input rows -1 to 1 and columns -1 to 1." in second, second
    _new_picture(page, img, before_src)
    assert _shot(img) != before_png

    # Move the output column with the slider's editable readout, as a student would type it.
    before_src = img.get_attribute("src")
    readout = cell.locator(".widget-slider").nth(1).locator(".widget-readout")
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("5")
    page.keyboard.press("Enter")
    third = _new_text(page, text, second)
    assert "Output pixel (0, 5) of layer 0 sees input rows -1 to 1 and columns 4 to 6." in third, third
    _new_picture(page, img, before_src)  # the box is drawn five pixels to the right
    cell.screenshot(path=str(tmp_path / "rf_explorer.png"))


# --- initialization explorer -----------------------------------------------------------------


def test_init_explorer_scheme_changes_the_curve(page, tmp_path):
    cell = _cell(page, INIT)
    img = cell.locator(".jp-OutputArea-output img")
    note = cell.locator(".widget-html-content").first
    before_note, before_src, before_png = note.text_content(), img.get_attribute("src"), _shot(img)
    assert "std after layer 20" in before_note
    vanishing = float(note.locator("b").text_content())
    assert vanishing < 1e-3, before_note  # PyTorch's default init lets the signal die out
    cell.locator("select").first.select_option(label="He normal")
    after_note = _new_text(page, note, before_note)
    _new_picture(page, img, before_src)
    final = float(note.locator("b").text_content())
    assert 0.01 < final < 10, after_note  # He keeps the signal alive
    assert _shot(img) != before_png
    cell.screenshot(path=str(tmp_path / "init_explorer.png"))


def test_no_page_errors(page):
    assert page.errors == []  # type: ignore[attr-defined]
