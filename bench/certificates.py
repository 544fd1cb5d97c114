"""Benchmark certificate PDF downloads: the first one renders and stores, later ones serve it.

On a temporary SQLite file with one issued certificate, through the test client with the learner
logged in: the median time of a rendered download (the store emptied before each) against a
stored one, and a healthz request as the baseline of the same run.

Usage: ``python bench/certificates.py [--repeat 20]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PASSWORD = "bench-pass-2026"


def build(path: str):
    """A fresh app with one learner holding one course certificate."""
    os.environ["LMS_INSTANCE_PATH"] = os.path.dirname(path)
    from lms import create_app
    from lms.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})  # fmt: skip
    with app.app_context():
        from lms.credentials.models import Certificate, new_code
        from lms.domain.models import Course
        from lms.models import User
        from lms.timeutil import utcnow

        db.create_all()
        course = Course(slug="spc", title="Statistical Process Control", status="published")
        learner = User(email="learner@bench.test", name="Łukasz Żółć")
        learner.set_password(PASSWORD)
        db.session.add_all([course, learner])
        db.session.flush()
        cert = Certificate(code=new_code(), user_id=learner.id, kind="course", course_id=course.id,
                           title=course.title, learner_name=learner.name, grade=91.0, cycle_key="c1",
                           issued_at=utcnow())  # fmt: skip
        db.session.add(cert)
        db.session.commit()
        return app, cert.code, cert.id


def timed(client, url: str) -> float:
    """Milliseconds for one GET that must answer 200."""
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, code, cert_id = build(os.path.join(tmp, "bench.sqlite3"))
        from lms.credentials.models import CertificatePdf
        from lms.extensions import db

        client = app.test_client()
        login = client.post("/auth/login", data={"email": "learner@bench.test",
                                                 "password": PASSWORD})  # fmt: skip
        assert login.status_code in (302, 303), login.status_code
        url = f"/certificates/{code}.pdf"
        rendered, stored, health = [], [], []
        for _ in range(args.repeat):
            with app.app_context():
                db.session.query(CertificatePdf).filter_by(certificate_id=cert_id).delete()
                db.session.commit()
            rendered.append(timed(client, url))
            stored.append(timed(client, url))
            health.append(timed(client, "/healthz"))
    rows = [("/healthz (baseline)", health), ("PDF, first download (render + store)", rendered),
            ("PDF, stored", stored)]  # fmt: skip
    base = statistics.median(health)
    print(f"{'request':<40} {'median ms':>10} {'p95 ms':>8} {'x healthz':>10}")
    for name, values in rows:
        med = statistics.median(values)
        p95 = sorted(values)[int(0.95 * (len(values) - 1))]
        print(f"{name:<40} {med:>10.1f} {p95:>8.1f} {med / base:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
