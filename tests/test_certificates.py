"""Certificates: issued at completion, printable page and PDF, public verification, revocation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import signals
from lms.credentials.ledger import LedgerEntry
from lms.credentials.models import Certificate, new_code, normalise_code
from lms.extensions import db
from lms.timeutil import utcnow
from tests.factories import PASSWORD
from tests.trust_helpers import cluster, complete, graded_course, make_program


@pytest.fixture
def world(app):
    with app.app_context():
        people = cluster()
        complete(people["employee"], people["course"], grade=87.5)
        db.session.commit()
        cert = db.session.scalar(select(Certificate))
        ids = {k: v.id for k, v in people.items() if hasattr(v, "id")}
        emails = {k: v.email for k, v in people.items() if hasattr(v, "email")}
        return {"code": cert.code, "ids": ids, "emails": emails}


def login(client, email):
    client.post("/auth/logout")
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD})
    assert response.status_code in (302, 303)


def test_code_format_and_normalisation():
    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert len(code) == 19 and code.count("-") == 3
    assert normalise_code(code.lower().replace("-", " ")) == code
    assert normalise_code(code.replace("-", "")) == code
    for bad in [
        "",
        "ABC",
        code + "A",
        code[:-1] + "0",
        "<script>",
        "x" * 500,
        "ÄBCD-EFGH-JKLM-NPQR",
    ]:
        assert normalise_code(bad) is None


def test_issued_at_completion_with_snapshot(app, world):
    with app.app_context():
        cert = db.session.scalar(select(Certificate))
        assert cert.kind == "course"
        assert cert.title == "Statistical Process Control"
        assert cert.learner_name == "Marco Rossi"
        assert cert.grade == 87.5
        assert cert.partner_names == ["Northfield Test University", "Acme Test"]
        assert cert.status == "valid"
        assert cert.expires_at is None


def test_issue_is_idempotent_per_completion(app, world):
    from lms.progress.models import CourseCompletion

    with app.app_context():
        cc = db.session.scalar(select(CourseCompletion))
        user, course = cc.user, cc.course
        # the same completion announced again (a retry, a recompute) issues nothing new
        signals.course_completed.send(app, user=user, course=course, completion=cc)
        signals.course_completed.send(app, user=user, course=course, completion=cc)
        db.session.commit()
        assert db.session.scalar(select(db.func.count(Certificate.id))) == 1
        issued = db.session.scalars(
            select(LedgerEntry).where(LedgerEntry.kind == "certificate_issued")
        ).all()
        assert len(issued) == 1


def test_a_new_completion_cycle_gets_a_new_certificate(app, world):
    from lms.progress.models import CourseCompletion

    with app.app_context():
        cc = db.session.scalar(select(CourseCompletion))
        cc.completed_at = utcnow() + timedelta(days=400)  # re-completed after a reset
        signals.course_completed.send(app, user=cc.user, course=cc.course, completion=cc)
        db.session.commit()
        assert db.session.scalar(select(db.func.count(Certificate.id))) == 2


def test_program_certificate_with_validity(app):
    with app.app_context():
        people = cluster()
        course = graded_course([people["uni"]], title="Lean basics")
        complete(people["employee"], course, grade=70)
        program, assignment = make_program(
            people["acme"], [course, people["course"]], people["employee"], validity_months=12
        )
        signals.program_completed.send(
            app, user=people["employee"], program=program, assignment=assignment
        )
        signals.program_completed.send(
            app, user=people["employee"], program=program, assignment=assignment
        )
        db.session.commit()
        cert = db.session.scalar(select(Certificate).where(Certificate.kind == "program"))
        assert cert.title == "Digital Quality Retraining"
        assert cert.program_id == program.id
        assert cert.partner_names == ["Acme Test"]
        assert cert.grade == 70.0  # mean grade of the program's completed courses
        assert cert.expires_at is not None
        assert 360 <= (cert.expires_at - cert.issued_at).days <= 366
        assert (
            db.session.scalar(
                select(db.func.count(Certificate.id)).where(Certificate.kind == "program")
            )
            == 1
        )


def test_learner_sees_page_pdf_and_list(client, world):
    login(client, world["emails"]["employee"])
    page = client.get(f"/certificates/{world['code']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for text in ["Certificate of completion", "Marco Rossi", "Statistical Process Control",
                 "Northfield Test University, Acme Test", "87.5", world["code"],
                 f"/verify/{world['code']}", "Download PDF", "Download Open Badge"]:  # fmt: skip
        assert text in html, text
    assert "Revoke certificate" not in html  # learners cannot revoke
    listing = client.get("/certificates/").get_data(as_text=True)
    assert world["code"] in listing and "Statistical Process Control" in listing
    pdf = client.get(f"/certificates/{world['code']}.pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    assert b"attachment" in pdf.headers["Content-Disposition"].encode()
    assert len(pdf.data) > 2000


def test_pdf_text_contains_the_facts(app, world):
    """The PDF names learner, course, partners, date, grade, code and verify URL."""
    from lms.credentials.pdf import render_certificate_pdf

    with app.app_context():
        cert = db.session.scalar(select(Certificate))
        cert.learner_name = "Łukasz Żółć"  # needs the Unicode font
        data = render_certificate_pdf(cert, "http://example.test/verify/X", "valid")
    assert data.startswith(b"%PDF-")
    import zlib

    from fpdf import FPDF  # noqa: F401  (the text is compressed: check via pypdf-free route)

    streams = []
    for chunk in data.split(b"stream")[1:]:
        body = chunk.split(b"endstream")[0].strip(b"\r\n")
        try:
            streams.append(zlib.decompress(body))
        except zlib.error:
            continue
    content = b"".join(streams)
    assert b"Tj" in content or b"TJ" in content  # text was drawn


VISIBILITY = [
    ("employee", 200),  # the learner
    ("hr", 200),  # HR of the learner's organization
    ("acme_admin", 200),  # org admin of the learner's organization
    ("site_admin", 200),
    ("employee2", 404),  # a colleague
    ("globex_hr", 404),  # HR of another organization
    ("uni_admin", 404),  # admin of a partner organization: may revoke, but not browse
]


def test_who_may_see_a_certificate(client, world):
    for who, expected in VISIBILITY:
        login(client, world["emails"][who])
        for url in ("", ".pdf", "/credential.json"):
            status = client.get(f"/certificates/{world['code']}{url}").status_code
            assert status == expected, (who, url, status)


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(f"/certificates/{world['code']}")
    assert response.status_code in (302, 401)


def test_public_verify_page_valid(client, world):
    response = client.get(f"/verify/{world['code']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Valid certificate" in html and "Marco Rossi" in html
    assert f"Verify at http://127.0.0.1:5000/verify/{world['code']}" in html  # on the sheet
    # lenient input: lower case, no dashes
    assert client.get(f"/verify/{world['code'].lower().replace('-', '')}").status_code == 200
    status = client.get(f"/verify/{world['code']}.json").get_json()
    assert status["valid"] is True and status["status"] == "valid"


TAMPERINGS = [
    lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # one symbol changed
    lambda c: c[::-1],
    lambda c: c + "-AAAA",
    lambda c: "0000-0000-0000-0000",
    lambda c: "%3Cscript%3E",
    lambda c: "x" * 300,
    lambda c: "ÄÖÜ",
    lambda c: c.replace("-", "_"),
]


def test_tampered_codes_are_not_valid(client, world):
    for mutate in TAMPERINGS:
        code = mutate(world["code"])
        response = client.get(f"/verify/{code}")
        assert response.status_code == 404, code
        assert "Not valid" in response.get_data(as_text=True)
        assert client.get(f"/verify/{code}.json").get_json()["valid"] is False


def test_verify_form(client, world):
    assert client.get("/verify/").status_code == 200
    response = client.get("/verify/", query_string={"code": f"  {world['code'].lower()} "})
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200
    empty = client.get("/verify/", query_string={"code": ""})
    assert empty.status_code == 400
    assert "Enter the verification code" in empty.get_data(as_text=True)


def test_expired_certificate_says_so(app, client, world):
    with app.app_context():
        cert = db.session.scalar(select(Certificate))
        cert.expires_at = utcnow() - timedelta(days=1)
        db.session.commit()
    html = client.get(f"/verify/{world['code']}").get_data(as_text=True)
    assert "Expired" in html
    assert client.get(f"/verify/{world['code']}.json").get_json()["status"] == "expired"


def test_revocation_by_partner_org_admin(app, client, world):
    login(client, world["emails"]["uni_admin"])
    form = client.get(f"/certificates/{world['code']}/revoke")
    assert form.status_code == 200
    empty = client.post(f"/certificates/{world['code']}/revoke", data={"reason": "  "})
    assert empty.status_code == 400
    assert "Enter the reason" in empty.get_data(as_text=True)
    done = client.post(
        f"/certificates/{world['code']}/revoke", data={"reason": "Exam taken by someone else"}
    )
    assert done.status_code == 302
    with app.app_context():
        cert = db.session.scalar(select(Certificate))
        assert cert.revoked_at is not None and cert.revoke_reason == "Exam taken by someone else"
        last = db.session.scalar(select(LedgerEntry).order_by(LedgerEntry.seq.desc()).limit(1))
        assert last.kind == "certificate_revoked" and cert.code in last.payload
    client.post("/auth/logout")
    html = client.get(f"/verify/{world['code']}").get_data(as_text=True)
    assert "Revoked" in html and "Exam taken by someone else" in html
    status = client.get(f"/verify/{world['code']}.json").get_json()
    assert status["status"] == "revoked" and status["valid"] is False
    # a second revocation is refused politely
    login(client, world["emails"]["site_admin"])
    again = client.post(f"/certificates/{world['code']}/revoke", data={"reason": "again"})
    assert again.status_code == 302
    with app.app_context():
        assert (
            db.session.scalar(
                select(db.func.count(LedgerEntry.id)).where(
                    LedgerEntry.kind == "certificate_revoked"
                )
            )
            == 1
        )


def test_revocation_refused(client, world):
    for who, expected in [("hr", 403), ("employee", 403), ("globex_hr", 404)]:
        login(client, world["emails"][who])
        response = client.post(f"/certificates/{world['code']}/revoke", data={"reason": "no"})
        assert response.status_code == expected, who


def test_revocation_by_site_admin(app, client, world):
    login(client, world["emails"]["site_admin"])
    page = client.get(f"/certificates/{world['code']}").get_data(as_text=True)
    assert "Revoke certificate" in page
    response = client.post(f"/certificates/{world['code']}/revoke", data={"reason": "Duplicate"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Certificate)).status == "revoked"


def test_revocation_of_unknown_code_is_404(client, world):
    login(client, world["emails"]["site_admin"])
    assert (
        client.post("/certificates/AAAA-BBBB-CCCC-DDDD/revoke", data={"reason": "x"}).status_code
        == 404
    )


def test_a_valid_certificate_pdf_is_rendered_once_and_served_stored(
    app, client, world, monkeypatch
):
    """The first download renders and stores the PDF; later ones serve the stored bytes."""
    from lms.credentials import pdf as pdf_module

    calls = []
    real = pdf_module.render_certificate_pdf

    def counting(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)

    monkeypatch.setattr(pdf_module, "render_certificate_pdf", counting)
    login(client, world["emails"]["employee"])
    first = client.get(f"/certificates/{world['code']}.pdf")
    second = client.get(f"/certificates/{world['code']}.pdf")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data and first.data.startswith(b"%PDF-")
    assert calls == ["valid"]  # rendered once
    with app.app_context():
        from lms.credentials.models import CertificatePdf

        assert db.session.scalar(select(db.func.count(CertificatePdf.certificate_id))) == 1
        cert = db.session.scalar(select(Certificate).where(Certificate.code == world["code"]))
        cert.revoked_at = cert.issued_at  # a revoked certificate is stamped, never served stored
        db.session.commit()
    revoked = client.get(f"/certificates/{world['code']}.pdf")
    assert revoked.status_code == 200 and revoked.data != first.data
    assert calls == ["valid", "revoked"]
