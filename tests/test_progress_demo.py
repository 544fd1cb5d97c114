"""The demo: Acme's two programs with employees at every stage, seeded idempotently."""

from sqlalchemy import func, select

from lms.extensions import db
from lms.hr.queries import program_figures
from lms.progress.models import Program, ProgramAssignment
from lms.seed import seed_demo
from lms.timeutil import utcnow


def test_demo_programs_have_every_status(app, demo, client, auth):
    with app.app_context():
        programs = {p.name: p for p in db.session.scalars(select(Program))}
        assert {"Digital Quality Retraining 2026", "Industry 4.0 Upskilling"} <= set(programs)
        figures = program_figures(programs["Industry 4.0 Upskilling"].organization_id, utcnow())
        for fig in figures:
            assert fig["completed"] and fig["in_progress"] and fig["overdue"] and fig["not_started"]
            assert fig["median_days"] is not None
        before = db.session.scalar(select(func.count(ProgramAssignment.id)))
        assert before >= 30
        seed_demo(echo=lambda *_: None)  # idempotent
        assert db.session.scalar(select(func.count(ProgramAssignment.id))) == before
    auth.login("hr@acme.demo")
    html = client.get("/hr/acme/").get_data(as_text=True)
    assert "Digital Quality Retraining 2026" in html
    auth.logout()
    auth.login("employee2@acme.demo")
    assert "Digital Quality Retraining 2026" in client.get("/learning").get_data(as_text=True)
