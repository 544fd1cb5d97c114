"""Lesson plugin: revisions on every save, diff, restore, rendering and the archive format."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from courses.lesson.diff import diff_lines
from courses.lesson.models import Lesson, LessonRevision
from courses.lesson.services import save_lesson_body
from lms.domain.models import Course, CourseSignoff
from lms.extensions import db
from lms.plugins import activity_type
from tests import factories as f


@pytest.fixture
def world(app):
    with app.app_context():
        uni = f.make_org("uni-l")
        author = f.make_user("author@l.test", uni, "trainer")
        f.make_user("learner@l.test", uni, "learner")
        course = f.make_course(uni, title="Python")
        module = f.make_module(course)
        lesson = f.make_lesson(module, "Intro", "# Hello\n\nFirst version.\n", author)
        db.session.commit()
        return SimpleNamespace(course_id=course.id, lesson_id=lesson.id, author_id=author.id)


def login(client, email):
    assert (
        client.post("/auth/login", data={"email": email, "password": f.PASSWORD}).status_code == 302
    )


def revisions(lesson_id):
    return db.session.scalars(
        select(LessonRevision)
        .where(LessonRevision.lesson_id == lesson_id)
        .order_by(LessonRevision.number)
    ).all()


def test_every_save_keeps_a_revision_and_withdraws_signoffs(app, world):
    with app.app_context():
        lesson = db.session.get(Lesson, world.lesson_id)
        course = lesson.course
        db.session.add(CourseSignoff(course_id=course.id, organization_id=course.partners[0].organization_id,
                                     content_version=course.content_version))  # fmt: skip
        db.session.flush()
        version = course.content_version
        author = db.session.get(f.User, world.author_id)
        plugin = activity_type("lesson")
        plugin.apply_form(lesson, {"body": "# Hello\n\nSecond version.\n"}, author)
        plugin.apply_form(lesson, {"body": "# Hello\n\nSecond version.\n"}, author)  # unchanged
        plugin.apply_form(lesson, {"body": "# Hello\r\n\r\nThird version.\r\n"}, author)
        db.session.commit()
        rows = revisions(world.lesson_id)
        assert [r.number for r in rows] == [1, 2, 3]
        assert rows[-1].body == "# Hello\n\nThird version.\n" and rows[-1].author_id == author.id
        assert lesson.body == rows[-1].body
        course = db.session.get(Course, world.course_id)
        assert course.content_version == version + 2
        assert all(s.withdrawn_at is not None for s in course.signoffs)
        assert plugin.form_data(lesson) == {"body": lesson.body}


def test_revision_list_diff_and_restore(app, client, world):
    with app.app_context():
        lesson = db.session.get(Lesson, world.lesson_id)
        author = db.session.get(f.User, world.author_id)
        save_lesson_body(lesson, "# Hello\n\nSecond <script>alert(1)</script> version.\n", author)
        db.session.commit()
    login(client, "author@l.test")
    listing = client.get(f"/lesson/{world.lesson_id}/revisions").get_data(as_text=True)
    assert (
        "Revision history" in listing and "Restore revision 1" in listing and "Current" in listing
    )
    diff = client.get(f"/lesson/{world.lesson_id}/diff?from=1&to=2")
    html = diff.get_data(as_text=True)
    assert diff.status_code == 200
    assert "diff-removed" in html and "diff-added" in html
    assert "First version." in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "1 added" in html and "1 removed" in html
    view = client.get(f"/lesson/{world.lesson_id}/revisions/1").get_data(as_text=True)
    assert "First version." in view
    restored = client.post(f"/lesson/{world.lesson_id}/revisions/1/restore")
    assert restored.status_code == 302
    with app.app_context():
        rows = revisions(world.lesson_id)
        assert [r.number for r in rows] == [1, 2, 3]
        assert rows[-1].body == rows[0].body and rows[-1].restored_from == 1
        assert db.session.get(Lesson, world.lesson_id).body == rows[0].body


def test_diff_defaults_and_bad_numbers(client, world):
    login(client, "author@l.test")
    same = client.get(f"/lesson/{world.lesson_id}/diff")
    assert same.status_code == 200 and "same content" in same.get_data(as_text=True)
    bad = client.get(f"/lesson/{world.lesson_id}/diff?from=1&to=99")
    assert bad.status_code == 302
    assert client.get(f"/lesson/{world.lesson_id}/diff?from=x&to=y").status_code == 200
    assert client.get(f"/lesson/{world.lesson_id}/revisions/99").status_code == 404
    assert client.post(f"/lesson/{world.lesson_id}/revisions/99/restore").status_code == 404


def test_learners_cannot_see_or_restore_revisions(app, client, world):
    login(client, "learner@l.test")
    assert client.get(f"/lesson/{world.lesson_id}/revisions").status_code == 404
    assert client.get(f"/lesson/{world.lesson_id}/diff?from=1&to=1").status_code == 404
    assert client.post(f"/lesson/{world.lesson_id}/revisions/1/restore").status_code == 404
    with app.app_context():
        assert len(revisions(world.lesson_id)) == 1


def test_render_sanitizes_and_highlights(app, world):
    with app.test_request_context():
        lesson = db.session.get(Lesson, world.lesson_id)
        author = db.session.get(f.User, world.author_id)
        save_lesson_body(lesson, "```python\nprint('hi')\n```\n\n<img src=x onerror=alert(1)>\n"
                                 "[x](javascript:alert(1))", author)  # fmt: skip
        html = str(activity_type("lesson").render(lesson, author))
        assert 'class="codehilite"' in html and '<span class="nb">print</span>' in html
        assert "onerror" not in html and "javascript:" not in html
        empty = f.make_lesson(lesson.module, "Empty", "")
        assert "no content yet" in str(activity_type("lesson").render(empty, author))


def test_archive_round_trip_and_bad_content(app, world):
    with app.app_context():
        plugin = activity_type("lesson")
        lesson = db.session.get(Lesson, world.lesson_id)
        content = plugin.export_content(lesson, {})
        assert content == {"body": "# Hello\n\nFirst version.\n"}
        copy = plugin.new_activity(
            course_id=lesson.course_id, module_id=lesson.module_id, title="Copy"
        )
        plugin.import_content(copy, content, {})
        db.session.add(copy)
        db.session.flush()
        assert copy.body == lesson.body and [r.number for r in copy.revisions] == [1]
        assert copy.revisions[0].author_id is None
        for bad in ({"body": 3}, ["x"], {"body": "x" * 200_001}):
            with pytest.raises(ValueError):
                plugin.import_content(plugin.new_activity(title="x"), bad, {})


def test_author_links(app, world):
    with app.test_request_context():
        lesson = db.session.get(Lesson, world.lesson_id)
        assert activity_type("lesson").author_links(lesson) == [
            ("Revision history", f"/lesson/{world.lesson_id}/revisions")
        ]


# --- the diff itself (pure) ---------------------------------------------------------------------
def test_diff_lines_marks_changes_with_context():
    old = "\n".join(f"line {i}" for i in range(1, 21))
    new = old.replace("line 10", "line ten").replace("line 20", "line 20\nline 21")
    d = diff_lines(old, new, context=2)
    kinds = [r.kind for r in d.rows]
    assert d.added == 2 and d.removed == 1
    assert kinds[0] == "gap" and "removed" in kinds and kinds.count("added") == 2
    removed = next(r for r in d.rows if r.kind == "removed")
    assert (removed.old_number, removed.new_number, removed.text) == (10, None, "line 10")
    added = [r for r in d.rows if r.kind == "added"]
    assert (added[0].new_number, added[0].text) == (10, "line ten")
    assert (added[1].new_number, added[1].text) == (21, "line 21")


def test_diff_identical_and_from_empty():
    assert diff_lines("a\nb", "a\nb").identical
    d = diff_lines("", "a\nb")
    assert d.added == 2 and d.removed == 0 and [r.kind for r in d.rows] == ["added", "added"]
