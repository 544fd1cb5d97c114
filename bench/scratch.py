"""A scratch instance folder for a benchmark's own app, removed when the benchmark ends."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def scratch_instance(prefix: str) -> Iterator[Path]:
    """A new folder that is ``LMS_INSTANCE_PATH`` while the block runs, then removed.

    Benchmarks run several rounds in one process: each round's app gets its own folder (its
    SQLite database, its keys), and none is left in the temporary directory afterwards.
    """
    folder = tempfile.mkdtemp(prefix=prefix)
    before = os.environ.get("LMS_INSTANCE_PATH")
    os.environ["LMS_INSTANCE_PATH"] = folder
    try:
        yield Path(folder)
    finally:
        if before is None:
            os.environ.pop("LMS_INSTANCE_PATH", None)
        else:
            os.environ["LMS_INSTANCE_PATH"] = before
        shutil.rmtree(folder, ignore_errors=True)
