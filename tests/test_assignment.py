"""The assignment plugin: rubric arithmetic, submission rules, grading, release, peer review,
extensions, graders, and hostile input (files, Markdown, names)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from sqlalchemy import select

from courses.assignment import rubric as r
from courses.assignment.models import Assignment, AssignmentSubmission, PeerReview
from courses.assignment.settings import clean_settings
from lms.extensions import db
from lms.models import User
from lms.progress.models import ActivityCompletion
from lms.timeutil import utcnow

SARA, MARCO, TRAINER = "student@uni.demo", "employee@acme.demo", "trainer@uni.demo"


# --- pure functions ------------------------------------------------------------------------------
def test_rubric_text_round_trip_and_scores():
    text = "Cleaning: scripted\n- By hand | 0\n- Scripted | 4\nFigures\n- Wrong | 0\n- Right | 2"
    rubric = r.parse_rubric_text(text)
    assert [c["title"] for c in rubric] == ["Cleaning", "Figures"]
    assert r.parse_rubric_text(r.rubric_text(rubric)) == rubric
    assert r.max_points(rubric) == 6
    assert r.rubric_score(rubric, [1, 0]) == (4.0, pytest.approx(66.67))
    with pytest.raises(r.RubricError, match="every criterion"):
        r.rubric_score(rubric, [1])
    with pytest.raises(r.RubricError, match="levels of “Figures”"):
        r.rubric_score(rubric, [1, 5])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Cleaning: scripted", "no levels"),
        ("Cleaning\n- By hand | -1", "cannot be negative"),
        ("- Orphan | 1", "before any criterion"),
        ("Cleaning\n- By hand 2", "Title | points"),
        ("Cleaning\n- By hand | lots", "must be a number"),
    ],
)
def test_bad_rubrics_are_refused_with_a_clear_message(text, message):
    with pytest.raises(r.RubricError, match=message):
        r.parse_rubric_text(text)


def test_final_score_rule_and_settings_validation():
    assert r.final_score(80, [], 20) == 80
    assert r.final_score(80, [60, 100, 40], 20) == pytest.approx(0.8 * 80 + 0.2 * 60)
    with pytest.raises(ValueError, match="cut-off cannot be before"):
        clean_settings({"due_at": "2027-01-10T10:00", "cutoff_at": "2027-01-09T10:00"})
    with pytest.raises(ValueError, match="cannot be accepted"):
        clean_settings({"submit_files": True, "file_types": ["html"]})
    with pytest.raises(ValueError, match="no levels"):
        clean_settings({"grading": "rubric", "rubric": [{"title": "A", "levels": []}]})


# --- through the app -----------------------------------------------------------------------------
def _assignment(app) -> Assignment:
    return db.session.scalar(select(Assignment))


def _activity_url(a: Assignment) -> str:
    return f"/courses/{a.course.slug}/activities/{a.id}"


def _submission(app, email):
    user = db.session.scalar(select(User).where(User.email == email))
    return db.session.scalar(
        select(AssignmentSubmission).where(AssignmentSubmission.user_id == user.id)
    )


def test_learner_drafts_submits_and_bad_files_change_nothing(demo, client, auth):
    with demo.app_context():
        a = _assignment(demo)
        aid, url = a.id, _activity_url(a)
    auth.login(SARA)
    assert b"Save draft" in client.get(url).data
    ok = client.post(f"/assignment/{aid}/save", data={"text": "First **draft**", "action": "save",
                     "files": (BytesIO(b"shift,rate\nearly,2.2\n"), "../../my <script>table.csv")},
                     content_type="multipart/form-data", follow_redirects=True)  # fmt: skip
    assert b"Draft saved" in ok.data
    with demo.app_context():
        sub = _submission(demo, SARA)
        assert sub.status == "draft" and sub.text == "First **draft**"
        assert [f.filename for f in sub.files] == ["my-script-table.csv"]
    refused = [
        ((BytesIO(b"<html><script>alert(1)</script></html>"), "page.html"), "not an accepted type"),
        ((BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 20), "fake.csv"), "does not contain what"),
        ((BytesIO(b"a" * (2 * 1024 * 1024 + 1)), "big.csv"), "at most 2.0 MB"),
    ]
    for upload, message in refused:
        page = client.post(f"/assignment/{aid}/save", data={"text": "changed", "action": "save",
                           "files": upload}, content_type="multipart/form-data",
                           follow_redirects=True)  # fmt: skip
        assert message.encode() in page.data
    with demo.app_context():
        sub = _submission(demo, SARA)
        assert sub.text == "First **draft**" and len(sub.files) == 1  # nothing half-written
    done = client.post(f"/assignment/{aid}/save", data={"text": "Final report", "action": "submit"},
                       follow_redirects=True)  # fmt: skip
    assert b"submitted for grading" in done.data
    with demo.app_context():
        row = db.session.scalar(
            select(ActivityCompletion).where(ActivityCompletion.activity_id == aid,
                                             ActivityCompletion.submitted_at.is_not(None),
                                             ActivityCompletion.user_id == _submission(demo, SARA).user_id)
        )  # fmt: skip
        assert row is not None
    # Submitted work is no longer a draft: saving again is refused, reverting is allowed.
    again = client.post(f"/assignment/{aid}/save", data={"text": "x", "action": "save"},
                        follow_redirects=True)  # fmt: skip
    assert b"already submitted" in again.data
    client.post(f"/assignment/{aid}/revert", follow_redirects=True)
    with demo.app_context():
        assert _submission(demo, SARA).status == "draft"


def test_a_refused_draft_keeps_what_the_learner_typed(demo, client, auth):
    """A save refused by validation (too long) or by the file rules shows the form again with
    the learner's text in it, not an empty page after a redirect."""
    with demo.app_context():
        aid = _assignment(demo).id
    auth.login(SARA)
    typed = "My analysis of the **night shift** <script>alert(1)</script> data. " * 1600
    too_long = client.post(f"/assignment/{aid}/save", data={"text": typed, "action": "save"})
    assert too_long.status_code == 400
    page = too_long.get_data(as_text=True)
    assert "There is a problem" in page and "My analysis of the **night shift**" in page
    assert "<script>alert(1)</script>" not in page  # kept as text, escaped, never as markup
    kept = "Cleaning steps: 1. drop duplicates 2. parse timestamps"
    bad_file = client.post(f"/assignment/{aid}/save", data={"text": kept, "action": "submit",
                           "files": (BytesIO(b"<html></html>"), "page.html")},
                           content_type="multipart/form-data")  # fmt: skip
    assert bad_file.status_code == 400
    html = bad_file.get_data(as_text=True)
    assert "not an accepted type" in html and kept in html and 'id="files-error"' in html
    with demo.app_context():
        assert _submission(demo, SARA) is None  # nothing half-written


def test_cutoff_refuses_late_work_until_an_extension(demo, client, auth):
    with demo.app_context():
        a = _assignment(demo)
        a.due_at, a.cutoff_at = utcnow() - timedelta(days=2), utcnow() - timedelta(days=1)
        db.session.commit()
        aid = a.id
    auth.login(SARA)
    page = client.post(f"/assignment/{aid}/save", data={"text": "late", "action": "submit"},
                       follow_redirects=True)  # fmt: skip
    assert b"Submissions closed" in page.data
    with demo.app_context():
        assert _submission(demo, SARA) is None
    auth.logout()
    auth.login(TRAINER)
    due = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(
        f"/assignment/{aid}/extensions", data={"email": "nobody@example.org", "due_at": due}
    )
    assert bad.status_code == 400 and b"No learner" in bad.data
    client.post(
        f"/assignment/{aid}/extensions", data={"email": SARA, "due_at": due, "reason": "Ill"}
    )
    auth.logout()
    auth.login(SARA)
    client.post(f"/assignment/{aid}/save", data={"text": "late but allowed", "action": "submit"})
    with demo.app_context():
        sub = _submission(demo, SARA)
        assert sub.status == "submitted" and sub.late is False


def test_peer_review_grading_release_and_feedback_visibility(demo, client, auth):
    with demo.app_context():
        a = _assignment(demo)
        aid, url = a.id, _activity_url(a)
    auth.login(SARA)
    client.post(f"/assignment/{aid}/save", data={"text": "Scrap 2.4 % <script>alert(1)</script> "
                "[x](javascript:alert(2))", "action": "submit"}, follow_redirects=True)  # fmt: skip
    auth.logout()
    auth.login(MARCO)  # submitted in the demo: reviews Sara's work, without her name
    review_page = client.post(f"/assignment/{aid}/reviews/allocate", follow_redirects=True)
    assert b"Scrap 2.4 %" in review_page.data and b"Sara" not in review_page.data
    assert b"<script>alert" not in review_page.data and b"javascript:alert" not in review_page.data
    with demo.app_context():
        review = db.session.scalar(select(PeerReview))
        rid = review.id
    empty = client.post(f"/assignment/{aid}/reviews/{rid}", data={"comment": ""})
    assert empty.status_code == 400
    client.post(f"/assignment/{aid}/reviews/{rid}", data={"comment": "Clear table.",
                "criterion-0": "2", "criterion-1": "1", "criterion-2": "1"})  # fmt: skip
    auth.logout()
    auth.login(TRAINER)
    with demo.app_context():
        sid = _submission(demo, SARA).id
    queue = client.get(f"/assignment/{aid}/grading?status=ungraded")
    assert b"Sara Lind" in queue.data
    bad = client.post(
        f"/assignment/{aid}/grading/{sid}", data={"criterion-0": "9", "feedback": "x"}
    )
    assert bad.status_code == 400 and b"Choose one of the levels" in bad.data
    client.post(f"/assignment/{aid}/grading/{sid}", data={"criterion-0": "2", "criterion-1": "2",
                "criterion-2": "1", "feedback": "Well argued."})  # fmt: skip
    auth.logout()
    auth.login(SARA)
    assert b"Your grade" not in client.get(url).data  # not released yet
    auth.logout()
    auth.login(TRAINER)
    client.post(f"/assignment/{aid}/release", data={"action": "release"})
    auth.logout()
    auth.login(SARA)
    page = client.get(url).data
    trainer = 100 * 9 / 10
    peer = 100 * (4 + 2 + 1) / 10
    assert b"Your grade" in page and b"Well argued." in page
    assert b"Clear table." not in page  # Sara has not reviewed anyone yet
    with demo.app_context():
        row = db.session.scalar(select(ActivityCompletion).where(ActivityCompletion.activity_id == aid,
                                ActivityCompletion.grade.is_not(None)))  # fmt: skip
        assert row.grade == pytest.approx(0.8 * trainer + 0.2 * peer)
        assert row.completed  # the "graded" rule
    client.post(f"/assignment/{aid}/reviews/allocate")
    with demo.app_context():
        mine = db.session.scalar(select(PeerReview).where(PeerReview.id != rid))
    client.post(f"/assignment/{aid}/reviews/{mine.id}", data={"comment": "Good.", "criterion-0": "1",
                "criterion-1": "1", "criterion-2": "1"})  # fmt: skip
    assert b"Clear table." in client.get(url).data


def test_releasing_grades_mails_and_notifies_each_learner_once(demo, client, auth):
    from lms.models import OutboundMail
    from lms.progress.models import Notification

    with demo.app_context():
        a = _assignment(demo)
        aid, path = a.id, _activity_url(a)
        site = demo.config["SITE_URL"].rstrip("/")
    auth.login(SARA)
    client.post(f"/assignment/{aid}/save", data={"text": "Downtime report", "action": "submit"})
    auth.logout()
    auth.login(TRAINER)
    with demo.app_context():
        sid = _submission(demo, SARA).id

    def mails_to_sara():
        with demo.app_context():
            return list(db.session.scalars(select(OutboundMail).where(
                OutboundMail.to == SARA, OutboundMail.subject.like("Your grade for%"))))  # fmt: skip

    grade = {"criterion-0": "2", "criterion-1": "2", "criterion-2": "1", "feedback": "Solid."}
    client.post(f"/assignment/{aid}/grading/{sid}", data=grade)
    assert mails_to_sara() == []  # graded but not released: nobody is told yet
    client.post(f"/assignment/{aid}/release", data={"action": "release"})
    mails = mails_to_sara()
    assert len(mails) == 1 and "is ready" in mails[0].subject
    assert f"{site}{path}" in mails[0].body  # an absolute link under SITE_URL
    with demo.app_context():
        sara = db.session.scalar(select(User).where(User.email == SARA))
        notes = list(db.session.scalars(select(Notification).where(
            Notification.user_id == sara.id, Notification.kind == "assignment_graded")))  # fmt: skip
        assert len(notes) == 1 and notes[0].link == f"{site}{path}"
    # Withholding and releasing again tells nobody twice; a new grade after release does.
    client.post(f"/assignment/{aid}/release", data={"action": "withhold"})
    client.post(f"/assignment/{aid}/release", data={"action": "release"})
    assert len(mails_to_sara()) == 1
    client.post(f"/assignment/{aid}/grading/{sid}", data={**grade, "criterion-2": "2"})
    mails = mails_to_sara()
    assert len(mails) == 2 and "was updated" in mails[1].subject


def test_own_work_cannot_be_reviewed_and_graders_are_assignable(demo, client, auth):
    from courses.assignment.grading import submit_review
    from courses.assignment.services import set_graders
    from lms.errors import DomainError

    with demo.app_context():
        a = _assignment(demo)
        marco = db.session.scalar(select(User).where(User.email == MARCO))
        own = _submission(demo, MARCO)
        review = PeerReview(assignment_id=a.id, submission_id=own.id, reviewer_id=marco.id)
        db.session.add(review)
        db.session.flush()
        with pytest.raises(DomainError, match="your own work"):
            submit_review(review, marco, levels=[0, 0, 0], comment="Great")
        db.session.rollback()
        aid = a.id
    auth.login("hr@acme.demo")
    assert client.get(f"/assignment/{aid}/grading").status_code == 404
    with demo.app_context():
        set_graders(
            _assignment(demo), [db.session.scalar(select(User).where(User.email == "hr@acme.demo"))]
        )
        db.session.commit()
    assert b"Grading:" in client.get(f"/assignment/{aid}/grading").data
    dashboard = client.get("/dashboard").data  # where the enterprise grader starts
    assert b"Work to grade" in dashboard and b"Scrap report for line 3" in dashboard


def test_score_outside_the_scale_is_refused(demo, client, auth):
    with demo.app_context():
        a = _assignment(demo)
        a.grading = "score"
        a.max_score = 20.0
        db.session.commit()
        aid, sid = a.id, _submission(demo, MARCO).id
    auth.login(TRAINER)
    inline = client.get(f"/assignment/{aid}/grading/{sid}?inline=1").data
    assert b"&gt; ## Scrap on line 3, March" in inline  # comment inline: the text, quoted
    page = client.post(f"/assignment/{aid}/grading/{sid}", data={"score": "25", "feedback": ""})
    assert page.status_code == 400 and b"from 0 to 20" in page.data
    with demo.app_context():
        assert _submission(demo, MARCO).grade is None


def test_authoring_refuses_bad_rubrics_and_graders_outside_the_partners(demo, client, auth):
    with demo.app_context():
        a = _assignment(demo)
        url = f"/courses/{a.course.slug}/activities/{a.id}/edit"
    auth.login(TRAINER)
    base = {"title": "Scrap report for line 3", "completion_rule": "graded", "pass_mark": "50",
            "weight": "3", "required": "y", "type-instructions": "Write it.",
            "type-submit_text": "y", "type-submit_files": "y", "type-file_types": "csv, py",
            "type-max_file_mb": "2", "type-max_files": "3", "type-resubmission": "until_graded",
            "type-grading": "rubric", "type-max_score": "100",
            "type-rubric": "Cleaning: scripted\n- By hand | 0\n- Scripted | 4",
            "type-peer_review": "y", "type-peer_count": "1", "type-peer_weight": "20",
            "type-graders": ""}  # fmt: skip
    for changes, message in [
        ({"type-rubric": "Cleaning\n- By hand | -3"}, b"cannot be negative"),
        ({"type-rubric": "Cleaning"}, b"has no levels"),
        ({"type-file_types": "csv, exe"}, b"cannot be accepted"),
        ({"type-graders": "hr@globex.demo"}, b"not in a partner organization"),
    ]:
        page = client.post(url, data={**base, **changes})
        assert page.status_code == 400 and message in page.data, message
    with demo.app_context():
        assert len(_assignment(demo).rubric) == 3  # nothing of the refused edits was stored
    assert client.post(url, data={**base, "type-graders": "hr@acme.demo"}).status_code == 302
    with demo.app_context():
        a = _assignment(demo)
        assert [g.user.email for g in a.graders] == ["hr@acme.demo"] and len(a.rubric) == 1


def test_archive_carries_assignments_and_refuses_bad_rubrics(demo):
    import io
    import json
    import zipfile

    from courses.archive import ArchiveError, export_course, import_course
    from lms.domain.models import Course

    with demo.app_context():
        course = db.session.scalar(
            select(Course).where(Course.slug == "python-for-production-data")
        )
        data = export_course(course)
        members = dict((n, zipfile.ZipFile(io.BytesIO(data)).read(n))
                       for n in zipfile.ZipFile(io.BytesIO(data)).namelist())  # fmt: skip
        manifest = json.loads(members["manifest.json"])
        acts = [a for m in manifest["modules"] for a in m["activities"]]
        content = next(a for a in acts if a["type"] == "assignment")["content"]
        assert content["peer_review"] and len(content["rubric"]) == 3
        assert "submissions" not in json.dumps(content)  # learners' work never leaves
        content["rubric"][0]["levels"][1]["points"] = -2
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for name, blob in members.items():
                z.writestr(name, json.dumps(manifest) if name == "manifest.json" else blob)
        before = db.session.scalar(select(db.func.count(Assignment.id)))
        with pytest.raises(ArchiveError, match="cannot be negative"):
            import_course(out.getvalue(), course.partners[0].organization)
        db.session.rollback()
        assert db.session.scalar(select(db.func.count(Assignment.id))) == before
