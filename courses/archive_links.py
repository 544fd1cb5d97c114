"""Links to course files inside archived text: written as ``educluster-file:<name>`` on export so
they survive the new slug and the new attachment ids of an import, and turned back on import."""

from __future__ import annotations

import re
from typing import Any

from lms.domain.models import Course

FILE_REF = "educluster-file:"
FILE_REF_RE = re.compile(re.escape(FILE_REF) + r"([A-Za-z0-9._-]+)")
TEXT_SUFFIXES = (".md", ".txt", ".json", ".yaml", ".yml")


def map_strings(value: Any, fn) -> Any:
    """``value`` with ``fn`` applied to every string inside it (lists and dicts, deeply)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, list):
        return [map_strings(v, fn) for v in value]
    if isinstance(value, dict):
        return {k: map_strings(v, fn) for k, v in value.items()}
    return value


def outgoing_links(course: Course, names: dict[int, str]):
    """A rewriter of this course's file URLs to portable ``educluster-file:<name>`` links."""
    pattern = re.compile(
        r"(?:https?://[^/\s\"')]+)?/courses/"
        + re.escape(course.slug)
        + r"/files/(\d+)/([A-Za-z0-9._-]+)"
    )

    def rewrite(text: str) -> str:
        """Text with this course's file URLs turned into portable file links."""

        def one(m: re.Match) -> str:
            """Portable link for one file URL, or the URL unchanged if the file is not exported."""
            name = names.get(int(m.group(1)))
            return FILE_REF + name if name == m.group(2) else m.group(0)

        return pattern.sub(one, text)

    return rewrite


def incoming_links(course: Course, ids: dict[str, tuple[int, str]]):
    """A rewriter of ``educluster-file:<name>`` links to the imported course's file URLs."""

    def rewrite(text: str) -> str:
        """Text with portable file links turned into the imported course's file URLs."""

        def one(m: re.Match) -> str:
            """Course file URL for one portable link, or the link unchanged if the file is unknown."""
            if m.group(1) not in ids:
                return m.group(0)
            attachment_id, name = ids[m.group(1)]
            return f"/courses/{course.slug}/files/{attachment_id}/{name}"

        return FILE_REF_RE.sub(one, text)

    return rewrite


def rewrite_text_files(files: dict[str, bytes], fn, skip: set[str]) -> None:
    """Apply ``fn`` to every UTF-8 text file of the archive (Markdown, JSON, YAML) not in ``skip``."""
    for path, data in list(files.items()):
        if path in skip or not path.endswith(TEXT_SUFFIXES):
            continue
        try:
            files[path] = fn(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            continue
