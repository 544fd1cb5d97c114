"""A small cluster and courses for the course tests, built through the course services."""

from __future__ import annotations

from types import SimpleNamespace

from courses import codesign, services, structure
from lms.domain.models import Course
from lms.extensions import db
from lms.models import Membership, Organization, User

PASSWORD = "demo-pass-2026"
_HASH: list[str] = []


def _password_hash() -> str:
    """Password hashes are slow on purpose: hash the test password once per run."""
    if not _HASH:
        probe = User(email="probe", name="probe")
        probe.set_password(PASSWORD)
        _HASH.append(probe.password_hash)
    return _HASH[0]


def _user(email: str, name: str, memberships: list[tuple[Organization, str]], admin=False) -> User:
    user = User(email=email, name=name, is_site_admin=admin, password_hash=_password_hash())
    db.session.add(user)
    db.session.flush()
    for org, role in memberships:
        db.session.add(Membership(user_id=user.id, organization_id=org.id, role=role))
    db.session.flush()
    db.session.refresh(user)
    return user


def make_cluster() -> SimpleNamespace:
    """Northfield (university), Acme and Globex (enterprises), with trainers and learners."""
    orgs = {}
    for slug, name, kind in (
        ("northfield", "Northfield University", "university"),
        ("acme", "Acme Manufacturing", "enterprise"),
        ("globex", "Globex Logistics", "enterprise"),
    ):
        orgs[slug] = Organization(slug=slug, name=name, kind=kind)
        db.session.add(orgs[slug])
    db.session.flush()
    c = SimpleNamespace(**orgs)
    c.uni_trainer = _user("trainer@uni.demo", "Tomas Novak", [(c.northfield, "trainer")])
    c.student = _user("student@uni.demo", "Sara Lind", [(c.northfield, "learner")])
    c.acme_trainer = _user("trainer@acme.demo", "Priya Raman", [(c.acme, "trainer")])
    c.acme_admin = _user("admin@acme.demo", "Anna Admin", [(c.acme, "org_admin")])
    c.employee = _user("employee@acme.demo", "Marco Rossi", [(c.acme, "learner")])
    c.globex_trainer = _user("trainer@globex.demo", "Kenji Sato", [(c.globex, "trainer")])
    c.globex_learner = _user("employee@globex.demo", "Omar Haddad", [(c.globex, "learner")])
    c.site_admin = _user("admin@cluster.demo", "Ada Admin", [], admin=True)
    return c


def make_course(
    c: SimpleNamespace,
    title: str = "Statistics for Quality",
    partners: tuple[tuple[str, str], ...] = (
        ("northfield", "academic_lead"),
        ("acme", "industry_partner"),
    ),
    author: User | None = None,
    lessons: int = 2,
    **fields,
) -> Course:
    """A draft course with one module of ``lessons`` lessons."""
    data = services.CourseData(
        title=title,
        summary=fields.pop("summary", "Learn **control charts**."),
        partners=[(getattr(c, slug).id, role) for slug, role in partners],
        skills=fields.pop("skills", ["Statistics", "Quality"]),
        **fields,
    )
    course = services.create_course(data, author or c.uni_trainer)
    module = structure.add_module(course, "Basics")
    for i in range(lessons):
        structure.add_activity(
            module,
            "lesson",
            structure.ActivityData(title=f"Lesson {i + 1}"),
            author or c.uni_trainer,
            {"body": f"Body of lesson {i + 1}"},
        )
    db.session.flush()
    return course


def publish(c: SimpleNamespace, course: Course) -> Course:
    """Submit, sign off for every partner (by one of its trainers) and publish."""
    signers = {
        c.northfield.id: c.uni_trainer,
        c.acme.id: c.acme_trainer,
        c.globex.id: c.globex_trainer,
    }
    codesign.submit_for_review(course)
    for partner in course.partners:
        codesign.sign_off(course, partner.organization, signers[partner.organization_id])
    codesign.publish_course(course)
    db.session.flush()
    return course
