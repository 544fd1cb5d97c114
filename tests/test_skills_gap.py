"""Skill profiles with evidence, job-role demand, the gap and closing it (issue 10, part B)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from lms.domain.models import Activity, Course, CourseStatus
from lms.extensions import db
from lms.models import Organization, User
from lms.progress.models import Program, ProgramAssignment
from lms.progress.services import override_activity_completion
from lms.skills.gap import GapFilters, gap_rows
from lms.skills.gap_models import EvidenceKind, JobRole, RoleSkill, SkillEvidence
from lms.skills.models import CourseOutcome
from lms.skills.supply import assess_self, skill_profile, validate_skill
from lms.timeutil import utcnow


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _org(slug: str) -> Organization:
    return db.session.scalar(select(Organization).where(Organization.slug == slug))


def _without_demo_demand() -> None:
    """Drop the demand the demo's cluster history seeds, so a test sees only its own roles."""
    from sqlalchemy import delete

    db.session.execute(delete(RoleSkill))
    db.session.execute(delete(JobRole))
    db.session.commit()


def _course_with_outcome() -> tuple[Course, CourseOutcome]:
    """A published demo course with an outcome, and that outcome."""
    outcome = db.session.scalars(
        select(CourseOutcome)
        .join(Course, Course.id == CourseOutcome.course_id)
        .where(Course.status == CourseStatus.PUBLISHED)
        .order_by(CourseOutcome.course_id, CourseOutcome.level.desc())
    ).first()
    return db.session.get(Course, outcome.course_id), outcome


def _complete(user: User, course: Course, by: User) -> None:
    for activity in db.session.scalars(select(Activity).where(Activity.course_id == course.id)):
        override_activity_completion(user, activity, True, by, "Shown in the workshop")


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_completion_earns_evidence_and_precedence(demo):
    """Completing a course earns its outcomes at once; a validation outranks it; a self-assessment
    never counts."""
    with demo.app_context():
        marco, trainer = _user("employee@acme.demo"), _user("trainer@acme.demo")
        course, outcome = _course_with_outcome()
        _complete(marco, course, trainer)
        rows = db.session.scalars(
            select(SkillEvidence).where(
                SkillEvidence.user_id == marco.id, SkillEvidence.kind == EvidenceKind.COURSE
            )
        ).all()
        assert {r.skill_id for r in rows} >= {outcome.skill_id}
        profile = {p.skill_id: p for p in skill_profile(marco.id)}
        assert profile[outcome.skill_id].level == outcome.level
        assert profile[outcome.skill_id].basis == "earned"

        skill = outcome.skill
        assess_self(marco, skill, 4)
        validate_skill(marco, skill, 1, trainer, "Needs supervision on real data")
        item = {p.skill_id: p for p in skill_profile(marco.id)}[outcome.skill_id]
        assert (item.level, item.basis, item.self_level) == (1, "validated", 4)
        kinds = [e["kind"] for e in item.evidence]
        assert set(kinds[:2]) == {"self", "validation"}  # newest first
        assert "course" in kinds[2:]
        db.session.rollback()


def test_expired_recertification_lowers_the_level(demo):
    with demo.app_context():
        marco = _user("employee@acme.demo")
        _, outcome = _course_with_outcome()
        now = utcnow()
        db.session.add(
            SkillEvidence(
                user_id=marco.id,
                skill_id=outcome.skill_id,
                kind=EvidenceKind.COURSE,
                level=3,
                earned_at=now - timedelta(days=400),
                expires_at=now - timedelta(days=35),
            )
        )
        db.session.flush()
        item = {p.skill_id: p for p in skill_profile(marco.id, now)}[outcome.skill_id]
        assert item.level is None and item.evidence[0]["lapsed"]
        assert item.level is None
        earlier = {p.skill_id: p for p in skill_profile(marco.id, now - timedelta(days=40))}
        assert earlier[outcome.skill_id].level == 3
        db.session.rollback()


def test_validation_bad_input(demo):
    with demo.app_context():
        marco, trainer = _user("employee@acme.demo"), _user("trainer@acme.demo")
        _, outcome = _course_with_outcome()
        from lms.errors import DomainError

        def validations() -> int:  # the demo's placements already hold mentor validations
            return db.session.scalar(
                select(func.count(SkillEvidence.id)).where(
                    SkillEvidence.kind == EvidenceKind.VALIDATION
                )
            )

        before = validations()
        with pytest.raises(DomainError, match="levels of this skill's scale"):
            validate_skill(marco, outcome.skill, 9, trainer, "x")
        with pytest.raises(DomainError, match="what you saw"):
            validate_skill(marco, outcome.skill, 2, trainer, "  ")
        assert validations() == before


def test_profile_on_my_learning_and_transcript(demo, client, auth):
    with demo.app_context():
        marco, trainer = _user("employee@acme.demo"), _user("trainer@acme.demo")
        course, outcome = _course_with_outcome()
        _complete(marco, course, trainer)
        label = outcome.skill.preferred_label
        db.session.commit()
        marco_id = marco.id
    auth.login("employee@acme.demo")
    page = client.get("/learning").get_data(as_text=True)
    assert "My skills" in page and label in page and "Course completed" in page
    auth.logout()
    auth.login("hr@acme.demo")
    page = client.get(f"/hr/acme/employees/{marco_id}").get_data(as_text=True)
    assert label in page and "Course completed" in page


def test_trainer_validates_and_learner_self_assesses(demo, client, auth):
    with demo.app_context():
        marco_id = _user("employee@acme.demo").id
        _, outcome = _course_with_outcome()
        skill_id, label = outcome.skill_id, outcome.skill.preferred_label
    auth.login("trainer@acme.demo")
    html = client.get(f"/skills/people/{marco_id}").get_data(as_text=True)
    bad = client.post(
        f"/skills/people/{marco_id}",
        data={"csrf_token": _csrf(html), "skill_id": skill_id, "level": "2", "comment": ""},
    )
    assert bad.status_code == 400 and "Say what you saw" in bad.get_data(as_text=True)
    ok = client.post(
        f"/skills/people/{marco_id}",
        data={
            "csrf_token": _csrf(html),
            "skill_id": skill_id,
            "level": "2",
            "comment": "Led the audit",
        },
        follow_redirects=True,
    )
    assert "Led the audit" in ok.get_data(as_text=True)
    auth.logout()
    auth.login("trainer@globex.demo")  # not a trainer of Marco's organization
    assert client.get(f"/skills/people/{marco_id}").status_code == 404
    auth.logout()
    auth.login("employee@acme.demo")
    html = client.get("/skills/me").get_data(as_text=True)
    client.post("/skills/me", data={"csrf_token": _csrf(html), "skill_id": skill_id, "level": "4"})
    page = client.get("/skills/me").get_data(as_text=True)
    assert label in page and "(not counted)" in page and "Validated" in page


def _post_role(client, **fields):
    html = client.get("/hr/acme/skills/demand/new").get_data(as_text=True)
    data = {"csrf_token": _csrf(html), "action": "save", **fields}
    return client.post("/hr/acme/skills/demand/new", data=data)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"headcount": "-2"}, "1 or more"),
        ({"needed_by": "2001-01-01"}, "in the past"),
        ({"description": "x" * 1_000_000}, "characters long"),
        ({"candidate": "999999", "keep_999999": "1"}, "Unknown skill id: 999999"),
        ({"level_S": "9"}, "outside the scale"),
    ],
)
def test_role_bad_input_writes_nothing(demo, client, auth, fields, message):
    with demo.app_context():
        _, outcome = _course_with_outcome()
        skill_id = outcome.skill_id
        roles_before = db.session.scalar(select(func.count(JobRole.id)))  # the demo's own roles
    auth.login("hr@acme.demo")
    base = {
        "title": "Quality data analyst",
        "headcount": "3",
        "needed_by": (date.today() + timedelta(days=120)).isoformat(),
        "candidate": str(skill_id),
        f"keep_{skill_id}": "1",
        f"level_{skill_id}": "2",
    }
    if "level_S" in fields:
        fields = {f"level_{skill_id}": fields["level_S"]}
    response = _post_role(client, **{**base, **fields})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with demo.app_context():
        assert db.session.scalar(select(func.count(JobRole.id))) == roles_before


def test_unknown_skill_id_is_named(demo):
    from lms.skills.demand import RoleData, save_job_role
    from lms.skills.services import SkillError

    with demo.app_context(), pytest.raises(SkillError, match="Unknown skill id: 987654"):
        save_job_role(
            _org("acme"),
            RoleData("Analyst", 2, date.today() + timedelta(days=9), skills=[(987654, 2)]),
            None,
            date.today(),
        )


def test_suggest_confirm_gap_and_close_it(demo, client, auth):
    """The HR journey without a browser: suggest, confirm, see the gap, assign a program; the API
    and the page agree."""
    with demo.app_context():
        _without_demo_demand()
        course, outcome = _course_with_outcome()
        skill_id, level, label = outcome.skill_id, outcome.level, outcome.skill.preferred_label
        course_id, course_title = course.id, course.title
        lena = _user("employee2@acme.demo")
        lena_id = lena.id
        validate_skill(lena, outcome.skill, level, _user("trainer@acme.demo"), "Seen at work")
        db.session.commit()
    auth.login("hr@acme.demo")
    html = client.get("/hr/acme/skills/demand/new").get_data(as_text=True)
    needed = (date.today() + timedelta(days=200)).isoformat()
    suggested = client.post(
        "/hr/acme/skills/demand/new",
        data={
            "csrf_token": _csrf(html),
            "action": "suggest",
            "title": "Quality data analyst",
            "headcount": "4",
            "needed_by": needed,
            "description": f"We need someone strong in {label} for our plant.",
        },
    ).get_data(as_text=True)
    assert label in suggested and f'name="keep_{skill_id}" value="1" checked' in suggested
    saved = client.post(
        "/hr/acme/skills/demand/new",
        data={
            "csrf_token": _csrf(html),
            "action": "save",
            "title": "Quality data analyst",
            "headcount": "4",
            "needed_by": needed,
            "candidate": str(skill_id),
            f"keep_{skill_id}": "1",
            f"level_{skill_id}": str(level),
        },
    )
    assert saved.status_code == 302
    with demo.app_context():
        rows = gap_rows(_org("acme").id, GapFilters())
        row = next(r for r in rows if r.skill_id == skill_id)
        assert row.demand == 4 and row.supply >= 1  # Lena, validated, at least
        assert row.gap == max(0, row.demand - row.supply - row.pipeline)
    page = client.get("/hr/acme/skills/gap").get_data(as_text=True)
    assert label in page
    csv = client.get("/hr/acme/skills/gap.csv").get_data(as_text=True)
    assert f"{label}" in csv.splitlines()[1] or label in csv
    assert client.get("/hr/acme/skills/gap.xlsx").status_code == 200
    detail = client.get(f"/hr/acme/skills/gap/{skill_id}/{level}").get_data(as_text=True)
    assert course_title in detail
    assert "Marco Rossi" in detail and "Lena Vogel" not in detail  # Lena already holds it
    with demo.app_context():
        marco_id = _user("employee@acme.demo").id
    done = client.post(
        f"/hr/acme/skills/gap/{skill_id}/{level}",
        data={"csrf_token": _csrf(detail), "course_ids": [course_id], "user_ids": [marco_id]},
    )
    assert done.status_code == 302
    with demo.app_context():
        program = db.session.scalar(select(Program).order_by(Program.id.desc()))
        assert program.due_date.date().isoformat() == needed
        assignment = db.session.scalar(
            select(ProgramAssignment).where(ProgramAssignment.program_id == program.id)
        )
        assert assignment.user_id == marco_id and lena_id != marco_id
    # HR of another organization sees nothing of it.
    auth.logout()
    auth.login("hr@globex.demo")
    assert client.get("/hr/acme/skills/gap").status_code == 404


def test_gap_query_count_is_constant(demo):
    with demo.app_context():
        _without_demo_demand()
        _, outcome = _course_with_outcome()
        acme = _org("acme")
        db.session.add(
            JobRole(
                organization_id=acme.id,
                title="Analyst",
                headcount=2,
                needed_by=date.today() + timedelta(days=30),
                skills=[],
            )
        )
        db.session.flush()
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            gap_rows(acme.id, GapFilters())
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 1
        db.session.rollback()


def test_api_returns_the_same_figures_as_the_page(demo, client, auth):
    """GET /api/v1/skills/gaps and the HR page come from gap_rows: same rows, same numbers."""
    from lms.api.tokens import create_token
    from lms.skills.demand import RoleData, save_job_role

    with demo.app_context():
        _without_demo_demand()
        acme, hr = _org("acme"), _user("hr@acme.demo")
        outcomes = db.session.scalars(select(CourseOutcome).limit(3)).all()
        pairs = list({o.skill_id: (o.skill_id, o.level) for o in outcomes}.values())
        save_job_role(
            acme,
            RoleData("Data steward", 6, date.today() + timedelta(days=60), skills=pairs),
            hr,
            date.today(),
        )
        _, secret = create_token(acme, "BI sync", hr)
        db.session.commit()
    first = client.get(
        "/api/v1/skills/gaps?limit=1", headers={"Authorization": f"Bearer {secret}"}
    ).get_json()
    assert first["total"] == len(pairs) and len(first["data"]) == 1
    rest = client.get(
        f"/api/v1/skills/gaps?limit=10&cursor={first['next_cursor']}",
        headers={"Authorization": f"Bearer {secret}"},
    ).get_json()
    api_rows = first["data"] + rest["data"]
    auth.login("hr@acme.demo")
    page = client.get("/hr/acme/skills/gap").get_data(as_text=True)
    shown = re.findall(r'data-gap="([\d-]+)"', page)
    from_api = [
        f"{r['skill_id']}-{r['level']}-{r['demand']}-{r['supply']}-{r['pipeline']}-{r['gap']}"
        for r in api_rows
    ]
    assert shown == from_api  # same rows, same figures, same order (largest gap first)
    bad = client.get("/api/v1/skills/gaps?sort=nope", headers={"Authorization": f"Bearer {secret}"})
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def _regional_csv(uri: str, **override) -> bytes:
    row = {
        "region": "North Valley labour office",
        "role": "Quality data analyst",
        "skill_uri": uri,
        "level": "proficient",
        "headcount": "12",
        "needed_by": (date.today() + timedelta(days=300)).isoformat(),
        **override,
    }
    header = "region,role,skill_uri,level,headcount,needed_by\n"
    return (header + ",".join(row.values()) + "\n").encode()


def test_cluster_admin_imports_regional_demand(demo, client, auth):
    import io

    with demo.app_context():
        _without_demo_demand()
        _, outcome = _course_with_outcome()
        uri = outcome.skill.uri
    auth.login("admin@cluster.demo")
    html = client.get("/skills/cluster/").get_data(as_text=True)
    for override, message in [
        ({"headcount": "-3"}, "Line 2: headcount must be 1 or more"),
        ({"needed_by": "2001-02-03"}, "Line 2: needed_by 2001-02-03 is in the past"),
        ({"level": "wizard"}, "outside the skill"),
        ({"skill_uri": "http://example.org/nope"}, "unknown skill URI"),
    ]:
        response = client.post(
            "/skills/cluster/",
            data={
                "csrf_token": _csrf(html),
                "file": (io.BytesIO(_regional_csv(uri, **override)), "d.csv"),
            },
        )
        assert message in response.get_data(as_text=True)
    missing = client.post(
        "/skills/cluster/",
        data={"csrf_token": _csrf(html), "file": (io.BytesIO(b"region,role\nx,y\n"), "d.csv")},
    )
    assert "no skill_uri, level, headcount, needed_by column" in missing.get_data(as_text=True)
    with demo.app_context():
        assert db.session.scalar(select(func.count(JobRole.id))) == 0
    for _ in range(2):  # idempotent
        done = client.post(
            "/skills/cluster/",
            data={"csrf_token": _csrf(html), "file": (io.BytesIO(_regional_csv(uri)), "d.csv")},
            follow_redirects=True,
        )
        assert "Imported 1 regional role" in done.get_data(as_text=True)
    with demo.app_context():
        assert db.session.scalar(select(func.count(JobRole.id))) == 1
        row = next(r for r in gap_rows(None, GapFilters()) if r.uri == uri)
        assert row.demand == 12
    auth.logout()
    auth.login("hr@acme.demo")
    assert client.get("/skills/cluster/").status_code == 403


def test_uncovered_demand_starts_a_codesign_request(demo, client, auth):
    """A skill no published course reaches is listed; a university trainer starts a draft course
    with it as outcome and the demanding enterprise invited as partner."""
    from lms.domain.models import CoursePartner
    from lms.skills.demand import RoleData, save_job_role
    from lms.skills.models import Skill, SkillKind

    with demo.app_context():
        covered = select(CourseOutcome.skill_id)
        skill = db.session.scalar(
            select(Skill)
            .where(Skill.kind == SkillKind.SKILL, Skill.id.not_in(covered))
            .order_by(Skill.id)
        )
        acme = _org("acme")
        save_job_role(
            acme,
            RoleData(
                "Robot cell operator", 2, date.today() + timedelta(days=90), skills=[(skill.id, 3)]
            ),
            None,
            date.today(),
        )
        db.session.commit()
        skill_id, label, acme_id = skill.id, skill.preferred_label, acme.id
    auth.login("trainer@uni.demo")
    page = client.get("/courses/uncovered-demand").get_data(as_text=True)
    assert label in page and "Acme" in page
    empty = client.post("/courses/uncovered-demand", data={"csrf_token": _csrf(page)})
    assert "Tick the demanded skills" in empty.get_data(as_text=True)
    lead = re.search(r'name="lead_org"><option value="(\d+)"', page).group(1)
    done = client.post(
        "/courses/uncovered-demand",
        data={"csrf_token": _csrf(page), "pick": f"{acme_id}-{skill_id}-3", "lead_org": lead},
    )
    assert done.status_code == 302
    with demo.app_context():
        course = db.session.scalar(select(Course).order_by(Course.id.desc()))
        assert course.status == CourseStatus.DRAFT
        assert {(o.skill_id, o.level) for o in course.outcomes} == {(skill_id, 3)}
        partners = set(
            db.session.scalars(
                select(CoursePartner.organization_id).where(CoursePartner.course_id == course.id)
            )
        )
        assert partners == {int(lead), acme_id}
    auth.logout()
    auth.login("employee@acme.demo")
    assert client.get("/courses/uncovered-demand").status_code == 403


def test_gap_chart_geometry():
    """Pure: bars as long as their demand on one scale, split supply / pipeline / gap, supply
    above demand capped, largest gaps first, at most CHART_ROWS bars."""
    from lms.skills.charts import BAR_WIDTH, CHART_ROWS, LABEL_WIDTH, gap_chart
    from lms.skills.gap import GapRow

    def row(i, demand, supply, pipeline):
        return GapRow(i, f"urn:{i}", f"Skill {i} " + "with a rather long label " * 4, 2,
                      "practitioner", date(2027, 6, 30), demand, supply, pipeline)  # fmt: skip

    rows = [row(1, 10, 2, 3), row(2, 4, 9, 0), row(3, 20, 0, 0)]
    rows += [row(10 + i, 1, 0, 0) for i in range(12)]
    chart = gap_chart(rows)
    assert len(chart.bars) == CHART_ROWS
    assert [b.row.skill_id for b in chart.bars[:2]] == [3, 1]  # gap 20, then gap 5
    first, second = chart.bars[0], chart.bars[1]
    assert [s.kind for s in first.segments] == ["gap"] and first.segments[0].width == BAR_WIDTH
    assert [(s.kind, s.people) for s in second.segments] == [
        ("supply", 2),
        ("pipeline", 3),
        ("gap", 5),
    ]
    assert second.segments[0].x == LABEL_WIDTH
    assert sum(s.width for s in second.segments) == pytest.approx(BAR_WIDTH / 2)
    assert second.label.endswith("…") and "rather long label" in second.title
    covered = gap_chart([row(2, 4, 9, 0)]).bars[0]  # more qualified people than needed
    assert [(s.kind, s.people) for s in covered.segments] == [("supply", 4)]
    assert gap_chart([]).bars == ()


def test_gap_pages_show_an_accessible_svg_chart(demo, client, auth):
    """The HR and the cluster gap pages draw the chart on the server: SVG with a title and a
    description, no script, next to the table."""
    with demo.app_context():
        _without_demo_demand()
        _, outcome = _course_with_outcome()
        label = outcome.skill.preferred_label
        db.session.add(
            JobRole(organization_id=_org("acme").id, title="Line analyst", headcount=3,
                    needed_by=date.today() + timedelta(days=90),
                    skills=[RoleSkill(skill_id=outcome.skill_id, level=outcome.level)])
        )  # fmt: skip
        db.session.commit()
    auth.login("hr@acme.demo")
    page = client.get("/hr/acme/skills/gap").get_data(as_text=True)
    svg = page[page.index('<svg class="gap-chart"') : page.index("</svg>", page.index("gap-chart"))]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg and label in svg
    assert 'class="seg seg--' in svg and "<script" not in page.split("<main", 1)[-1]
    assert page.index('class="gap-chart"') < page.index('id="gap-table"')
    auth.logout()
    auth.login("admin@cluster.demo")
    cluster = client.get("/skills/cluster/").get_data(as_text=True)
    assert 'id="cluster-gap-chart"' in cluster and "3 needed" in cluster


def test_seed_scale_adds_skill_profiles_and_demand(app, runner):
    """``lms seed-scale`` runs the skills scale step: evidence for every employee (20 skills
    each), outcomes on the scale courses and 50 organizations' demand; the gap has figures."""
    result = runner.invoke(args=["lms", "seed-scale", "--learners", "12"])
    assert result.exit_code == 0, result.output
    assert "240 skill_evidence" in result.output and "250 job_roles" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Organization.id))) == 50
        rows = gap_rows(_org("scale-1").id, GapFilters())
        assert rows and sum(r.demand for r in rows) > 0
        assert any(r.supply for r in gap_rows(None, GapFilters()))
    again = runner.invoke(args=["lms", "seed-scale", "--learners", "12"])
    assert again.exit_code != 0 and "already holds a scale cluster" in again.output
