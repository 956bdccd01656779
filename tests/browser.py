"""Finding and starting Debian's Chromium for the browser tests (driven by Playwright).

``make test`` installs Chromium first when it is missing and the user is root (``make
chromium``); elsewhere these tests skip with the one command that makes them run.
"""
from __future__ import annotations

import os
import shutil

import pytest

#: What the browser tests need and how to get it, for skip messages.
INSTALL_HINT = "run `make chromium` as root (or `sudo apt-get install chromium`), then `make test` again"

#: Flags for headless Chromium as root on a machine with a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def chromium_path() -> str | None:
    """The chromium binary on PATH (or Debian's /usr/bin/chromium), or None."""
    return shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)


def require_chromium() -> str:
    """The chromium binary; skips the calling module, naming the fix, when there is none."""
    path = chromium_path()
    if path is None:
        pytest.skip(f"Chromium is not installed, so the browser tests cannot run: {INSTALL_HINT}", allow_module_level=True)
    return path


def launch(playwright, path: str):
    """Start headless Chromium through Playwright; skips (naming the fix) when it cannot start."""
    try:
        return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:  # a broken or half-installed browser: say so rather than fail
        pytest.skip(f"Chromium at {path} does not start under Playwright ({exc}): {INSTALL_HINT}")
