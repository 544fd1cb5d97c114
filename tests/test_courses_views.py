"""Course pages through the client: authoring, structure, activities, learner pages, catalog."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from courses import structure
from lms.domain.models import Activity, Course, Module
from lms.domain.services import enrol_user
from lms.extensions import db
from lms.progress.models import ActivityCompletion
from tests.courses_factories import make_cluster, make_course, publish


@pytest.fixture
def c(app):
    with app.app_context():
        cluster = make_cluster()
        db.session.commit()
        yield cluster


def _course_form(c, **overrides):
    data = {
        "title": "Lean Basics",
        "slug": "",
        "summary": "Waste, flow and *5S*.",
        "level": "beginner",
        "estimated_hours": "6",
        "language": "en",
        "visibility": "partners",
        "completion_mode": "all",
        f"partner_{c.northfield.id}": "academic_lead",
        f"partner_{c.acme.id}": "industry_partner",
        f"partner_{c.globex.id}": "",
    }
    data.update(overrides)
    return data


def test_create_course_through_the_form(client, auth, c):
    auth.login("trainer@uni.demo")
    page = client.get("/courses/new")
    assert page.status_code == 200 and b"Partner organizations" in page.data
    response = client.post("/courses/new", data=_course_form(c, enrolment_key="secret-key"))
    assert response.status_code == 302
    course = db.session.scalar(select(Course).where(Course.slug == "lean-basics"))
    assert course.status == "draft" and course.created_by_id == c.uni_trainer.id
    assert {p.role for p in course.partners} == {"academic_lead", "industry_partner"}
    assert course.outcomes == []  # declared on the Outcomes page (tests/test_skills_authoring.py)
    assert course.enrolment_key_hash and "secret-key" not in course.enrolment_key_hash


def test_duplicate_slug_is_a_form_error_and_keeps_input(client, auth, c):
    make_course(c, title="Lean Basics")
    db.session.commit()
    auth.login("trainer@uni.demo")
    response = client.post(
        "/courses/new", data=_course_form(c, slug="lean-basics", title="Typed title")
    )
    assert response.status_code == 400
    assert "already used by another course" in response.get_data(as_text=True)
    assert b'value="Typed title"' in response.data
    assert db.session.scalar(select(func.count(Course.id))) == 1


def test_form_errors_for_bad_fields(client, auth, c):
    auth.login("trainer@uni.demo")
    data = _course_form(c, title="", estimated_hours="-3", slug="Bad Slug!")
    data[f"partner_{c.northfield.id}"] = ""
    data[f"partner_{c.acme.id}"] = ""
    response = client.post("/courses/new", data=data)
    assert response.status_code == 400
    assert b"There is a problem" in response.data and b"Enter a title." in response.data
    assert db.session.scalar(select(func.count(Course.id))) == 0


def test_learners_cannot_create_courses(client, auth, c):
    auth.login("student@uni.demo")
    assert client.get("/courses/new").status_code == 403
    assert client.post("/courses/new", data=_course_form(c)).status_code == 403


def test_editing_a_course_one_does_not_author(client, auth, c):
    course = make_course(c, partners=(("northfield", "academic_lead"),))
    db.session.commit()
    auth.login("trainer@acme.demo")
    # A draft of another organization is hidden entirely.
    assert client.get(f"/courses/{course.slug}/edit").status_code == 404
    response = client.post(f"/courses/{course.slug}/edit", data=_course_form(c, title="Hijacked"))
    assert response.status_code == 404
    module = course.modules[0]
    assert client.post(f"/courses/{course.slug}/modules/{module.id}/delete").status_code == 404
    publish(c, course)
    db.session.commit()
    # Published: visible to the Acme trainer? Not a partner course: hidden for non-partners.
    auth.logout()
    auth.login("employee@acme.demo")
    assert (
        client.post(f"/courses/{course.slug}/edit", data=_course_form(c, title="x")).status_code
        == 404
    )
    auth.logout()
    auth.login("student@uni.demo")  # sees the published course, may not edit it
    assert client.get(f"/courses/{course.slug}").status_code == 200
    assert (
        client.post(f"/courses/{course.slug}/edit", data=_course_form(c, title="x")).status_code
        == 403
    )
    db.session.expire_all()
    assert db.session.get(Course, course.id).title == "Statistics for Quality"
    assert db.session.scalar(select(func.count(Module.id))) == 1


def test_edit_course_withdraws_signoffs(client, auth, c):
    from courses.codesign import sign_off

    course = make_course(c)
    sign_off(course, c.acme, c.acme_trainer)
    db.session.commit()
    auth.login("trainer@uni.demo")
    form = client.get(f"/courses/{course.slug}/edit")
    assert b"Statistics for Quality" in form.data
    data = _course_form(c, title="Statistics for Quality", slug=course.slug, summary="Changed")
    response = client.post(f"/courses/{course.slug}/edit", data=data, follow_redirects=True)
    assert b"sign-offs were withdrawn" in response.data
    review = client.get(f"/courses/{course.slug}/review").get_data(as_text=True)
    assert "Withdrawn" in review and "Acme Manufacturing must look again" in review


def test_malicious_summary_renders_inert(client, auth, c):
    evil = (
        '<script>alert(1)</script><img src=x onerror="alert(2)">'
        "[click](javascript:alert(3)) <svg onload=alert(4)></svg>"
        '<a href="data:text/html;base64,PHNjcmlwdD4=">data</a><style>body{display:none}</style>'
    )
    course = make_course(c, summary=evil)
    publish(c, course)
    db.session.commit()
    auth.login("student@uni.demo")
    html = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    for bad in (
        "<script>alert",
        "onerror",
        "javascript:",
        "<svg onload",
        "data:text/html",
        "<style>",
    ):
        assert bad not in html


def test_structure_modules_and_reorder(client, auth, c):
    course = make_course(c, lessons=0)
    db.session.commit()
    auth.login("trainer@uni.demo")
    url = f"/courses/{course.slug}/structure"
    assert client.post(url, data={"title": ""}).status_code == 400
    assert client.post(url, data={"title": "Control charts"}).status_code == 302
    first, second = sorted(course.modules, key=lambda m: m.position)
    client.post(f"/courses/{course.slug}/modules/{second.id}/move", data={"direction": "up"})
    db.session.expire_all()
    ordered = db.session.scalars(select(Module.title).order_by(Module.position)).all()
    assert ordered == ["Control charts", "Basics"]
    page = client.get(url).get_data(as_text=True)
    assert page.index("Control charts") < page.index("Basics")
    response = client.post(
        f"/courses/{course.slug}/modules/{first.id}/edit", data={"title": "Basics 2"}
    )
    assert response.status_code == 302 and db.session.get(Module, first.id).title == "Basics 2"


def test_add_and_edit_a_lesson_activity(client, auth, c):
    course = make_course(c, lessons=0)
    db.session.commit()
    module = course.modules[0]
    auth.login("trainer@uni.demo")
    choice = client.get(f"/courses/{course.slug}/modules/{module.id}/activities/new")
    assert b"Add a lesson" in choice.data and b"Add a quiz" in choice.data
    form = client.get(f"/courses/{course.slug}/modules/{module.id}/activities/new?type=lesson")
    assert b'name="type-body"' in form.data
    response = client.post(
        f"/courses/{course.slug}/modules/{module.id}/activities/new",
        data={"type": "lesson", "title": "Control charts", "completion_rule": "viewed",
              "weight": "1", "required": "y", "type-body": "# Charts\n\nUCL and LCL."},
    )  # fmt: skip
    assert response.status_code == 302
    activity = db.session.scalar(select(Activity).where(Activity.title == "Control charts"))
    assert activity.type == "lesson" and activity.body.startswith("# Charts")
    edit = client.get(f"/courses/{course.slug}/activities/{activity.id}/edit")
    assert b"UCL and LCL." in edit.data and b"Revision history" in edit.data
    bad = client.post(
        f"/courses/{course.slug}/activities/{activity.id}/edit",
        data={"title": "Renamed", "completion_rule": "passed", "weight": "1", "type-body": "x"},
    )
    assert bad.status_code == 400  # a lesson cannot complete by "passed"
    db.session.expire_all()
    assert db.session.get(Activity, activity.id).title == "Control charts"


def test_reordering_activities_across_courses_is_refused(client, auth, c):
    course = make_course(c, lessons=2)
    other = make_course(c, title="Other", lessons=1)
    db.session.commit()
    auth.login("trainer@uni.demo")
    one, two = course.modules[0].activities
    client.post(f"/courses/{course.slug}/activities/{two.id}/move", data={"direction": "up"})
    db.session.expire_all()
    assert db.session.get(Activity, two.id).position == 0
    response = client.post(
        f"/courses/{course.slug}/activities/{one.id}/move", data={"module_id": other.modules[0].id}
    )
    assert response.status_code == 400
    assert "only move between modules of its own course" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Activity, one.id).module_id == course.modules[0].id


def test_conditions_through_the_edit_page(client, auth, c):
    course = make_course(c, lessons=2)
    db.session.commit()
    one, two = course.modules[0].activities
    auth.login("trainer@uni.demo")
    url = f"/courses/{course.slug}/activities/{two.id}/conditions"
    client.post(url, data={"kind": "grade", "required_activity_id": one.id, "min_grade": ""})
    assert db.session.get(Activity, two.id).conditions == []  # a grade needs a percentage
    client.post(url, data={"kind": "completed", "required_activity_id": one.id})
    db.session.expire_all()
    cond = db.session.get(Activity, two.id).conditions[0]
    assert cond.kind == "completed" and cond.required_activity_id == one.id
    client.post(f"/courses/{course.slug}/activities/{two.id}/conditions/{cond.id}/delete")
    db.session.expire_all()
    assert db.session.get(Activity, two.id).conditions == []


def test_activity_page_records_views_and_shows_locks(client, auth, c):
    course = make_course(c, lessons=2)
    one, two = course.modules[0].activities
    structure.add_condition(two, "completed", one)
    publish(c, course)
    enrol_user(c.student, course)
    db.session.commit()
    auth.login("student@uni.demo")
    locked = client.get(f"/courses/{course.slug}/activities/{two.id}").get_data(as_text=True)
    assert "Not open yet" in locked and "Complete “Lesson 1” first." in locked
    assert "Body of lesson 2" not in locked
    page = client.get(f"/courses/{course.slug}/activities/{one.id}").get_data(as_text=True)
    assert "Body of lesson 1" in page and "Lesson 2" in page  # side navigation and next link
    row = db.session.scalar(
        select(ActivityCompletion).where(ActivityCompletion.activity_id == one.id)
    )
    assert row.completed and row.viewed_at is not None
    opened = client.get(f"/courses/{course.slug}/activities/{two.id}").get_data(as_text=True)
    assert "Body of lesson 2" in opened and "Not open yet" not in opened
    overview = client.get(f"/courses/{course.slug}").get_data(as_text=True)
    assert "Continue" in overview and "Leave the course" in overview


def test_authors_preview_without_recording(client, auth, c):
    course = make_course(c, lessons=1)
    db.session.commit()
    activity = course.modules[0].activities[0]
    auth.login("trainer@acme.demo")
    page = client.get(f"/courses/{course.slug}/activities/{activity.id}?preview=1")
    assert page.status_code == 200 and b"Preview as a learner" in page.data
    assert db.session.scalar(select(func.count(ActivityCompletion.id))) == 0


def test_not_enrolled_learner_is_sent_to_the_overview(client, auth, c):
    course = publish(c, make_course(c, lessons=1))
    db.session.commit()
    auth.login("student@uni.demo")
    activity = course.modules[0].activities[0]
    response = client.get(f"/courses/{course.slug}/activities/{activity.id}")
    assert response.status_code == 302 and response.location.endswith(f"/courses/{course.slug}")
    assert client.get(f"/courses/{course.slug}/activities/999999").status_code == 404


def test_catalog_visibility_search_and_filters(client, auth, c):
    published = publish(c, make_course(c, title="Control Charts in Practice", skills=["SPC"]))
    publish(c, make_course(c, title="Warehouse KPIs", partners=(("globex", "industry_partner"),),
                           author=c.globex_trainer, skills=["Logistics"], visibility="cluster", summary="Pick rates."))  # fmt: skip
    publish(c, make_course(c, title="Globex Internal", partners=(("globex", "partner"),),
                           author=c.globex_trainer))  # fmt: skip
    make_course(c, title="Draft in Progress")
    db.session.commit()
    auth.login("student@uni.demo")
    html = client.get("/courses/").get_data(as_text=True)
    assert "Control Charts in Practice" in html and "Warehouse KPIs" in html
    assert "Globex Internal" not in html and "Draft in Progress" not in html
    assert "Showing 1–2 of 2" in html
    found = client.get("/courses/?q=control").get_data(as_text=True)
    assert "Control Charts in Practice" in found and "Warehouse KPIs" not in found
    by_skill = client.get("/courses/?skill=logistics").get_data(as_text=True)
    assert "Warehouse KPIs" in by_skill and "Control Charts" not in by_skill
    by_org = client.get("/courses/?org=acme&level=beginner&language=en").get_data(as_text=True)
    assert "Control Charts in Practice" in by_org and "Warehouse KPIs" not in by_org
    assert "No course matches" in client.get("/courses/?q=%25%25nothing").get_data(as_text=True)
    assert client.get(f"/courses/{published.slug}").status_code == 200
    draft = db.session.scalar(select(Course).where(Course.title == "Draft in Progress"))
    assert client.get(f"/courses/{draft.slug}").status_code == 404
    auth.logout()
    auth.login("trainer@uni.demo")  # authors see their drafts, tagged
    html = client.get("/courses/").get_data(as_text=True)
    assert "Draft in Progress" in html and "Draft</span>" in html


def test_catalog_pagination(client, auth, c):
    for i in range(14):
        publish(c, make_course(c, title=f"Course {i:02d}", lessons=1))
    db.session.commit()
    auth.login("student@uni.demo")
    first = client.get("/courses/").get_data(as_text=True)
    assert "Showing 1–12 of 14" in first and "Course 11" in first and "Course 12" not in first
    second = client.get("/courses/?page=2").get_data(as_text=True)
    assert "Showing 13–14 of 14" in second and "Course 13" in second


def test_authoring_list_and_dashboard_panel(client, auth, c):
    course = make_course(c, title="Awaiting Acme")
    from courses.codesign import sign_off, submit_for_review

    submit_for_review(course)
    sign_off(course, c.northfield, c.uni_trainer)
    db.session.commit()
    auth.login("trainer@acme.demo")
    html = client.get("/courses/authoring").get_data(as_text=True)
    assert "Awaiting Acme" in html and "1 of 2 signed" in html and "In review" in html
    dash = client.get("/dashboard").get_data(as_text=True)
    assert "Your courses" in dash and "Awaiting your sign-off for Acme Manufacturing" in dash
    nav = client.get("/courses/").get_data(as_text=True)
    assert ">Authoring</a>" in nav and ">Catalog</a>" in nav
    auth.logout()
    auth.login("student@uni.demo")
    assert client.get("/courses/authoring").status_code == 403
    assert ">Authoring</a>" not in client.get("/courses/").get_data(as_text=True)


def test_quiz_activity_keeps_the_common_pass_mark(client, auth, c):
    from courses.quiz.bank import import_bank

    course = make_course(c, lessons=0)
    import_bank(
        course,
        {"questions": [{"key": "q1", "type": "true_false", "prompt": "2 > 1?", "answer": True}]},
    )
    db.session.commit()
    module = course.modules[0]
    auth.login("trainer@uni.demo")
    form = client.get(f"/courses/{course.slug}/modules/{module.id}/activities/new?type=quiz")
    assert b'name="type-question_keys"' in form.data
    response = client.post(
        f"/courses/{course.slug}/modules/{module.id}/activities/new",
        data={"type": "quiz", "title": "Check", "completion_rule": "passed", "pass_mark": "80",
              "weight": "2", "required": "y", "type-course_id": str(course.id),
              "type-selection": "fixed", "type-question_keys": "q1", "type-feedback_mode": "score"},
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    quiz = db.session.scalar(select(Activity).where(Activity.title == "Check"))
    assert quiz.type == "quiz" and quiz.pass_mark == 80 and quiz.question_keys == ["q1"]
    bad = client.post(
        f"/courses/{course.slug}/activities/{quiz.id}/edit",
        data={"title": "Check", "completion_rule": "passed", "pass_mark": "80", "weight": "2",
              "type-course_id": str(course.id), "type-selection": "fixed",
              "type-question_keys": "q1, q404", "type-feedback_mode": "score"},
    )  # fmt: skip
    assert bad.status_code == 400 and "q404" in bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Activity, quiz.id).question_keys == ["q1"]


def test_completion_settings_on_the_course_form(client, auth, c):
    auth.login("trainer@uni.demo")
    missing = client.post("/courses/new", data=_course_form(c, completion_mode="n_of"))
    assert missing.status_code == 400 and b"how many required activities" in missing.data
    client.post(
        "/courses/new",
        data=_course_form(
            c, completion_mode="n_of", completion_count="3", completion_min_grade="70"
        ),
    )
    course = db.session.scalar(select(Course))
    assert (course.completion_mode, course.completion_count, course.completion_min_grade) == (
        "n_of",
        3,
        70,
    )


def _count_queries(app, fn) -> int:
    from sqlalchemy import event

    statements = []

    def count(*_args):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    # The test's app context shares its session with the requests: start from a cold identity
    # map so that every measurement loads the same things.
    db.session.expire_all()
    event.listen(engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_catalog_and_authoring_queries_do_not_grow_with_courses(app, client, auth, c):
    for i in range(2):
        publish(c, make_course(c, title=f"Small {i}", lessons=1))
    db.session.commit()
    auth.login("trainer@uni.demo")
    few = _count_queries(app, lambda: client.get("/courses/"))
    few_auth = _count_queries(app, lambda: client.get("/courses/authoring"))
    for i in range(8):
        publish(c, make_course(c, title=f"More {i}", lessons=1, skills=[f"Skill {i}"]))
    db.session.commit()
    many = _count_queries(app, lambda: client.get("/courses/"))
    many_auth = _count_queries(app, lambda: client.get("/courses/authoring"))
    assert many == few and many_auth == few_auth
