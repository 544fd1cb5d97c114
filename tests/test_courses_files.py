"""Course attachments: type sniffed from content, size limit, safe serving, access."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from courses.attachments import safe_filename, sniff
from courses.demo.chart import control_chart_png
from lms.domain.models import Attachment, Course
from lms.extensions import db
from tests.courses_factories import make_cluster, make_course, publish

PNG = control_chart_png()


@pytest.fixture
def c(app):
    with app.app_context():
        cluster = make_cluster()
        db.session.commit()
        yield cluster


def _upload(client, slug, data: bytes, name: str):
    return client.post(
        f"/courses/{slug}/files",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_sniff_and_filenames():
    assert sniff(PNG, "x.png") == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0rest", "x.jpg") == "image/jpeg"
    assert sniff(b"%PDF-1.7 ...", "x.pdf") == "application/pdf"
    assert sniff(b"a,b\n1,2\n", "data.csv") == "text/csv"
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "x.txt") is None
    assert sniff(b"\n <!DOCTYPE html><p>hi", "notes.txt") is None
    assert sniff(b"\x00\x01binary", "x.bin") is None
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\me\\My Chart (final).PNG") == "My-Chart-final.png"
    assert safe_filename("...") == "file"


def test_upload_image_and_serve_it_safely(client, auth, c):
    course = make_course(c)
    db.session.commit()
    auth.login("trainer@uni.demo")
    response = _upload(client, course.slug, PNG, "Control chart.png")
    assert response.status_code == 302
    att = db.session.scalar(select(Attachment))
    assert (att.filename, att.content_type, att.size) == (
        "Control-chart.png",
        "image/png",
        len(PNG),
    )
    listing = client.get(f"/courses/{course.slug}/files").get_data(as_text=True)
    url = f"/courses/{course.slug}/files/{att.id}/Control-chart.png"
    assert f"![Control-chart]({url})" in listing
    served = client.get(url)
    assert served.data == PNG and served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert client.get(f"/courses/{course.slug}/files/{att.id}/other-name.png").status_code == 404


def test_non_images_are_downloads_and_names_are_fixed(client, auth, c):
    course = make_course(c)
    db.session.commit()
    auth.login("trainer@uni.demo")
    _upload(client, course.slug, b"shift,parts\nearly,410\n", "../../shift data.csv")
    _upload(client, course.slug, PNG, "chart.jpg")  # a PNG named .jpg keeps its real type
    names = dict(db.session.execute(select(Attachment.filename, Attachment.content_type)).all())
    assert names == {"shift-data.csv": "text/csv", "chart.png": "image/png"}
    att = db.session.scalar(select(Attachment).where(Attachment.filename == "shift-data.csv"))
    served = client.get(f"/courses/{course.slug}/files/{att.id}/shift-data.csv")
    assert served.headers["Content-Disposition"] == 'attachment; filename="shift-data.csv"'
    assert served.headers["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"<svg onload=alert(1)></svg>", "chart.svg", "cannot be uploaded"),
        (b"<html><script>alert(1)</script></html>", "notes.txt", "not accepted"),
        (b"<html><body>x</body></html>", "page.html", "cannot be uploaded"),
        (b"MZ\x90\x00\x03\x00\x00\x00", "tool.exe", "not accepted"),
        (b"", "empty.txt", "empty"),
    ],
)
def test_mistyped_uploads_are_refused(client, auth, c, data, name, message):
    course = make_course(c)
    db.session.commit()
    auth.login("trainer@uni.demo")
    response = _upload(client, course.slug, data, name)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_oversized_upload_is_refused(client, auth, c, app):
    app.config["COURSE_ATTACHMENT_MAX_BYTES"] = 1024
    course = make_course(c)
    db.session.commit()
    auth.login("trainer@uni.demo")
    response = _upload(client, course.slug, PNG + b"\x00" * 2048, "big.png")
    assert response.status_code == 400 and "the limit is" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Attachment.id))) == 0


def test_files_only_for_people_who_may_view_the_course(client, auth, c):
    course = make_course(c)
    db.session.commit()
    auth.login("trainer@uni.demo")
    _upload(client, course.slug, PNG, "chart.png")
    att = db.session.scalar(select(Attachment))
    url = f"/courses/{course.slug}/files/{att.id}/chart.png"
    auth.logout()
    assert client.get(url).status_code in (302, 401)  # log in first
    auth.login("student@uni.demo")
    assert client.get(url).status_code == 404  # a draft: hidden from learners
    assert _upload(client, course.slug, PNG, "x.png").status_code == 404
    publish(c, db.session.get(Course, course.id))
    db.session.commit()
    assert client.get(url).status_code == 200
    assert _upload(client, course.slug, PNG, "x.png").status_code == 403
    assert client.post(f"/courses/{course.slug}/files/{att.id}/delete").status_code == 403
    auth.logout()
    auth.login("employee@globex.demo")
    assert client.get(url).status_code == 404


def test_cover_image_upload_on_the_course_form(client, auth, c):
    course = make_course(c)
    db.session.commit()
    auth.login("trainer@uni.demo")
    data = {
        "title": course.title, "slug": course.slug, "summary": course.summary, "level": "beginner",
        "estimated_hours": "3", "language": "en", "skills": "SPC", "visibility": "partners",
        "completion_mode": "all",
        f"partner_{c.northfield.id}": "academic_lead", f"partner_{c.acme.id}": "industry_partner",
        f"partner_{c.globex.id}": "", "cover": (io.BytesIO(b"%PDF-1.4"), "cover.pdf"),
    }  # fmt: skip
    bad = client.post(f"/courses/{course.slug}/edit", data=data, content_type="multipart/form-data")
    assert bad.status_code == 400 and "Choose a PNG, JPEG, GIF or WebP image." in bad.get_data(
        as_text=True
    )
    data["cover"] = (io.BytesIO(PNG), "cover.png")
    ok = client.post(f"/courses/{course.slug}/edit", data=data, content_type="multipart/form-data")
    assert ok.status_code == 302
    db.session.expire_all()
    course = db.session.get(Course, course.id)
    assert course.cover_attachment_id == db.session.scalar(select(Attachment.id))


def test_cover_route_serves_the_cover(client, auth, c):
    from courses.attachments import add_attachment
    from courses.services import set_cover

    course = publish(c, make_course(c))
    set_cover(course, add_attachment(course, PNG, "cover.png", c.uni_trainer, images_only=True).id)
    db.session.commit()
    auth.login("student@uni.demo")
    assert client.get(f"/courses/{course.slug}/cover").data == PNG
    assert f"/courses/{course.slug}/cover" in client.get("/courses/").get_data(as_text=True)
    other = publish(c, make_course(c, title="No cover"))
    db.session.commit()
    assert client.get(f"/courses/{other.slug}/cover").status_code == 404
