"""Course archives: export a course to a portable .zip and import one as a new draft.

``manifest.json`` holds the course, its partners (by organization slug), skills, modules and
activities (type, common fields, conditions by activity key, the plugin's own content) and each
type's course-level data (the quiz question bank, lab specs...). The course summary is
``course.md``; attachments live under ``attachments/``. Links to course files inside Markdown
and plugin content are written as ``educluster-file:<name>`` so they survive the new slug and
new ids of an import. The round trip export → import → export yields the same manifest apart
from the slug and the export time.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import datetime
from typing import Any

from sqlalchemy import select

from courses.archive_links import (
    incoming_links,
    map_strings,
    outgoing_links,
    rewrite_text_files,
)
from courses.archive_validate import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ArchiveError,
    check_member_name,
    read_archive,
)
from courses.attachments import check_upload
from courses.services import tag_outcomes, unique_slug
from lms.domain.models import (
    Activity,
    ActivityCondition,
    Attachment,
    Course,
    CoursePartner,
    CourseStatus,
    Module,
)
from lms.extensions import db
from lms.models import Organization, User
from lms.plugins import activity_registry
from lms.skills.services import (
    outcomes_from_json,
    outcomes_to_json,
    set_activity_outcomes,
    set_course_outcomes,
)
from lms.timeutil import utcnow

__all__ = ["ArchiveError", "export_course", "import_course", "build_manifest"]


# --- export --------------------------------------------------------------------------------------
def _activity_key(index: int) -> str:
    return f"a{index}"


def build_manifest(course: Course, files: dict[str, bytes]) -> dict[str, Any]:
    """The manifest of ``course``; Markdown, plugin files and attachments are added to ``files``."""
    attachments = list(
        db.session.scalars(
            select(Attachment)
            .where(Attachment.course_id == course.id)
            .order_by(Attachment.filename)
        )
    )
    names = {a.id: a.filename for a in attachments}
    out = outgoing_links(course, names)
    files["course.md"] = out(course.summary or "").encode("utf-8")
    attachment_paths = set()
    for a in attachments:
        path = f"attachments/{a.filename}"
        files[path] = a.data
        attachment_paths.add(path)
    course_data = _export_course_data(course, files, out)
    modules = _export_modules(course, files, out)
    rewrite_text_files(files, out, skip=attachment_paths | {"course.md"})
    cover = names.get(course.cover_attachment_id) if course.cover_attachment_id else None
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "generator": "EduCluster",
        "exported_at": utcnow().replace(microsecond=0).isoformat(),
        "course": _course_fields(course, cover),
        "partners": [
            {"organization": p.organization.slug, "name": p.organization.name, "role": p.role}
            for p in course.partners
        ],
        "skills": [s.preferred_label for s in course.skills],  # read by older versions
        "outcomes": outcomes_to_json(course.outcomes),
        "attachments": [
            {
                "path": f"attachments/{a.filename}",
                "filename": a.filename,
                "content_type": a.content_type,
                "sha256": a.sha256,
            }
            for a in attachments
        ],
        "course_data": course_data,
        "modules": modules,
    }


def _course_fields(course: Course, cover: str | None) -> dict[str, Any]:
    """The course's own settings as the manifest carries them."""
    return {
        "title": course.title,
        "slug": course.slug,
        "summary_file": "course.md",
        "level": course.level,
        "estimated_hours": course.estimated_hours,
        "language": course.language,
        "visibility": course.visibility,
        "completion_mode": course.completion_mode,
        "completion_count": course.completion_count,
        "completion_min_grade": course.completion_min_grade,
        "cover": cover,
    }


def _export_course_data(course: Course, files: dict[str, bytes], out) -> dict[str, Any]:
    """Each activity type's course-level data (e.g. the question bank), by type key."""
    course_data = {}
    for atype in activity_registry():
        data = atype.export_course_data(course, files)
        if data is not None:
            course_data[atype.key] = map_strings(data, out)
    return course_data


def _export_modules(course: Course, files: dict[str, bytes], out) -> list[dict[str, Any]]:
    """The outline: modules with their activities, keyed so conditions can name each other."""
    registry = activity_registry()
    activities = [a for m in course.modules for a in m.activities]
    keys = {a.id: _activity_key(i + 1) for i, a in enumerate(activities)}
    modules = []
    for module in course.modules:
        acts = []
        for a in module.activities:
            atype = registry.get(a.type)
            if atype is None:
                raise ArchiveError(f"The activity type “{a.type}” is not installed; cannot export.")
            acts.append(_export_activity(a, atype, keys, files, out))
        modules.append(
            {"title": module.title, "summary": out(module.summary or ""), "activities": acts}
        )
    return modules


def _export_activity(a, atype, keys: dict[int, str], files: dict[str, bytes], out) -> dict:
    """One activity: common settings, restrict-access conditions, the type's content, outcomes."""
    conditions = sorted(a.conditions, key=lambda c: (keys.get(c.required_activity_id, ""), c.kind))
    return {
        "key": keys[a.id],
        "type": a.type,
        "title": a.title,
        "completion_rule": a.completion_rule,
        "pass_mark": a.pass_mark,
        "weight": a.weight,
        "required": a.required,
        "available_from": a.available_from.isoformat() if a.available_from else None,
        "conditions": [
            {"kind": c.kind, "activity": keys[c.required_activity_id], "min_grade": c.min_grade}
            for c in conditions
            if c.required_activity_id in keys
        ],
        "content": map_strings(atype.export_content(a, files), out),
        "outcomes": outcomes_to_json(a.outcomes),
    }


def export_course(course: Course) -> bytes:
    """The course as a .zip archive (deterministic member order)."""
    files: dict[str, bytes] = {}
    manifest = build_manifest(course, files)
    for path in files:
        # A plugin's file name must be one the importer accepts; refuse it here, not on import.
        check_member_name(zipfile.ZipInfo(path))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True))
        for path in sorted(files):
            zf.writestr(path, files[path])
    return buffer.getvalue()


# --- import --------------------------------------------------------------------------------------
def _resolve_partners(
    manifest: dict, organization: Organization | None
) -> list[tuple[Organization, str]]:
    slugs = [p["organization"] for p in manifest.get("partners", [])]
    found = {
        o.slug: o
        for o in db.session.scalars(
            select(Organization).where(Organization.slug.in_(slugs or [""]))
        )
    }
    partners = [
        (found[p["organization"]], p["role"])
        for p in manifest.get("partners", [])
        if p["organization"] in found
    ]
    if organization is not None and organization.id not in {o.id for o, _ in partners}:
        partners.append(
            (organization, "academic_lead" if organization.kind == "university" else "partner")
        )
    if not partners:
        raise ArchiveError(
            "None of the archive's partner organizations exist here. Choose the importing "
            "organization (--org SLUG)."
        )
    return partners


def import_course(
    data: bytes, organization: Organization | None = None, user: User | None = None
) -> Course:
    """Create a new draft course from an archive. Everything is validated first; any error
    raises ArchiveError and the caller rolls back, so nothing is written."""
    manifest, files = read_archive(data)
    for att in manifest.get("attachments", []):
        try:
            check_upload(files[att["path"]], att["filename"])
        except Exception as exc:
            raise ArchiveError(
                f"Attachment “{att['filename']}”: {getattr(exc, 'message', exc)}"
            ) from None
    partners = _resolve_partners(manifest, organization)
    try:
        return build_course(manifest, files, partners, user)
    except (ValueError, KeyError, TypeError) as exc:
        raise ArchiveError(f"The archive's content was refused: {exc}") from None


def build_course(
    manifest: dict,
    files: dict[str, bytes],
    partners: list[tuple[Organization, str]],
    user: User | None,
    slug: str | None = None,
) -> Course:
    """Write a validated manifest as a new draft course (also used by the demo seed)."""
    registry = activity_registry()
    meta = manifest["course"]
    course = _new_course(meta, slug, user)
    db.session.add(course)
    for org, role in partners:
        course.partners.append(CoursePartner(organization_id=org.id, role=role))
    db.session.flush()
    if "outcomes" in manifest:
        set_course_outcomes(course, outcomes_from_json(manifest["outcomes"]))
    else:  # an archive from before outcomes: its skill tags become cluster skills
        tag_outcomes(course, manifest.get("skills", []))
    ids = _import_attachments(course, manifest.get("attachments", []), files, user)
    inc = incoming_links(course, ids)
    if meta.get("cover") in ids:
        course.cover_attachment_id = ids[meta["cover"]][0]
    if meta.get("summary_file"):
        course.summary = inc(files[meta["summary_file"]].decode("utf-8"))
    skip = {a["path"] for a in manifest.get("attachments", [])}
    rewrite_text_files(files, inc, skip=skip)
    for type_key, data in manifest.get("course_data", {}).items():
        registry[type_key].import_course_data(course, map_strings(data, inc), files)
    by_key = _import_modules(course, manifest.get("modules", []), files, inc)
    for mod in manifest.get("modules", []):
        for act in mod.get("activities", []):
            for cond in act.get("conditions", []):
                by_key[act["key"]].conditions.append(
                    ActivityCondition(
                        kind=cond["kind"],
                        required_activity_id=by_key[cond["activity"]].id,
                        min_grade=cond.get("min_grade") if cond["kind"] == "grade" else None,
                    )
                )
    course.content_version = 1
    db.session.flush()
    return course


def _new_course(meta: dict, slug: str | None, user: User | None) -> Course:
    """A draft course with the manifest's settings (not yet added to the session)."""
    return Course(
        slug=slug or unique_slug(meta.get("slug") or meta["title"]),
        title=meta["title"].strip(),
        summary="",
        level=meta["level"],
        estimated_hours=float(meta["estimated_hours"]),
        language=meta.get("language", "en"),
        visibility=meta.get("visibility", "partners"),
        completion_mode=meta.get("completion_mode", "all"),
        completion_count=meta.get("completion_count"),
        completion_min_grade=meta.get("completion_min_grade"),
        status=CourseStatus.DRAFT,
        content_version=1,
        created_by_id=user.id if user is not None else None,
    )


def _import_attachments(
    course: Course, attachments: list[dict], files: dict[str, bytes], user: User | None
) -> dict[str, tuple[int, str]]:
    """Store the archive's attachments (checked like uploads): filename -> (id, stored name)."""
    ids: dict[str, tuple[int, str]] = {}
    for att in attachments:
        content = files[att["path"]]
        name, content_type = check_upload(content, att["filename"])
        row = Attachment(
            course_id=course.id, filename=name, content_type=content_type, size=len(content),
            sha256=hashlib.sha256(content).hexdigest(), data=content,
            uploaded_by_id=user.id if user is not None else None,
        )  # fmt: skip
        db.session.add(row)
        db.session.flush()
        ids[att["filename"]] = (row.id, name)
    return ids


def _import_modules(
    course: Course, modules: list[dict], files: dict[str, bytes], inc
) -> dict[str, Activity]:
    """Create the modules and their activities (content through each type); by archive key."""
    registry = activity_registry()
    by_key: dict[str, Activity] = {}
    for position, mod in enumerate(modules):
        module = Module(title=mod["title"], summary=inc(mod.get("summary", "")), position=position)
        course.modules.append(module)
        db.session.flush()
        for index, act in enumerate(mod.get("activities", [])):
            atype = registry[act["type"]]
            available = act.get("available_from")
            activity = atype.new_activity(
                course_id=course.id,
                title=act["title"],
                completion_rule=act["completion_rule"],
                pass_mark=act.get("pass_mark"),
                weight=float(act.get("weight", 1.0)),
                required=act.get("required", True),
                available_from=datetime.fromisoformat(available) if available else None,
                position=index,
            )
            module.activities.append(activity)
            db.session.flush()
            atype.import_content(activity, map_strings(act.get("content", {}), inc), files)
            if act.get("outcomes") and atype.develops_skills:
                set_activity_outcomes(activity, outcomes_from_json(act["outcomes"]))
            by_key[act["key"]] = activity
    return by_key
