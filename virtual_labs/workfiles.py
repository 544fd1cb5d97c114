"""The files of a box: checked names, written out, sealed after compiling, command expansion."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence

MAX_FILES = 64
MAX_FILES_BYTES = 8 * 1024 * 1024


def _check_name(name: str) -> str:
    """A safe relative file name (no absolute paths, ``..``, hidden tricks or odd characters)."""
    parts = name.split("/")
    if (
        not name
        or len(name) > 200
        or name.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
        or not all(c.isalnum() or c in "._-/" for c in name)
        or name.startswith("-")
    ):
        raise ValueError(f"invalid file name {name!r}")
    return name


def _write_files(directory: str, files: Mapping[str, str | bytes]) -> list[tuple[str, str]]:
    if len(files) > MAX_FILES:
        raise ValueError(f"too many files ({len(files)} > {MAX_FILES})")
    total = 0
    written = []
    for name, content in files.items():
        rel = _check_name(name)
        data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        total += len(data)
        if total > MAX_FILES_BYTES:
            raise ValueError("the files are too large")
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        os.chmod(path, 0o644)
        written.append((path, rel))
    return written


def _seal(directory: str) -> list[tuple[str, str]]:
    """After compiling: hand the tree back to us, readable by every pool user, and list it."""
    listing = []
    for root, dirs, files in os.walk(directory):
        os.chown(root, os.geteuid(), os.getegid())
        os.chmod(root, 0o755)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
        for name in files:
            path = os.path.join(root, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                continue  # symlinks or fifos left by a build are not passed on
            os.chown(path, os.geteuid(), os.getegid())
            os.chmod(path, 0o755 if info.st_mode & 0o100 else 0o644)
            listing.append((path, os.path.relpath(path, directory)))
    return sorted(listing, key=lambda item: item[1])


def _expand(command: Sequence[str], *, sources: Sequence[str], memory_mb: int) -> list[str]:
    argv = []
    for part in command:
        if part == "{sources}":
            argv += sources
        else:
            # {heap_mb}: a runtime's own heap cap, leaving room for the runtime itself.
            heap_mb = max(16, memory_mb - 64)
            argv.append(
                part.replace("{memory_mb}", str(memory_mb)).replace("{heap_mb}", str(heap_mb))
            )
    return argv
