"""``flask --app app lms seed-demo`` builds the demo cluster, and running it again changes
nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.extensions import db
from lms.models import Department, Membership, Organization, User
from lms.seed import ACCOUNTS, DEMO_PASSWORD


def table_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
        if not table.name.startswith("test_")
    }


def test_seed_demo_is_idempotent(app, runner):
    first = runner.invoke(args=["lms", "seed-demo"])
    assert first.exit_code == 0, first.output + repr(first.exception)
    assert DEMO_PASSWORD in first.output
    for email, *_ in ACCOUNTS:
        assert email in first.output
    with app.app_context():
        once = table_counts()
        assert once["organizations"] >= 4
        emails = set(db.session.scalars(select(User.email)))
        assert {email for email, *_ in ACCOUNTS} <= emails  # components may add more people
        slugs = set(db.session.scalars(select(Organization.slug)))
        assert {"northfield", "acme", "globex", "ril"} <= slugs
        depts = set(db.session.scalars(select(Department.name)))
        assert {"Production", "Quality"} <= depts
    second = runner.invoke(args=["lms", "seed-demo"])
    assert second.exit_code == 0, second.output + repr(second.exception)
    with app.app_context():
        db.session.expire_all()
        twice = table_counts()
        changed = {t: (once[t], twice[t]) for t in once if once[t] != twice[t]}
        assert not changed, f"seeding twice changed these row counts (before, after): {changed}"
        admin = db.session.scalar(select(User).where(User.email == "admin@cluster.demo"))
        assert admin.is_site_admin and admin.check_password(DEMO_PASSWORD)
        marco = db.session.scalar(select(User).where(User.email == "employee@acme.demo"))
        (membership,) = db.session.scalars(
            select(Membership).where(Membership.user_id == marco.id)
        ).all()
        assert (membership.role, membership.department.name) == ("learner", "Production")


def test_seed_demo_if_empty_leaves_a_used_database_alone(app, runner):
    runner.invoke(args=["lms", "seed-demo"])
    result = runner.invoke(args=["lms", "seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert "already has users; not seeding" in result.output
