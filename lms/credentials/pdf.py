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
    sheet = _Sheet(cert)
    sheet.frame_and_title()
    y = sheet.learner_and_course()
    sheet.facts(y)
    sheet.verification(verify_url)
    if status != CertificateStatus.VALID:
        sheet.stamp(status)
    return bytes(sheet.pdf.output())


class _Sheet:
    """One landscape A4 page drawn top to bottom: frame and title, the learner and the course,
    the facts (date, grade, validity), the verification code and link, and a status stamp."""

    def __init__(self, cert: Certificate) -> None:
        self.cert = cert
        self.pdf = pdf = FPDF(orientation="L", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_title(f"Certificate {cert.code}")
        pdf.set_author("EduCluster")
        pdf.add_page()
        self.sans, self.serif = _fonts(pdf)
        self.unicode = self.sans == "Sans"
        self.width = pdf.w
        self.kind = "program" if cert.kind == "program" else "course"

    def t(self, text: str) -> str:
        """Text the chosen font can draw (Latin-1 fallback without the Unicode font)."""
        return _latin1(text, self.unicode)

    def line(self, x: float, y: float, w: float, h: float, text: str, font: tuple, color: tuple):
        """One centred line of ``text`` in ``font`` (family, style, size) and ``color``."""
        self.pdf.set_font(*font)
        self.pdf.set_text_color(*color)
        self.pdf.set_xy(x, y)
        self.pdf.cell(w, h, self.t(text), align="C")

    def frame_and_title(self) -> None:
        """Draw the border, the cluster's name and the certificate title."""
        pdf, width = self.pdf, self.width
        pdf.set_draw_color(*PRIMARY)
        pdf.set_line_width(1.2)
        pdf.rect(10, 10, width - 20, pdf.h - 20)
        pdf.set_line_width(0.3)
        pdf.rect(14, 14, width - 28, pdf.h - 28)
        self.line(20, 24, width - 40, 8, "EDUCLUSTER", (self.sans, "B", 12), PRIMARY)
        self.line(20, 36, width - 40, 14, "Certificate of completion", (self.serif, "B", 30), TEXT)

    def learner_and_course(self) -> float:
        """Learner, course or program title and its partners; returns the y below them."""
        pdf, width, cert = self.pdf, self.width, self.cert
        self.line(20, 58, width - 40, 8, "This certifies that", (self.sans, "", 13), MUTED)
        self.line(20, 68, width - 40, 13, cert.learner_name, (self.serif, "B", 26), TEXT)
        done = f"has successfully completed the {self.kind}"
        self.line(20, 86, width - 40, 8, done, (self.sans, "", 13), MUTED)
        pdf.set_text_color(*TEXT)
        pdf.set_font(self.serif, "B", 20)
        pdf.set_xy(30, 96)
        pdf.multi_cell(width - 60, 10, self.t(cert.title), align="C")
        y = max(pdf.get_y() + 4, 120)
        pdf.set_font(self.sans, "", 12)
        if cert.partner_names:
            label = "Co-designed by" if self.kind == "course" else "Run by"
            pdf.set_xy(30, y)
            partners = f"{label} {', '.join(cert.partner_names)}"
            pdf.multi_cell(width - 60, 7, self.t(partners), align="C")
            y = pdf.get_y() + 2
        return y

    def facts(self, y: float) -> None:
        """Draw the date, grade and validity row at height y."""
        cert = self.cert
        facts = [("Date", f"{cert.issued_at:%d %B %Y}")]
        if cert.grade is not None:
            facts.append(("Grade", f"{cert.grade:g} %"))
        if cert.expires_at is not None:
            facts.append(("Valid until", f"{cert.expires_at:%d %B %Y}"))
        col = 62.0
        left = (self.width - col * len(facts)) / 2
        for i, (label, value) in enumerate(facts):
            self.line(left + i * col, y + 6, col, 6, label.upper(), (self.sans, "", 10), MUTED)
            self.line(left + i * col, y + 12, col, 8, value, (self.sans, "B", 14), TEXT)

    def verification(self, verify_url: str) -> None:
        """Draw the verification code and the link to check it."""
        pdf, width = self.pdf, self.width
        self.line(20, pdf.h - 40, width - 40, 6, "Verification code", (self.sans, "", 10), MUTED)
        self.line(20, pdf.h - 34, width - 40, 8, self.cert.code, ("Courier", "B", 16), TEXT)
        pdf.set_font(self.sans, "", 10)
        pdf.set_text_color(*PRIMARY)
        pdf.set_xy(20, pdf.h - 25)
        pdf.cell(width - 40, 6, self.t(f"Verify at {verify_url}"), align="C", link=verify_url)

    def stamp(self, status: str) -> None:
        """Draw the certificate's status (e.g. revoked) as a diagonal stamp across the sheet."""
        pdf = self.pdf
        pdf.set_text_color(*DANGER)
        pdf.set_font(self.sans, "B", 60)
        with pdf.rotation(20, self.width / 2, pdf.h / 2):
            pdf.set_xy(0, pdf.h / 2 - 15)
            pdf.cell(self.width, 30, self.t(status.upper()), align="C")


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
