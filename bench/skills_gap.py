"""Benchmark the skills gap (HR page query and the API) at two sizes, in one run; print a table.

For N=100 and N=10,000 employees of one enterprise (each with evidence for 20 of 60 skills at
random levels, some validated, some lapsed, a tenth enrolled in a course that develops a demanded
skill) and 50 organizations stating 5 job roles of 8 skills each, on a temporary SQLite file, it
measures ``GET /hr/<org>/skills/gap`` and ``GET /api/v1/skills/gaps``:

* SQL statements per request (must not grow with N);
* the median wall time of several requests and the ratio N=10,000 / N=100 (target <= 3).

Usage: ``python bench/skills_gap.py [--sizes 100 10000] [--repeat 5]``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import event, insert, select  # noqa: E402

SKILLS, PER_PERSON, ORGS = 60, 20, 50


def seed(employees: int) -> tuple[str, str]:
    """The scale cluster; returns the first organization's slug and an API token secret."""
    from lms.api.tokens import create_token
    from lms.domain.models import Course, CourseStatus, Enrolment
    from lms.extensions import db
    from lms.models import Membership, Organization, User
    from lms.skills.gap_models import JobRole, RoleSkill, SkillEvidence
    from lms.skills.models import CourseOutcome, Framework, ProficiencyLevel, Skill
    from lms.timeutil import utcnow

    rng = random.Random(7)
    now = utcnow()
    framework = Framework(slug="bench", uri="urn:bench", name="Bench")
    db.session.add(framework)
    db.session.flush()
    for rank, name in enumerate(("aware", "practitioner", "proficient", "expert"), start=1):
        db.session.add(ProficiencyLevel(framework_id=framework.id, rank=rank, name=name))
    skills = [
        Skill(framework_id=framework.id, uri=f"urn:bench:{i}", preferred_label=f"Skill {i}")
        for i in range(SKILLS)
    ]
    db.session.add_all(skills)
    orgs = [Organization(slug=f"org-{i}", name=f"Org {i}", kind="enterprise") for i in range(ORGS)]
    db.session.add_all(orgs)
    db.session.flush()
    from werkzeug.security import generate_password_hash

    hr = User(
        email="hr@bench.test", name="HR", password_hash=generate_password_hash("bench-pass-2026")
    )
    db.session.add(hr)
    db.session.flush()
    db.session.add(Membership(user_id=hr.id, organization_id=orgs[0].id, role="hr"))
    course = Course(slug="bench-course", title="Bench course", status=CourseStatus.PUBLISHED)
    db.session.add(course)
    db.session.flush()
    for skill in skills[:10]:
        db.session.add(CourseOutcome(course_id=course.id, skill_id=skill.id, level=3))
    users = [
        {"email": f"e{i}@bench.test", "name": f"Employee {i}", "password_hash": "x"}
        for i in range(employees)
    ]
    db.session.execute(insert(User), users)
    ids = list(db.session.scalars(select(User.id).where(User.email.like("e%@bench.test"))))
    db.session.execute(
        insert(Membership),
        [{"user_id": u, "organization_id": orgs[0].id, "role": "learner"} for u in ids],
    )
    evidence = []
    for u in ids:
        for skill in rng.sample(skills, PER_PERSON):
            kind = rng.choice(("course", "course", "activity", "validation", "self"))
            lapsed = rng.random() < 0.1
            evidence.append(
                {
                    "user_id": u,
                    "skill_id": skill.id,
                    "kind": kind,
                    "level": rng.randint(1, 4),
                    "comment": "",
                    "earned_at": now - timedelta(days=rng.randint(1, 700)),
                    "expires_at": now - timedelta(days=1) if lapsed else None,
                }
            )
    db.session.execute(insert(SkillEvidence), evidence)
    db.session.execute(
        insert(Enrolment),
        [{"user_id": u, "course_id": course.id, "status": "active"} for u in ids[::10]],
    )
    for org in orgs:
        for r in range(5):
            role = JobRole(
                organization_id=org.id,
                title=f"Role {r}",
                headcount=rng.randint(1, 20),
                needed_by=date.today() + timedelta(days=rng.randint(30, 400)),
            )
            role.skills = [
                RoleSkill(skill_id=s.id, level=rng.randint(1, 4)) for s in rng.sample(skills, 8)
            ]
            db.session.add(role)
    _, secret = create_token(orgs[0], "bench", hr)
    db.session.commit()
    return orgs[0].slug, secret


def measure(employees: int, repeat: int, workdir: str) -> dict[str, tuple[int, float]]:
    """(statements, median ms) per target, on a fresh SQLite file of ``employees``."""
    os.environ["LMS_INSTANCE_PATH"] = workdir
    from lms import create_app
    from lms.extensions import db

    url = f"sqlite:///{workdir}/gap-{employees}.db"
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False}
    )
    with app.app_context():
        db.create_all()
        slug, secret = seed(employees)
        engine = db.engine
    client = app.test_client()
    login = client.post(
        "/auth/login", data={"email": "hr@bench.test", "password": "bench-pass-2026"}
    )
    assert login.status_code == 302, "bench login failed"
    targets = {
        "HR skills gap page": (f"/hr/{slug}/skills/gap", {}),
        "API /skills/gaps": ("/api/v1/skills/gaps", {"Authorization": f"Bearer {secret}"}),
    }
    results = {}
    for name, (path, headers) in targets.items():
        counted = []
        listener = lambda *a, counted=counted, **k: counted.append(1)  # noqa: E731
        times = []
        for i in range(repeat):
            if i == repeat - 1:
                event.listen(engine, "before_cursor_execute", listener)
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
        event.remove(engine, "before_cursor_execute", listener)
        results[name] = (len(counted), statistics.median(times))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=[100, 10000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="bench-gap-")
    try:
        small, large = (measure(n, args.repeat, workdir) for n in args.sizes)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    a, b = args.sizes
    print(f"Skills gap on SQLite: median of {args.repeat} requests; {SKILLS} skills, ")
    print(f"{PER_PERSON} evidence rows per employee, {ORGS} organizations x 5 roles x 8 skills")
    header = f"{'Target':<22} {'SQL N=' + str(a):>10} {'SQL N=' + str(b):>12} {'ms N=' + str(a):>10} {'ms N=' + str(b):>12} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    for name in small:
        (qa, ta), (qb, tb) = small[name], large[name]
        print(f"{name:<22} {qa:>10} {qb:>12} {ta:>10.1f} {tb:>12.1f} {tb / ta:>6.2f}")


if __name__ == "__main__":
    main()
