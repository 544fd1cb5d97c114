"""Course attachments: uploads checked by content (not by name), stored with a safe type.

Only a short list of harmless formats is accepted. Anything that a browser could run as a page
(HTML, SVG, XML) is refused, even when it is named ``.txt``.
"""

from __future__ import annotations

import hashlib
import os
import re

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import defer

from lms.domain.models import Attachment, Course
from lms.errors import DomainError
from lms.extensions import db
from lms.models import User

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
}
TEXT_EXTENSIONS = {".txt", ".csv", ".md", ".py", ".json", ".tsv", ".log", ".sql", ".r", ".m"}
DANGEROUS_EXTENSIONS = {
    ".html", ".htm", ".xhtml", ".svg", ".svgz", ".xml", ".js", ".mjs", ".php", ".shtml",
}  # fmt: skip
# Markers that make a text file renderable as markup if a browser ever sniffed it.
MARKUP_MARKERS = (b"<html", b"<svg", b"<script", b"<!doctype", b"<?xml", b"<body", b"<iframe")


def max_bytes() -> int:
    """Largest course file upload allowed, in bytes."""
    return int(current_app.config.get("COURSE_ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def sniff(data: bytes, filename: str) -> str | None:
    """The content type ``data`` really is, or None when it is not an accepted format."""
    head = data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "application/zip"
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lowered = text[:4096].lower().encode()
    if any(marker in lowered for marker in MARKUP_MARKERS):
        return None
    ext = os.path.splitext(filename)[1].lower()
    return "text/csv" if ext in (".csv", ".tsv") else "text/plain"


def safe_filename(name: str) -> str:
    """The last path component with only letters, digits, dot, dash and underscore."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip(".-_")
    base = re.sub(r"-{2,}", "-", base)
    stem, ext = os.path.splitext(base)
    stem = stem.strip(".-_")[:80].strip(".-_")
    return (stem or "file") + ext[:10].lower()


def _canonical_name(filename: str, content_type: str) -> str:
    stem, ext = os.path.splitext(filename)
    if content_type in IMAGE_TYPES:
        ext = (
            ext if IMAGE_TYPES[content_type] == ext or ext == ".jpeg" else IMAGE_TYPES[content_type]
        )
    elif content_type == "application/pdf":
        ext = ".pdf"
    elif content_type == "application/zip":
        ext = ".zip"
    elif ext not in TEXT_EXTENSIONS:
        ext = ".txt"
    return stem + ext


def _unique_name(course: Course, filename: str) -> str:
    taken = set(
        db.session.scalars(select(Attachment.filename).where(Attachment.course_id == course.id))
    )
    if filename not in taken:
        return filename
    stem, ext = os.path.splitext(filename)
    n = 2
    while f"{stem}-{n}{ext}" in taken:
        n += 1
    return f"{stem}-{n}{ext}"


def check_upload(data: bytes, filename: str) -> tuple[str, str]:
    """Validate an upload; returns (safe file name, content type) or raises DomainError."""
    if not data:
        raise DomainError("The file is empty.", "file")
    limit = max_bytes()
    if len(data) > limit:
        raise DomainError(
            f"The file is {len(data) / 1048576:.1f} MB; the limit is {limit / 1048576:.0f} MB.",
            "file",
        )
    name = safe_filename(filename)
    if os.path.splitext(name)[1].lower() in DANGEROUS_EXTENSIONS:
        raise DomainError("HTML, SVG and XML files cannot be uploaded: browsers run them.", "file")
    content_type = sniff(data, name)
    if content_type is None:
        raise DomainError(
            "This kind of file is not accepted. Upload PNG, JPEG, GIF or WebP images, PDF, "
            "plain text or CSV, or a ZIP archive.",
            "file",
        )
    return _canonical_name(name, content_type), content_type


def add_attachment(
    course: Course, data: bytes, filename: str, user: User | None, images_only: bool = False
) -> Attachment:
    """Store an uploaded file on ``course`` after checking its size and real type."""
    name, content_type = check_upload(data, filename)
    if images_only and content_type not in IMAGE_TYPES:
        raise DomainError("Choose a PNG, JPEG, GIF or WebP image.", "file")
    attachment = Attachment(
        course_id=course.id,
        filename=_unique_name(course, name),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by_id=user.id if user is not None else None,
    )
    db.session.add(attachment)
    db.session.flush()
    return attachment


def delete_attachment(attachment: Attachment) -> None:
    """Delete a course file, clearing it as the cover image if it was one."""
    course = db.session.get(Course, attachment.course_id)
    if course is not None and course.cover_attachment_id == attachment.id:
        course.cover_attachment_id = None
    db.session.delete(attachment)
    db.session.flush()


def list_attachments(course_id: int) -> list[Attachment]:
    """Attachments of a course without loading their bytes."""
    return list(
        db.session.scalars(
            select(Attachment)
            .where(Attachment.course_id == course_id)
            .options(defer(Attachment.data))
            .order_by(Attachment.filename)
        )
    )


def is_image(attachment: Attachment) -> bool:
    """Whether the course file is an image shown inline."""
    return attachment.content_type in IMAGE_TYPES
