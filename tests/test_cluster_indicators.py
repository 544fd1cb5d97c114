"""Cluster indicators: figures, privacy, targets, snapshots; the page, CLI and API agree."""

from __future__ import annotations

import json
import re

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import event, func, select

from lms.cluster.indicators import SUPPRESSED, Viewer, indicator_report
from lms.cluster.models import IndicatorSnapshot, IndicatorTarget
from lms.cluster.periods import parse_period
from lms.errors import DomainError
from lms.extensions import db
from lms.timeutil import utcnow
from tests.cluster_factories import PERIOD, cluster_world, login

CELL = re.compile(
    r'data-scope="([^"]+)" data-indicator="([^"]+)">\s*(?:<span class="suppressed">)?([^<\n]*)'
)


@pytest.fixture
def app_config():
    """The figures must follow each change at once (no reuse of live figures)."""
    return {"CLUSTER_LIVE_SECONDS": 0}


@pytest.fixture
def world(app):
    return cluster_world(app)


def _cells(html: str) -> dict[tuple[str, str], str]:
    return {(scope, key): text.strip() for scope, key, text in CELL.findall(html)}


def test_periods_parse_and_refuse_unknown_ones():
    assert parse_period("2026-11").months == ["2026-11"]
    assert parse_period("2026-q4").months == ["2026-10", "2026-11", "2026-12"]
    assert len(parse_period("2026").months) == 12
    for bad, words in [("2026-13", "months run from 01 to 12"), ("2026-Q5", "not a period"),
                       ("1999", "years run"), ("soon", "not a period"), ("", "not a period")]:  # fmt: skip
        with pytest.raises(DomainError, match=words):
            parse_period(bad)


def test_figures_of_a_month(app, world):
    with app.app_context():
        report = indicator_report(
            parse_period(PERIOD), Viewer(frozenset({world.uni}), True), utcnow()
        )
    by_slug = {p["organization"]["slug"]: p["indicators"] for p in report["partners"]}
    uni = by_slug["uni"]
    assert uni["courses_codesigned"]["value"] == 1
    assert uni["enrolled"]["value"] == 6
    assert uni["completed"]["value"] == 4
    assert uni["median_days"]["value"] == 30.0
    assert uni["lab_pass_rate"]["value"] == 50.0
    assert uni["quiz_score"]["value"] == 72.5
    assert uni["completion_rate"]["value"] == round(100 * 4 / 6, 1)
    # Acme is another organization with 3 people: suppressed for a Uni viewer.
    assert by_slug["acme"]["enrolled"] == {"value": None, "display": SUPPRESSED, "suppressed": True}
    assert by_slug["acme"]["completion_rate"]["suppressed"]
    assert by_slug["globex"]["enrolled"]["value"] == 7
    assert by_slug["globex"]["completed"]["value"] == 5
    # The cluster: 16 learners enrolled, 11 completions, one co-designed course.
    assert report["cluster"]["enrolled"]["value"] == 16
    assert report["cluster"]["completed"]["value"] == 11
    assert report["cluster"]["courses_codesigned"]["value"] == 1


def test_every_cross_organization_people_figure_is_suppressed_under_five(app, client, world):
    """On the dashboard and partner page of every viewer, each figure about people of another
    organization is at least 5 or reads "fewer than 5" (the API is checked the same way)."""
    with app.app_context():
        people_keys = {
            i["key"] for i in indicator_report(
                parse_period(PERIOD), Viewer(frozenset(), True), utcnow()
            )["indicators"] if i["unit"] != "count"
        }  # fmt: skip
    viewers = {"admin@cluster.test": set(), "hr@acme.test": {"acme"}, "hr@globex.test": {"globex"}}
    checked = 0
    for email, own in viewers.items():
        login(client, email)
        pages = [client.get(f"/cluster/?period={PERIOD}")]
        for slug in own or ("uni", "acme", "globex"):
            pages.append(client.get(f"/cluster/partners/{slug}?period={PERIOD}"))
        for page in pages:
            assert page.status_code == 200
            # Every cell: the table and the figures beside each trend chart.
            for scope, key, text in CELL.findall(page.get_data(as_text=True)):
                text = text.strip()
                if (
                    scope in own
                    or key not in people_keys
                    or text in ("—", SUPPRESSED, "no snapshot")
                ):
                    continue
                number = float(text.rstrip("%").replace(",", ""))
                checked += 1
                if key in ("enrolled", "active", "completed", "trainers", "skills_gained",
                           "placements_filled", "placements_completed", "placements_hired"):  # fmt: skip
                    assert number >= 5, (email, scope, key, text)
        client.post("/auth/logout")
    assert checked > 10
    # The Acme HR's own figures are shown in full, even under 5.
    login(client, "hr@acme.test")
    cells = _cells(client.get(f"/cluster/partners/acme?period={PERIOD}").get_data(as_text=True))
    assert cells[("acme", "enrolled")] == "3"
    assert cells[("acme", "completed")] == "2"
    # The API (token of Acme): its own figures in full, the cluster's small counts suppressed.
    body = client.get(
        f"/api/v1/cluster/indicators?period={PERIOD}",
        headers={"Authorization": f"Bearer {world.acme_token}"},
    ).get_json()
    assert [p["organization"]["slug"] for p in body["partners"]] == ["acme"]
    assert body["partners"][0]["indicators"]["enrolled"]["value"] == 3
    for key, fig in body["cluster"].items():
        if key in people_keys and fig["value"] is not None and key in ("enrolled", "completed"):
            assert fig["value"] >= 5


def test_partners_see_only_their_own_detail(client, world):
    login(client, "hr@acme.test")
    html = client.get(f"/cluster/?period={PERIOD}").get_data(as_text=True)
    assert "Acme Works" in html and "Globex Freight" not in html
    assert client.get("/cluster/partners/globex").status_code == 403
    assert client.get("/cluster/partners/nope").status_code == 404
    client.post("/auth/logout")
    login(client, "s0@uni.test")
    assert client.get("/cluster/").status_code == 403


def test_page_cli_and_api_agree(app, client, runner, world):
    """The admin dashboard equals ``cluster indicators --json``; the Acme HR's partner page
    equals the API answer to Acme's token."""
    result = runner.invoke(args=["cluster", "indicators", "--period", PERIOD, "--json"])
    assert result.exit_code == 0, result.output
    cli = json.loads(result.output)
    login(client, "admin@cluster.test")
    cells = _cells(client.get(f"/cluster/?period={PERIOD}").get_data(as_text=True))
    compared = 0
    for key, fig in cli["cluster"].items():
        assert cells[("cluster", key)] == fig["display"], key
        compared += 1
    for partner in cli["partners"]:
        slug = partner["organization"]["slug"]
        for key, fig in partner["indicators"].items():
            assert cells[(slug, key)] == fig["display"], (slug, key)
            compared += 1
    assert compared == len(cli["cluster"]) * 4
    one = runner.invoke(
        args=["cluster", "indicators", "--period", PERIOD, "--org", "globex", "--json"]
    )
    assert [p["organization"]["slug"] for p in json.loads(one.output)["partners"]] == ["globex"]
    client.post("/auth/logout")

    login(client, "hr@acme.test")
    cells = _cells(client.get(f"/cluster/partners/acme?period={PERIOD}").get_data(as_text=True))
    api = client.get(
        f"/api/v1/cluster/indicators?period={PERIOD}",
        headers={"Authorization": f"Bearer {world.acme_token}"},
    )
    assert api.status_code == 200
    body = api.get_json()
    doc = client.get("/api/v1/openapi.json").get_json()
    schema = {"$ref": "#/components/schemas/ClusterIndicators", "components": doc["components"]}
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(body)
    for key, fig in body["partners"][0]["indicators"].items():
        assert cells[("acme", key)] == fig["display"], key
    for key, fig in body["cluster"].items():
        assert cells[("cluster", key)] == fig["display"], key


def test_unknown_periods_and_organizations_are_clear_errors(client, runner, world):
    result = runner.invoke(args=["cluster", "indicators", "--period", "2026-13"])
    assert result.exit_code == 2
    assert "months run from 01 to 12" in result.output
    result = runner.invoke(args=["cluster", "indicators", "--org", "nobody"])
    assert result.exit_code == 2 and "No partner organization" in result.output
    login(client, "admin@cluster.test")
    page = client.get("/cluster/?period=2026-13")
    assert page.status_code == 400
    assert "months run from 01 to 12" in page.get_data(as_text=True)
    assert client.get("/cluster/partners/acme?period=20x6").status_code == 400
    headers = {"Authorization": f"Bearer {world.acme_token}"}
    api = client.get("/api/v1/cluster/indicators?period=2026-13", headers=headers)
    assert api.status_code == 400
    assert api.mimetype == "application/problem+json"
    assert api.get_json()["parameter"] == "period"
    assert client.get("/api/v1/cluster/indicators?org=globex", headers=headers).status_code == 404
    assert client.get("/api/v1/cluster/indicators").status_code == 401


def test_targets_status_and_bad_input(app, client, world):
    login(client, "admin@cluster.test")
    bad = client.post(
        "/cluster/partners/uni/targets",
        data={"completion_rate": "120", "enrolled": "-3", "median_days": "soon"},
    )
    assert bad.status_code == 400
    text = bad.get_data(as_text=True)
    assert "a share is at most 100" in text and "cannot be negative" in text
    assert "write a number" in text
    with app.app_context():
        assert db.session.scalar(select(func.count(IndicatorTarget.id))) == 0
    ok = client.post(
        "/cluster/partners/uni/targets",
        data={"completion_rate": "80", "lab_pass_rate": "52", "median_days": "20"},
    )
    assert ok.status_code == 302
    with app.app_context():
        report = indicator_report(parse_period(PERIOD), Viewer(frozenset(), True), utcnow())
    uni = next(p for p in report["partners"] if p["organization"]["slug"] == "uni")
    assert uni["targets"]["completion_rate"]["status"] == "off_track"  # 66.7 < 80 - 10 %
    assert uni["targets"]["lab_pass_rate"]["status"] == "at_risk"
    assert uni["targets"]["median_days"]["status"] == "off_track"
    page = client.get(f"/cluster/partners/uni?period={PERIOD}").get_data(as_text=True)
    assert "At risk" in page and "Off track" in page
    client.post("/auth/logout")
    login(client, "hr@acme.test")
    assert client.get("/cluster/partners/acme/targets").status_code == 403


def test_snapshot_is_idempotent_and_read_back(app, runner, world):
    first = runner.invoke(args=["cluster", "snapshot", "--month", PERIOD])
    assert first.exit_code == 0 and "rows stored" in first.output
    with app.app_context():
        rows = db.session.scalar(select(func.count(IndicatorSnapshot.id)))
    assert rows == 4  # three partners and the cluster
    again = runner.invoke(args=["cluster", "snapshot", "--month", PERIOD])
    assert again.exit_code == 0 and "already stored" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count(IndicatorSnapshot.id))) == rows
        # People leave: the stored month keeps its figures.
        from lms.progress.models import CourseCompletion

        db.session.execute(CourseCompletion.__table__.delete())
        db.session.commit()
        report = indicator_report(parse_period(PERIOD), Viewer(frozenset(), True), utcnow())
    assert report["period"]["live"] is False
    assert report["cluster"]["completed"]["value"] == 11
    for bad, words in [("2099-01", "not over yet"), ("2025", "per month"), ("2025-00", "01 to 12")]:
        result = runner.invoke(args=["cluster", "snapshot", "--month", bad])
        assert result.exit_code == 2 and words in result.output


def test_query_count_does_not_grow_with_partners_or_learners(app, world):
    from tests.factories import enrol, make_org, make_user

    def count_queries(viewer) -> int:
        statements = []
        listener = lambda *a, **k: statements.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            indicator_report(parse_period(PERIOD), viewer, utcnow())
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    with app.app_context():
        viewer = Viewer(frozenset(), True)
        before = count_queries(viewer)
        from lms.domain.models import Course

        course = db.session.get(Course, world.course)
        for n in range(6):
            org = make_org(f"extra-{n}", "enterprise")
            for _ in range(5):
                enrol(make_user(org=org), course)
        db.session.commit()
        after = count_queries(viewer)
    assert before == after


def test_live_figures_are_reused_for_a_while(app, client, world):
    """With CLUSTER_LIVE_SECONDS set, a second view reuses the current month's figures."""
    login(client, "admin@cluster.test")
    statements = []

    def count(*_a, **_k):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    app.config["CLUSTER_LIVE_SECONDS"] = 60
    counts = []
    for _ in range(2):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        assert client.get("/cluster/").status_code == 200
        event.remove(engine, "before_cursor_execute", count)
        counts.append(len(statements))
    assert counts[1] < counts[0] - 10


def test_running_month_from_its_stored_base_equals_a_full_count(app, runner, world):
    """The running month's cohort (learners in training, completion rate) from the base stored
    when it began plus what it added is the same as counting the whole year again."""
    from datetime import datetime, timedelta

    from lms.cluster.cohort import store_cohort_base
    from lms.cluster.models import CohortBase
    from lms.cluster.raw import raw_figures
    from lms.domain.models import Course, Enrolment
    from lms.models import Organization
    from tests.cluster_factories import JUNE, complete
    from tests.factories import enrol, make_user

    now = datetime(2025, 6, 20, 12, 0)
    june = parse_period(PERIOD)
    with app.app_context():
        assert store_cohort_base(june, now) == 4  # three partners and the cluster marker
        assert store_cohort_base(june, now) == 0  # once
        assert store_cohort_base(parse_period("2025-07"), now) == 0  # not begun
        # After the base: a new learner enrols and completes, a known one starts another course.
        uni = db.session.get(Organization, world.uni)
        newcomer = make_user("late@uni.test", uni)
        course = db.session.get(Course, world.course)
        e = enrol(newcomer, course)
        e.enrolled_at = JUNE + timedelta(days=2)
        complete(newcomer, course, JUNE + timedelta(days=5))
        known = db.session.scalar(select(Enrolment).where(Enrolment.course_id == world.course))
        again = enrol(
            db.session.get(type(newcomer), known.user_id), db.session.get(Course, world.solo)
        )
        again.enrolled_at = JUNE + timedelta(days=3)
        db.session.commit()
        keys = ("enrolled", "completion_den", "completion_num")
        from_base = raw_figures(june, now)
        db.session.execute(CohortBase.__table__.delete())
        full = raw_figures(june, now)
    for org in (world.uni, world.acme, world.globex, None):
        assert {k: from_base[org][k] for k in keys} == {k: full[org][k] for k in keys}, org
    assert full[world.uni]["enrolled"] == 7 and full[world.uni]["completion_den"] == 8
    assert full[world.uni]["completion_num"] == 5
    # The snapshot command stores the running month's base once (idempotent, for cron).
    first = runner.invoke(args=["cluster", "snapshot", "--month", PERIOD])
    assert "Cohort base of" in first.output
    second = runner.invoke(args=["cluster", "snapshot", "--month", PERIOD])
    assert "Cohort base of" not in second.output
