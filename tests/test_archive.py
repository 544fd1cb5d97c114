"""Course archives: lossless round trip, CLI and UI, and refusal of hostile archives."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import pytest
from sqlalchemy import func, select

from courses.archive import export_course, import_course
from courses.archive_validate import ArchiveError
from lms.domain.models import Activity, Attachment, Course
from lms.extensions import db
from tests.courses_factories import make_cluster, make_course

DEMO_SLUGS = [
    "python-for-production-data",
    "quality-management-with-statistics",
    "warehouse-automation-basics",
]


def _manifest(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return json.loads(zf.read("manifest.json"))


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "manifest.json"}


def _comparable(manifest: dict) -> dict:
    """The manifest without what an import changes by design: the slug and the export time."""
    manifest = json.loads(json.dumps(manifest))
    manifest.pop("exported_at")
    manifest["course"].pop("slug")
    return manifest


def _zip(members: dict[str, bytes | str], manifest: dict | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        if manifest is not None:
            zf.writestr("manifest.json", json.dumps(manifest))
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture
def course_demo(app):
    """Core accounts, the demo courses and the labs added to them (the progress seed, which
    makes many learners, is not needed here)."""
    from lms.seed import seed_steps

    with app.app_context():
        for _order, name, step in seed_steps():
            if name in ("organizations and accounts", "skill framework", "courses", "virtual labs"):
                step()
        db.session.commit()
    return app


def test_demo_courses_round_trip_losslessly(course_demo):
    with course_demo.app_context():
        types_seen = set()
        for slug in DEMO_SLUGS:
            course = db.session.scalar(select(Course).where(Course.slug == slug))
            first = export_course(course)
            imported = import_course(first, None, None)
            db.session.flush()
            assert imported.slug == f"{slug}-2" and imported.status == "draft"
            assert imported.signoffs == [] and imported.partner_org_ids == course.partner_org_ids
            second = export_course(imported)
            m1, m2 = _manifest(first), _manifest(second)
            assert _comparable(m1) == _comparable(m2)
            assert m1["outcomes"] and imported.outcomes  # skills and levels carried across
            assert _files(first) == _files(second)
            types_seen |= {a["type"] for m in m1["modules"] for a in m["activities"]}
        db.session.rollback()
        assert {"lesson", "quiz", "lab"} <= types_seen
        quality = _manifest(
            export_course(db.session.scalar(select(Course).where(Course.slug == DEMO_SLUGS[1])))
        )
        assert quality["format"] == "educluster-course" and quality["format_version"] == 1
        assert quality["course_data"]["quiz"]["questions"]
        assert quality["course"]["cover"] == "control-chart.png"
        spc = "http://data.europa.eu/esco/skill/0c77bcd5-b94a-475d-98e9-5a4327e4d726"
        assert {"skill": spc, "label": "statistical process control", "level": 3,
                "level_name": "proficient", "framework": "urn:educluster:framework:cluster"} in (
            quality["outcomes"]
        )  # fmt: skip
        assert any(a.get("outcomes") for m in quality["modules"] for a in m["activities"])
        lesson_bodies = json.dumps(quality["modules"])
        assert "educluster-file:control-chart.png" in lesson_bodies


def test_imported_file_links_point_to_the_new_course(app):
    with app.app_context():
        c = make_cluster()
        course = make_course(c, lessons=0)
        from courses import structure
        from courses.attachments import add_attachment
        from courses.demo.chart import control_chart_png

        att = add_attachment(course, control_chart_png(), "chart.png", c.uni_trainer)
        url = f"/courses/{course.slug}/files/{att.id}/chart.png"
        course.summary = f"See ![chart]({url})"
        structure.add_activity(course.modules[0], "lesson", structure.ActivityData(title="L"),
                               c.uni_trainer, {"body": f"![c]({url}) and [x](https://example.org)"})  # fmt: skip
        db.session.commit()
        copy = import_course(export_course(course), None, c.uni_trainer)
        db.session.commit()
        new_att = db.session.scalar(select(Attachment).where(Attachment.course_id == copy.id))
        new_url = f"/courses/{copy.slug}/files/{new_att.id}/chart.png"
        assert copy.summary == f"See ![chart]({new_url})"
        lesson = db.session.scalar(select(Activity).where(Activity.course_id == copy.id))
        assert lesson.body == f"![c]({new_url}) and [x](https://example.org)"
        assert copy.created_by_id == c.uni_trainer.id


def test_cli_export_and_import(app, runner, tmp_path):
    with app.app_context():
        c = make_cluster()
        course = make_course(c)
        db.session.commit()
        slug = course.slug
    out = tmp_path / "course.zip"
    result = runner.invoke(args=["courses", "export", slug, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Exported" in result.output and out.exists()
    result = runner.invoke(args=["courses", "import", str(out), "--org", "globex"])
    assert result.exit_code == 0, result.output
    assert f"{slug}-2" in result.output
    with app.app_context():
        imported = db.session.scalar(select(Course).where(Course.slug == f"{slug}-2"))
        assert imported.status == "draft" and len(imported.partners) == 3
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip at all")
    result = runner.invoke(args=["courses", "import", str(bad)])
    assert result.exit_code != 0 and "not a valid .zip" in result.output
    result = runner.invoke(
        args=["courses", "export", "no-such-course", "-o", str(tmp_path / "x.zip")]
    )
    assert result.exit_code != 0 and "No course" in result.output
    result = runner.invoke(args=["courses", "import", str(out), "--org", "nope"])
    assert result.exit_code != 0 and "No organization" in result.output


def test_import_needs_an_existing_partner_or_org(app):
    with app.app_context():
        c = make_cluster()
        data = export_course(make_course(c))
        manifest = _manifest(data)
        manifest["partners"] = [{"organization": "elsewhere", "role": "partner"}]
        archive = _zip({**_files(data)}, manifest)
        with pytest.raises(ArchiveError) as exc:
            import_course(archive, None, None)
        assert "--org" in exc.value.message
        copy = import_course(archive, c.globex, None)
        assert copy.partner_org_ids == {c.globex.id}


def _valid(app) -> tuple[dict, dict]:
    c = make_cluster()
    data = export_course(make_course(c))
    db.session.commit()
    return _manifest(data), _files(data)


def _symlink_zip(manifest: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        info = zipfile.ZipInfo("attachments/link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def _bomb(manifest: dict) -> bytes:
    return _zip({"attachments/zeros.txt": b"0" * (5 * 1024 * 1024)}, manifest)


BAD_ARCHIVES = {
    "traversal": (lambda m, f: _zip({"../evil.txt": "x"}, m), "path traversal"),
    "nested traversal": (lambda m, f: _zip({"a/../../evil.txt": "x"}, m), "path traversal"),
    "absolute": (lambda m, f: _zip({"/etc/cron.d/x": "x"}, m), "absolute path"),
    "backslash": (lambda m, f: _zip({"..\\evil.txt": "x"}, m), "backslashes"),
    "drive letter": (lambda m, f: _zip({"C:/evil.txt": "x"}, m), "absolute path"),
    "symlink": (lambda m, f: _symlink_zip(m), "symbolic link"),
    "zip bomb": (lambda m, f: _bomb(m), "zip bomb"),
    "too many files": (
        lambda m, f: _zip({f"f{i}.txt": "" for i in range(2001)}, m),
        "the limit is 2000",
    ),
    "malformed json": (lambda m, f: _zip({"manifest.json": "{not json", **f}), "not valid JSON"),
    "no manifest": (lambda m, f: _zip(f), "manifest.json is missing"),
    "not a zip": (lambda m, f: b"PK\x03\x04garbage", "not a valid .zip"),
    "bad version": (
        lambda m, f: _zip(f, {**m, "format_version": 99}),
        "Unsupported archive format version 99",
    ),
    "string version": (
        lambda m, f: _zip(f, {**m, "format_version": "1"}),
        "Unsupported archive format version",
    ),
    "wrong format": (
        lambda m, f: _zip(f, {**m, "format": "scorm"}),
        "not an EduCluster course archive",
    ),
    "unknown type": (
        lambda m, f: _zip(
            f,
            {
                **m,
                "modules": [
                    {
                        **m["modules"][0],
                        "activities": [{**m["modules"][0]["activities"][0], "type": "h5p"}],
                    }
                ],
            },
        ),
        "“h5p”, which is not installed",
    ),  # fmt: skip
    "unknown course data": (
        lambda m, f: _zip(f, {**m, "course_data": {"scorm": {}}}),
        "not installed",
    ),
    "schema: title": (
        lambda m, f: _zip(f, {**m, "course": {**m["course"], "title": ""}}),
        "course.title",
    ),
    "schema: level": (
        lambda m, f: _zip(f, {**m, "course": {**m["course"], "level": "guru"}}),
        "course.level",
    ),
    "schema: modules": (lambda m, f: _zip(f, {**m, "modules": {"a": 1}}), "modules must be a list"),
    "schema: condition": (
        lambda m, f: _zip(
            f,
            {
                **m,
                "modules": [
                    {
                        **m["modules"][0],
                        "activities": [
                            {
                                **m["modules"][0]["activities"][0],
                                "conditions": [{"kind": "completed", "activity": "zz"}],
                            }
                        ],
                    }
                ],
            },
        ),
        "unknown activity",
    ),  # fmt: skip
    "missing summary file": (lambda m, f: _zip({}, m), "course.summary_file"),
    "bad lesson content": (
        lambda m, f: _zip(
            f,
            {
                **m,
                "modules": [
                    {
                        **m["modules"][0],
                        "activities": [
                            {**m["modules"][0]["activities"][0], "content": {"body": 42}}
                        ],
                    }
                ],
            },
        ),
        "content was refused",
    ),  # fmt: skip
    "svg attachment": (
        lambda m, f: _zip(
            {**f, "attachments/x.svg": "<svg onload=alert(1)/>"},
            {**m, "attachments": [{"path": "attachments/x.svg", "filename": "x.svg"}]},
        ),
        "cannot be uploaded",
    ),  # fmt: skip
}


def test_hostile_archives_are_refused_and_nothing_is_written(app):
    # One app for all cases (each case rolls back): the checks run before any write.
    with app.app_context():
        manifest, files = _valid(app)
        before = db.session.scalar(select(func.count(Course.id)))
        activities = db.session.scalar(select(func.count(Activity.id)))
        for case, (build, message) in BAD_ARCHIVES.items():
            with pytest.raises(ArchiveError) as exc:
                import_course(build(manifest, files), None, None)
            db.session.rollback()
            assert message in exc.value.message, case
            assert db.session.scalar(select(func.count(Course.id))) == before, case
            assert db.session.scalar(select(func.count(Activity.id))) == activities, case


def test_import_and_export_from_the_ui(client, auth, app):
    with app.app_context():
        c = make_cluster()
        course = make_course(c)
        db.session.commit()
        slug, org_id = course.slug, c.northfield.id
    auth.login("trainer@uni.demo")
    exported = client.get(f"/courses/{slug}/export")
    assert exported.status_code == 200 and exported.mimetype == "application/zip"
    assert f'filename="{slug}.zip"' in exported.headers["Content-Disposition"]
    page = client.get("/courses/import")
    assert page.status_code == 200 and b"Northfield University" in page.data
    response = client.post(
        "/courses/import",
        data={"archive": (io.BytesIO(exported.data), "c.zip"), "organization_id": org_id},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and response.location.endswith(
        f"/courses/{slug}-2/structure"
    )
    bad = client.post(
        "/courses/import",
        data={"archive": (io.BytesIO(_zip({"../x": "x"}, {})), "c.zip"), "organization_id": org_id},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and "path traversal" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Course.id))) == 2
    auth.logout()
    auth.login("student@uni.demo")
    assert client.get("/courses/import").status_code == 403
    assert client.get(f"/courses/{slug}/export").status_code == 404


def test_duplicate_a_course(client, auth, app):
    with app.app_context():
        c = make_cluster()
        course = make_course(c)
        from tests.courses_factories import publish

        publish(c, course)
        db.session.commit()
        slug = course.slug
    auth.login("trainer@acme.demo")
    response = client.post(f"/courses/{slug}/duplicate")
    assert response.status_code == 302 and response.location.endswith(
        f"/courses/{slug}-2/structure"
    )
    with app.app_context():
        copy = db.session.scalar(select(Course).where(Course.slug == f"{slug}-2"))
        assert (
            copy.status == "draft" and copy.signoffs == [] and len(copy.modules[0].activities) == 2
        )
    auth.logout()
    auth.login("student@uni.demo")
    assert client.post(f"/courses/{slug}/duplicate").status_code == 403
