"""Vendor the lab code editor (CodeMirror 5 from the npm registry) into ``static/vendor/``.

Run by ``make assets`` as ``python -m virtual_labs.assets``. It is idempotent and fast: when the
vendored files are already there for the pinned version it does nothing. Assets are served from
our own origin, never from a CDN (the CSP allows scripts from 'self' only).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = "codemirror"
VERSION = "5.65.18"  # the last CodeMirror 5 line; pinned so every install is identical
HERE = Path(__file__).resolve().parent
VENDOR = HERE / "static" / "vendor" / "codemirror"
BUILD = HERE.parent / "build" / "npm-codemirror"

#: files copied from the npm package (relative to node_modules/codemirror)
FILES = (
    "lib/codemirror.js",
    "lib/codemirror.css",
    "mode/python/python.js",
    "mode/clike/clike.js",
    "mode/javascript/javascript.js",
    "addon/edit/matchbrackets.js",
    "addon/edit/closebrackets.js",
    "addon/selection/active-line.js",
    "LICENSE",
)
STAMP = VENDOR / "VERSION.json"


def is_installed() -> bool:
    """Whether the pinned version is already vendored with every file."""
    if not STAMP.exists():
        return False
    try:
        stamp = json.loads(STAMP.read_text())
    except ValueError:
        return False
    return stamp.get("version") == VERSION and all((VENDOR / f).exists() for f in FILES)


def install(echo=print) -> int:
    """Install the editor assets; return a process exit status (0 on success)."""
    if is_installed():
        echo(f"Lab editor assets present (CodeMirror {VERSION}).")
        return 0
    npm = shutil.which("npm")
    if npm is None:
        echo(
            "npm is missing: the lab editor assets (CodeMirror) cannot be installed.\n"
            "Install Node.js and npm (e.g. `apt-get install -y npm`) and run `make assets` again.\n"
            "Until then labs fall back to a plain text box for code."
        )
        return 1
    BUILD.mkdir(parents=True, exist_ok=True)
    (BUILD / "package.json").write_text(
        json.dumps({"name": "educluster-assets", "private": True, "version": "0.0.0"})
    )
    echo(f"Installing CodeMirror {VERSION} from the npm registry...")
    result = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--silent", f"{PACKAGE}@{VERSION}"],
        cwd=BUILD,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        echo("npm install failed:\n" + (result.stderr or result.stdout)[-2000:])
        return result.returncode or 1
    source = BUILD / "node_modules" / PACKAGE
    for rel in FILES:
        target = VENDOR / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / rel, target)
    STAMP.write_text(json.dumps({"package": PACKAGE, "version": VERSION}))
    echo(f"Lab editor assets installed in {VENDOR.relative_to(HERE.parent)}.")
    return 0


if __name__ == "__main__":
    sys.exit(install())
