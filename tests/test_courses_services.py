"""Course services: creation, slugs, skills, co-design sign-off, structure, restrict access."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from courses import codesign, services, structure
from lms.domain.access import Condition, course_locks, lock_reasons
from lms.domain.models import Activity, Course, CourseSignoff, Module
from lms.domain.services import mark_course_edited
from lms.errors import Conflict, DomainError, NotAllowed
from lms.extensions import db
from lms.skills.models import Skill
from tests.courses_factories import make_cluster, make_course, publish


@pytest.fixture
def c(app):
    with app.app_context():
        cluster = make_cluster()
        db.session.commit()
        yield cluster


# --- slugs and skills ----------------------------------------------------------------------------
def test_slugify_and_skills():
    assert services.slugify("Qualität & Statistik: Teil 2!") == "qualitat-statistik-teil-2"
    assert services.slugify("!!!") == "course"
    assert services.parse_skills(" Python, pandas ,python,, Data  cleaning ") == [
        "Python",
        "pandas",
        "Data cleaning",
    ]


def test_create_course_generates_slug_and_reuses_skills(c):
    first = make_course(c, title="Lean Basics", skills=["Lean", "5S"])
    second = make_course(c, title="Lean Basics Advanced", skills=["lean", "Kaizen"])
    assert first.slug == "lean-basics" and first.status == "draft"
    assert {s.preferred_label for s in second.skills} == {"Lean", "Kaizen"}
    assert db.session.scalar(select(func.count(Skill.id))) == 3
    assert first.partner_org_ids == {c.northfield.id, c.acme.id}


def test_duplicate_and_reserved_slugs_are_refused(c):
    make_course(c, title="Lean Basics")
    data = services.CourseData(
        title="Other", slug="lean-basics", partners=[(c.northfield.id, "partner")]
    )
    with pytest.raises(Conflict) as exc:
        services.create_course(data, c.uni_trainer)
    assert exc.value.field == "slug" and "already used" in exc.value.message
    data.slug = "authoring"
    with pytest.raises(Conflict):
        services.create_course(data, c.uni_trainer)
    data.slug = "Bad Slug"
    with pytest.raises(DomainError):
        services.create_course(data, c.uni_trainer)
    assert services.unique_slug("Lean Basics") == "lean-basics-2"


def test_author_must_include_own_organization(c):
    data = services.CourseData(title="Not mine", partners=[(c.globex.id, "partner")])
    with pytest.raises(DomainError) as exc:
        services.create_course(data, c.uni_trainer)
    assert exc.value.field == "partners"


# --- co-design -----------------------------------------------------------------------------------
def test_publish_needs_a_current_signoff_from_every_partner(c):
    course = make_course(c)
    codesign.submit_for_review(course)
    codesign.sign_off(course, c.northfield, c.uni_trainer, "Looks right")
    with pytest.raises(DomainError) as exc:
        codesign.publish_course(course)
    assert "Acme Manufacturing" in exc.value.message and course.status == "in_review"
    codesign.sign_off(course, c.acme, c.acme_trainer)
    codesign.publish_course(course)
    assert course.status == "published" and course.published_at is not None


def test_signoff_only_for_own_partner_organization(c):
    course = make_course(c)
    with pytest.raises(NotAllowed):
        codesign.sign_off(course, c.acme, c.uni_trainer)
    with pytest.raises(DomainError):
        codesign.sign_off(course, c.globex, c.globex_trainer)  # not a partner
    codesign.sign_off(course, c.acme, c.acme_admin)  # org admins sign off too
    with pytest.raises(Conflict):
        codesign.sign_off(course, c.acme, c.acme_trainer)  # already signed this version


def test_edit_after_signoff_withdraws_it(c):
    course = make_course(c)
    codesign.submit_for_review(course)
    codesign.sign_off(course, c.northfield, c.uni_trainer)
    codesign.sign_off(course, c.acme, c.acme_trainer)
    version = course.content_version
    structure.add_module(course, "Control charts")  # any content edit
    assert course.content_version == version + 1
    review = {r.partner.organization.slug: r for r in codesign.review_state(course)}
    assert review["acme"].current is None and review["acme"].state == "withdrawn"
    assert all(s.withdrawn_at is not None for s in course.signoffs)
    with pytest.raises(DomainError):
        codesign.publish_course(course)
    # Signing again is possible and counts for the new version; history keeps both.
    codesign.sign_off(course, c.acme, c.acme_trainer)
    assert len(review_history := codesign.review_state(course)[1].history) == 2
    assert review_history[0].content_version == version + 1


def test_update_course_bumps_version_only_on_change(c):
    course = make_course(c)
    codesign.sign_off(course, c.acme, c.acme_trainer)
    data = services.CourseData(**{
        **{k: v for k, v in services.course_data_from(course).items() if k != "skills"},
        "skills": [s.preferred_label for s in course.skills],
        "partners": [(p.organization_id, p.role) for p in course.partners],
    })  # fmt: skip
    version = course.content_version
    assert services.update_course(course, data, c.uni_trainer) is False
    assert course.content_version == version
    data.summary = "A new summary"
    assert services.update_course(course, data, c.uni_trainer) is True
    assert course.content_version == version + 1
    assert db.session.scalar(select(CourseSignoff.withdrawn_at)) is not None


def test_mark_course_edited_is_the_shared_entry_point(c):
    course = make_course(c)
    codesign.sign_off(course, c.northfield, c.uni_trainer)
    db.session.commit()
    assert mark_course_edited(course) == course.content_version
    db.session.commit()
    assert codesign.missing_signoffs(course) == [c.northfield, c.acme]


def test_lifecycle_guards(c):
    course = make_course(c, lessons=0)
    with pytest.raises(DomainError):
        codesign.submit_for_review(course)  # nothing to review yet
    with pytest.raises(DomainError):
        codesign.publish_course(course)  # drafts are submitted first
    with pytest.raises(DomainError):
        codesign.archive_course(course)
    publish(c, make_course(c, title="Other"))


# --- structure -----------------------------------------------------------------------------------
def test_module_reorder_keeps_positions_dense(c):
    course = make_course(c, lessons=0)
    a = course.modules[0]
    b = structure.add_module(course, "Second")
    d = structure.add_module(course, "Third")
    assert structure.move_module(d, "up") is True
    assert [m.title for m in sorted(course.modules, key=lambda m: m.position)] == [
        "Basics",
        "Third",
        "Second",
    ]
    assert structure.move_module(a, "up") is False  # already first
    structure.delete_module(a)
    assert sorted(m.position for m in course.modules) == [0, 1]
    with pytest.raises(DomainError):
        structure.move_module(b, "sideways")


def test_activities_reorder_and_move_within_course_only(c):
    course = make_course(c, lessons=3)
    other = make_course(c, title="Other course", lessons=1)
    first, second, third = course.modules[0].activities
    structure.move_activity(third, "up")
    assert [a.title for a in sorted(course.modules[0].activities, key=lambda a: a.position)] == [
        "Lesson 1", "Lesson 3", "Lesson 2",
    ]  # fmt: skip
    target = structure.add_module(course, "Later")
    structure.move_activity_to_module(first, target)
    assert first.module_id == target.id and first.position == 0
    assert sorted(a.position for a in course.modules[0].activities) == [0, 1]
    with pytest.raises(DomainError) as exc:
        structure.move_activity_to_module(second, other.modules[0])
    assert "its own course" in exc.value.message
    assert second.module_id == course.modules[0].id


def test_activity_common_fields_are_validated(c):
    course = make_course(c, lessons=0)
    module = course.modules[0]
    with pytest.raises(DomainError) as exc:
        structure.add_activity(
            module,
            "lesson",
            structure.ActivityData(title="X", completion_rule="passed"),
            c.uni_trainer,
        )
    assert exc.value.field == "completion_rule"
    with pytest.raises(DomainError):
        structure.add_activity(module, "nope", structure.ActivityData(title="X"), c.uni_trainer)
    with pytest.raises(DomainError):
        structure.add_activity(module, "lesson", structure.ActivityData(title=" "), c.uni_trainer)


def test_conditions_same_course_and_no_cycles(c):
    course = make_course(c, lessons=2)
    other = make_course(c, title="Other course", lessons=1)
    one, two = course.modules[0].activities
    structure.add_condition(two, "completed", one)
    with pytest.raises(DomainError):
        structure.add_condition(one, "completed", two)  # a cycle would lock both
    with pytest.raises(DomainError):
        structure.add_condition(two, "completed", other.modules[0].activities[0])
    with pytest.raises(DomainError):
        structure.add_condition(two, "grade", one, None)
    with pytest.raises(DomainError):
        structure.add_condition(one, "completed", one)


# --- restrict access: pure evaluation ------------------------------------------------------------
NOW = datetime(2026, 3, 1, 12, 0)


def _state(completed=False, grade=None):
    return SimpleNamespace(completed=completed, grade=grade)


def test_lock_reasons_date_completion_and_grade():
    titles = {1: "Intro", 2: "Quiz"}
    conds = [Condition("completed", 1), Condition("grade", 2, 70.0)]
    reasons = lock_reasons(NOW + timedelta(days=1), conds, {}, titles, NOW)
    assert reasons[0].startswith("Opens on 02 Mar 2026")
    assert "Complete “Intro” first." in reasons
    assert "Reach a grade of at least 70% in “Quiz”." in reasons
    states = {1: _state(True), 2: _state(True, 69.5)}
    assert lock_reasons(NOW - timedelta(days=1), conds, states, titles, NOW) == [
        "Reach a grade of at least 70% in “Quiz”."
    ]
    states[2] = _state(False, 70.0)  # the grade counts even if the activity is not "completed"
    assert lock_reasons(None, conds, states, titles, NOW) == []
    assert lock_reasons(None, [Condition("weird", 1)], states, titles, NOW) == [
        "An unknown access condition applies."
    ]


def test_course_locks_over_activity_rows(c):
    course = make_course(c, lessons=2)
    one, two = course.modules[0].activities
    structure.add_condition(two, "completed", one)
    one.available_from = NOW + timedelta(hours=1)
    locks = course_locks([one, two], {}, NOW)
    assert set(locks) == {one.id, two.id}
    locks = course_locks([one, two], {one.id: _state(True)}, NOW + timedelta(hours=2))
    assert locks == {}


def test_delete_activity_cascades_conditions(c):
    course = make_course(c, lessons=2)
    one, two = course.modules[0].activities
    structure.add_condition(two, "completed", one)
    db.session.commit()
    structure.delete_activity(one)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Activity, two.id).conditions == []
    assert db.session.scalar(select(func.count(Module.id))) == 1
    assert db.session.get(Course, course.id).content_version > 1
