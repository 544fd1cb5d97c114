"""The certificate as a one-page landscape A4 PDF (fpdf2), with a Unicode font when available.

A valid certificate's PDF is rendered once and stored (:func:`certificate_pdf`); a revoked or
expired one is rendered on demand with its status stamped across the page.
"""

from __future__ import annotations

import os

from fpdf import FPDF

from lms.credentials.models import Certificate, CertificatePdf, CertificateStatus
from lms.extensions import db

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
PRIMARY = (31, 95, 191)
TEXT = (27, 31, 36)
MUTED = (91, 102, 117)
DANGER = (198, 40, 40)


def _fonts(pdf: FPDF) -> tuple[str, str]:
    """(sans, serif) family names: DejaVu (any script) when installed, else the core fonts."""
    for folder in FONT_DIRS:
        sans, serif = (
            os.path.join(folder, "DejaVuSans.ttf"),
            os.path.join(folder, "DejaVuSerif.ttf"),
        )
        bold = os.path.join(folder, "DejaVuSans-Bold.ttf")
        serif_bold = os.path.join(folder, "DejaVuSerif-Bold.ttf")
        if all(os.path.exists(p) for p in (sans, serif, bold, serif_bold)):
            pdf.add_font("Sans", "", sans)
            pdf.add_font("Sans", "B", bold)
            pdf.add_font("Serif", "", serif)
            pdf.add_font("Serif", "B", serif_bold)
            return "Sans", "Serif"
    return "Helvetica", "Times"


def _latin1(text: str, unicode_font: bool) -> str:
    # The core fonts only know Latin-1: degrade gracefully rather than fail on a name.
    return text if unicode_font else text.encode("latin-1", "replace").decode("latin-1")


def render_certificate_pdf(cert: Certificate, verify_url: str, status: str) -> bytes:
    """The PDF bytes for ``cert``; ``status`` other than "valid" is printed across the page."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"Certificate {cert.code}")
    pdf.set_author("EduCluster")
    pdf.add_page()
    sans, serif = _fonts(pdf)
    uni = sans == "Sans"

    def t(text: str) -> str:
        return _latin1(text, uni)

    width = pdf.w
    # Double frame
    pdf.set_draw_color(*PRIMARY)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, width - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, width - 28, pdf.h - 28)

    pdf.set_text_color(*PRIMARY)
    pdf.set_font(sans, "B", 12)
    pdf.set_xy(20, 24)
    pdf.cell(width - 40, 8, t("EDUCLUSTER"), align="C")
    pdf.set_text_color(*TEXT)
    pdf.set_font(serif, "B", 30)
    pdf.set_xy(20, 36)
    kind = "program" if cert.kind == "program" else "course"
    pdf.cell(width - 40, 14, t("Certificate of completion"), align="C")

    pdf.set_font(sans, "", 13)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(20, 58)
    pdf.cell(width - 40, 8, t("This certifies that"), align="C")
    pdf.set_text_color(*TEXT)
    pdf.set_font(serif, "B", 26)
    pdf.set_xy(20, 68)
    pdf.cell(width - 40, 13, t(cert.learner_name), align="C")
    pdf.set_font(sans, "", 13)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(20, 86)
    pdf.cell(width - 40, 8, t(f"has successfully completed the {kind}"), align="C")
    pdf.set_text_color(*TEXT)
    pdf.set_font(serif, "B", 20)
    pdf.set_xy(30, 96)
    pdf.multi_cell(width - 60, 10, t(cert.title), align="C")

    y = max(pdf.get_y() + 4, 120)
    pdf.set_font(sans, "", 12)
    if cert.partner_names:
        label = "Co-designed by" if kind == "course" else "Run by"
        pdf.set_xy(30, y)
        pdf.multi_cell(width - 60, 7, t(f"{label} {', '.join(cert.partner_names)}"), align="C")
        y = pdf.get_y() + 2

    facts = [("Date", f"{cert.issued_at:%d %B %Y}")]
    if cert.grade is not None:
        facts.append(("Grade", f"{cert.grade:g} %"))
    if cert.expires_at is not None:
        facts.append(("Valid until", f"{cert.expires_at:%d %B %Y}"))
    col = 62.0
    left = (width - col * len(facts)) / 2
    for i, (label, value) in enumerate(facts):
        pdf.set_xy(left + i * col, y + 6)
        pdf.set_font(sans, "", 10)
        pdf.set_text_color(*MUTED)
        pdf.cell(col, 6, t(label.upper()), align="C")
        pdf.set_xy(left + i * col, y + 12)
        pdf.set_font(sans, "B", 14)
        pdf.set_text_color(*TEXT)
        pdf.cell(col, 8, t(value), align="C")

    pdf.set_font(sans, "", 10)
    pdf.set_text_color(*MUTED)
    pdf.set_xy(20, pdf.h - 40)
    pdf.cell(width - 40, 6, t("Verification code"), align="C")
    pdf.set_font("Courier", "B", 16)
    pdf.set_text_color(*TEXT)
    pdf.set_xy(20, pdf.h - 34)
    pdf.cell(width - 40, 8, cert.code, align="C")
    pdf.set_font(sans, "", 10)
    pdf.set_text_color(*PRIMARY)
    pdf.set_xy(20, pdf.h - 25)
    pdf.cell(width - 40, 6, t(f"Verify at {verify_url}"), align="C", link=verify_url)

    if status != CertificateStatus.VALID:
        pdf.set_text_color(*DANGER)
        pdf.set_font(sans, "B", 60)
        with pdf.rotation(20, width / 2, pdf.h / 2):
            pdf.set_xy(0, pdf.h / 2 - 15)
            pdf.cell(width, 30, t(status.upper()), align="C")
    return bytes(pdf.output())


def certificate_pdf(cert: Certificate, verify_url: str) -> bytes:
    """The PDF of ``cert``: the stored file of a valid certificate (rendered and stored the first
    time it is asked for), or a fresh one stamped with the status of a revoked or expired one.

    Stores with a flush; the caller commits.
    """
    status = cert.status
    if status != CertificateStatus.VALID:
        return render_certificate_pdf(cert, verify_url, status)
    stored = db.session.get(CertificatePdf, cert.id)
    if stored is None:
        stored = CertificatePdf(
            certificate_id=cert.id, body=render_certificate_pdf(cert, verify_url, status)
        )
        db.session.add(stored)
        db.session.flush()
    return stored.body
