"""Authors declare outcomes on courses and on labs and quizzes; the catalog filters by skill and
the course page shows skills with levels and ESCO's attribution."""

from __future__ import annotations

from sqlalchemy import select

from lms.domain.models import Activity, Course
from lms.extensions import db
from lms.skills.models import Skill

COURSE = "python-for-production-data"
LEAN = "http://data.europa.eu/esco/skill/82fea746-853f-4f1b-8ab7-55de8619cccd"
PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"


def _course() -> Course:
    return db.session.scalar(select(Course).where(Course.slug == COURSE))


def _skill_id(uri: str) -> int:
    return db.session.scalar(select(Skill.id).where(Skill.uri == uri))


def test_trainer_adds_changes_and_removes_course_outcomes(demo, client, auth):
    auth.login("trainer@uni.demo")
    page = client.get(f"/courses/{COURSE}/outcomes?q=lean+manu").get_data(as_text=True)
    assert "Python (computer programming)" in page  # current outcomes
    assert "lean manufacturing" in page and "Add outcome" in page  # search result
    assert "ESCO classification" in page  # attribution next to ESCO labels
    with demo.app_context():
        lean, version = _skill_id(LEAN), _course().content_version
    url = f"/courses/{COURSE}/outcomes"
    assert client.post(url, data={"action": "add", "skill_id": lean, "level": 3}).status_code == 302
    with demo.app_context():
        course = _course()
        assert {(o.skill.uri, o.level) for o in course.outcomes} >= {(LEAN, 3)}
        assert course.content_version == version + 1  # partners sign off the change again
    client.post(url, data={"action": "level", "skill_id": lean, "level": 4})
    with demo.app_context():
        assert {o.skill.uri: o.level for o in _course().outcomes}[LEAN] == 4
    client.post(url, data={"action": "remove", "skill_id": lean})
    with demo.app_context():
        assert LEAN not in {o.skill.uri for o in _course().outcomes}


def test_bad_outcome_input_changes_nothing(demo, client, auth):
    auth.login("trainer@uni.demo")
    url = f"/courses/{COURSE}/outcomes"
    with demo.app_context():
        before = {(o.skill_id, o.level) for o in _course().outcomes}
        lean, python = _skill_id(LEAN), _skill_id(PYTHON)
    cases = [
        ({"action": "add", "skill_id": 999_999_999, "level": 2}, "does not exist"),
        ({"action": "add", "skill_id": "x", "level": 2}, "Choose a skill"),
        ({"action": "add", "skill_id": "99999999999999999999", "level": 2}, "Choose a skill"),
        ({"action": "add", "skill_id": "²", "level": 2}, "Choose a skill"),
        ({"action": "add", "skill_id": lean, "level": 9}, "Level 9 is not on the scale"),
        ({"action": "add", "skill_id": lean, "level": "high"}, "Choose a level"),
        ({"action": "add", "skill_id": python, "level": 1}, "already an outcome"),
        ({"action": "explode", "skill_id": lean}, "Choose what to do"),
    ]
    for data, message in cases:
        response = client.post(url, data=data, follow_redirects=True)
        assert response.status_code == 200 and message in response.get_data(as_text=True), data
    with demo.app_context():
        assert {(o.skill_id, o.level) for o in _course().outcomes} == before


def test_outcomes_of_labs_and_quizzes_but_not_lessons(demo, client, auth):
    auth.login("trainer@uni.demo")
    with demo.app_context():
        course = _course()
        by_type = {
            a.type: a.id
            for a in db.session.scalars(select(Activity).where(Activity.course_id == course.id))
        }
        python = _skill_id(PYTHON)
    quiz = f"/courses/{COURSE}/activities/{by_type['quiz']}/outcomes"
    assert "process data" in client.get(quiz).get_data(as_text=True)
    client.post(quiz, data={"action": "add", "skill_id": python, "level": 1})
    with demo.app_context():
        assert PYTHON in {o.skill.uri for o in db.session.get(Activity, by_type["quiz"]).outcomes}
    edit = client.get(f"/courses/{COURSE}/activities/{by_type['quiz']}/edit").get_data(as_text=True)
    assert "Outcomes (2)" in edit
    assert (
        client.get(f"/courses/{COURSE}/activities/{by_type['lesson']}/outcomes").status_code == 404
    )


def test_learners_cannot_edit_outcomes(demo, client, auth):
    auth.login("student@uni.demo")
    assert client.get(f"/courses/{COURSE}/outcomes").status_code in (403, 404)
    with demo.app_context():
        lean = _skill_id(LEAN)
    response = client.post(
        f"/courses/{COURSE}/outcomes", data={"action": "add", "skill_id": lean, "level": 2}
    )
    assert response.status_code in (403, 404)


def test_course_page_and_catalog_show_and_filter_by_skill(demo, client, auth):
    auth.login("student@uni.demo")
    overview = client.get(f"/courses/{COURSE}").get_data(as_text=True)
    assert "Skills you will develop" in overview and "Practitioner (level 2 of 4)" in overview
    assert "ESCO classification" in overview
    with demo.app_context():
        python = _skill_id(PYTHON)
    catalog = client.get(f"/courses/?skill={python}").get_data(as_text=True)
    assert "Python for Production Data" in catalog and "Quality Management" not in catalog
    for odd in ("99999999999999999999", "%C2%B2", "-1", "lean"):
        assert client.get(f"/courses/?skill={odd}").status_code == 200
