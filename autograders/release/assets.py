"""The scripts that show saved widgets in the lesson pages, served with the pages.

nbconvert's pages load the Jupyter widget manager (``@jupyter-widgets/html-manager``)
and require.js from a CDN, so their widgets vanish without internet. Here both are
fetched once from the npm registry, at pinned versions checked against a sha256, into
a cache outside the clone (``$EVALIB_WEB_CACHE``, else ``~/.cache/evalib/web``), and
copied beside the pages as ``static/``.

    python -m autograders.release.assets     # fetch what is missing (`make setup` runs it)
"""
from __future__ import annotations

import hashlib
import io
import os
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Package", "PACKAGES", "cache_dir", "fetch", "install", "STATIC", "SCRIPTS"]


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    sha256: str  # of the registry's .tgz
    files: tuple[str, ...]  # paths inside the tarball's package/ folder, copied flat into static/

    @property
    def url(self) -> str:
        return f"https://registry.npmjs.org/{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"

    @property
    def cached_name(self) -> str:
        return f"{self.name.replace('/', '+')}-{self.version}.tgz"


# The fonts are Font Awesome's, for the widgets' icons; the widget manager looks for
# them in window.__jupyter_widgets_assets_path__ (the pages set it to static/).
_HTML_MANAGER_FONTS = (
    "1551f4f60c37af51121f.woff2", "2285773e6b4b172f07d9.woff", "491974d108fe4002b2aa.ttf",
    "527940b104eb2ea366c8.ttf", "7a3337626410ca2f4071.woff2", "bb58e57c48a3e911f15f.woff",
    "be9ee23c0c6390141475.ttf", "d878b0a6a1144760244f.woff2", "eeccf4f66002c6f2ba24.woff",
)

#: ipywidgets 8.1 writes widget state for html-manager ^1.0.
PACKAGES = (
    Package("@jupyter-widgets/html-manager", "1.0.15",
            "2b9d65cb7913e1c7d671757a10008b32c9c2448d4429513371e55c07d6107638",
            ("dist/embed-amd.js", *(f"dist/{font}" for font in _HTML_MANAGER_FONTS))),
    Package("requirejs", "2.3.8", "777158e89275e16bd51aec3ef714fbcb5dc45789e7078659933bc814916d7dec",
            ("require.js",)),
)

#: Where the pages look for them, relative to the page.
STATIC = "static"
SCRIPTS = {"require": f"{STATIC}/require.js", "widgets": f"{STATIC}/embed-amd.js"}


def cache_dir() -> Path:
    if os.environ.get("EVALIB_WEB_CACHE"):
        return Path(os.environ["EVALIB_WEB_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "evalib" / "web"


def _verified(path: Path, package: Package) -> bool:
    return path.is_file() and hashlib.sha256(path.read_bytes()).hexdigest() == package.sha256


def fetch(quiet: bool = False, timeout: float = 120) -> list[Path]:
    """The cached tarballs, downloading (and checking) those that are missing."""
    folder = cache_dir()
    paths = []
    for package in PACKAGES:
        path = folder / package.cached_name
        if not _verified(path, package):
            if not quiet:
                print(f"==> fetching {package.name} {package.version} from the npm registry (for the lesson pages' widgets)")
            folder.mkdir(parents=True, exist_ok=True)
            with urllib.request.urlopen(package.url, timeout=timeout) as response:
                data = response.read()
            digest = hashlib.sha256(data).hexdigest()
            if digest != package.sha256:
                raise RuntimeError(f"{package.url} has sha256 {digest}, not the pinned {package.sha256}: not used")
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(path)
        paths.append(path)
    return paths


def missing() -> list[Package]:
    """The packages not (or not correctly) in the cache."""
    return [p for p in PACKAGES if not _verified(cache_dir() / p.cached_name, p)]


def install(dest: Path) -> list[Path]:
    """Copy the scripts and fonts into ``dest`` (a pages' ``static/`` folder); fetches what is missing."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for package, tarball in zip(PACKAGES, fetch(quiet=True)):
        with tarfile.open(fileobj=io.BytesIO(tarball.read_bytes()), mode="r:gz") as tar:
            for member in package.files:
                data = tar.extractfile(f"package/{member}").read()
                target = dest / Path(member).name
                if not target.is_file() or target.read_bytes() != data:
                    target.write_bytes(data)
                written.append(target)
    return written


def main() -> int:
    try:
        fetch()
    except (OSError, RuntimeError) as exc:
        print(f"    could not fetch the widget scripts ({exc}); the lesson pages will show widgets only online, "
              f"and their browser test fails until `make setup` can reach the npm registry", file=sys.stderr)
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
