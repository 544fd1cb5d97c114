"""Certificate pages: the learner's list, the printable certificate, PDF and Open Badges
downloads, revocation, and the public verification pages (by code and by credential)."""

from __future__ import annotations

import json

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms.credentials import openbadges
from lms.credentials.certificates import (
    MAX_REASON,
    certificates_for_user,
    course_certificate_codes,
    find_certificate,
    revoke_certificate,
)
from lms.credentials.keys import jwks
from lms.credentials.models import Certificate, CertificateStatus
from lms.credentials.pdf import certificate_pdf
from lms.errors import DomainError
from lms.extensions import csrf, db
from lms.permissions import can
from lms.templating import register_nav
from lms.urls import absolute_url

bp = Blueprint("certificates", __name__)


class RevokeForm(FlaskForm):
    """Form to revoke a certificate with the reason everyone will see."""

    reason = TextAreaField(
        "Reason for revoking",
        description="The learner, their HR manager and anyone verifying the code will see it.",
        validators=[
            DataRequired("Enter the reason for revoking this certificate."),
            Length(max=MAX_REASON, message=f"Keep the reason under {MAX_REASON} characters."),
        ],
    )


class VerifyCodeForm(FlaskForm):
    """Public form to look up a certificate by its verification code."""

    class Meta:
        """No CSRF token: the lookup is a side-effect-free GET."""

        csrf = False  # a GET lookup with no side effect

    code = StringField(
        "Verification code",
        description="The 16 letters and digits printed on the certificate, e.g. ABCD-EFGH-JKLM-NPQR.",
        validators=[DataRequired("Enter the verification code."), Length(max=64)],
    )


class CredentialForm(FlaskForm):
    """Public form to paste or upload an Open Badges credential to verify."""

    credential = TextAreaField(
        "Credential JSON",
        description="Paste the content of the Open Badges file (…-credential.json).",
    )
    file = FileField("Or upload the file")


def _visible_certificate(code: str) -> Certificate:
    cert = find_certificate(code)
    if cert is None or not can(current_user, "certificate.view", cert):
        abort(404)  # never reveal that a code exists to someone who may not see it
    return cert


def _verify_url(cert: Certificate) -> str:
    return absolute_url("certificates.verify", code=cert.code)


# --- the learner's certificates ---------------------------------------------------------------
@bp.route("/certificates/")
@login_required
def mine():
    """Learner's list of their own certificates."""
    return render_template(
        "certificates/index.html", certificates=certificates_for_user(current_user.id)
    )


@bp.route("/certificates/<code>")
@login_required
def show(code: str):
    """Certificate page for its learner, HR and trainers."""
    cert = _visible_certificate(code)
    return render_template(
        "certificates/show.html",
        cert=cert,
        verify_url=_verify_url(cert),
        can_revoke=can(current_user, "certificate.revoke", cert),
    )


@bp.route("/certificates/<code>.pdf")
@login_required
def pdf(code: str):
    """Certificate PDF download."""
    cert = _visible_certificate(code)
    body = certificate_pdf(cert, _verify_url(cert))
    db.session.commit()  # the first download stores the rendered file
    return (
        body,
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="certificate-{cert.code}.pdf"',
        },
    )


@bp.route("/certificates/<code>/credential.json")
@login_required
def credential(code: str):
    """Signed Open Badges credential file of a certificate."""
    cert = _visible_certificate(code)
    body = json.dumps(openbadges.signed_credential(cert), indent=2, ensure_ascii=False)
    return (
        body,
        200,
        {
            "Content-Type": "application/vc+ld+json; charset=utf-8",
            "Content-Disposition": f'attachment; filename="certificate-{cert.code}-credential.json"',
        },
    )


@bp.route("/certificates/<code>/revoke", methods=["GET", "POST"])
@login_required
def revoke(code: str):
    """Page for HR or a trainer to revoke a certificate with a reason."""
    cert = find_certificate(code)
    if cert is None or not (
        can(current_user, "certificate.view", cert) or can(current_user, "certificate.revoke", cert)
    ):
        abort(404)
    if not can(current_user, "certificate.revoke", cert):
        abort(403)
    # Admins of a partner organization may revoke without seeing the learner's private pages.
    back = (
        url_for(".show", code=cert.code)
        if can(current_user, "certificate.view", cert)
        else url_for(".verify", code=cert.code)
    )
    if cert.revoked_at is not None:
        flash("This certificate has already been revoked.", "warning")
        return redirect(back)
    form = RevokeForm()
    if form.validate_on_submit():
        try:
            revoke_certificate(cert, current_user, form.reason.data)
        except DomainError as exc:
            form.reason.errors = [*form.reason.errors, exc.message]
        else:
            db.session.commit()
            flash(f"Certificate {cert.code} revoked. Its verification page now says so.", "success")
            return redirect(back)
    status = 400 if request.method == "POST" else 200
    return render_template("certificates/revoke.html", cert=cert, form=form, back=back), status


@bp.route("/certificates/issuer.json")
def issuer():
    """Public Open Badges issuer profile of the cluster."""
    return jsonify(openbadges.issuer_profile())


@bp.route("/.well-known/educluster-keys.json")
def keys():
    """Public key set that verifies the cluster's signed credentials."""
    response = jsonify(jwks())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


# --- public verification ----------------------------------------------------------------------
@bp.route("/verify/", strict_slashes=False)
def verify_form():
    """Public page where anyone enters a certificate's verification code."""
    form = VerifyCodeForm(request.args)
    if request.args and form.validate():
        return redirect(url_for(".verify", code=form.code.data.strip()))
    status = 400 if request.args and form.errors else 200
    return render_template("certificates/verify_form.html", form=form), status


@bp.route("/verify/<code>")
def verify(code: str):
    """Public verification page of one certificate code."""
    cert = find_certificate(code)
    if cert is None:
        return render_template("certificates/verify.html", cert=None, code=code[:64]), 404
    return render_template(
        "certificates/verify.html",
        cert=cert,
        status=cert.status,
        code=cert.code,
        verify_url=_verify_url(cert),
    )


@bp.route("/verify/<code>.json")
def verify_json(code: str):
    """The machine-readable status (the credentialStatus of every Open Badges credential)."""
    cert = find_certificate(code)
    if cert is None:
        return jsonify(code=code[:64], status="not_found", valid=False), 404
    body = {
        "code": cert.code,
        "status": cert.status,
        "valid": cert.status == CertificateStatus.VALID,
        "title": cert.title,
        "kind": cert.kind,
        "learner": cert.learner_name,
        "issued_at": openbadges._z(cert.issued_at),
        "expires_at": openbadges._z(cert.expires_at) if cert.expires_at else None,
    }
    if cert.revoked_at:
        body.update(revoked_at=openbadges._z(cert.revoked_at), reason=cert.revoke_reason)
    return jsonify(body)


def _read_credential(form: CredentialForm) -> tuple[object | None, str | None]:
    """The parsed credential from the upload or the text box, or an error message."""
    raw = ""
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        raw = upload.read(openbadges.MAX_CREDENTIAL_BYTES + 1).decode("utf-8", "replace")
    elif form.credential.data:
        raw = form.credential.data
    if not raw.strip():
        return None, "Paste the credential or choose its file."
    if len(raw.encode("utf-8")) > openbadges.MAX_CREDENTIAL_BYTES:
        return None, "That is too large to be a credential (64 KB at most)."
    try:
        return json.loads(raw), None
    except ValueError:
        return None, "That is not valid JSON. Paste the whole file, from { to }."


@bp.route("/verify/credential", methods=["GET", "POST"])
def verify_credential_page():
    """Public page to check the signature of an Open Badges credential file."""
    form = CredentialForm()
    result = None
    if request.method == "POST" and form.validate_on_submit():
        doc, error = _read_credential(form)
        if error:
            form.credential.errors = [error]
        else:
            ok, reason = openbadges.verify_credential(doc)
            result = {"ok": ok, "reason": reason, "doc": doc if isinstance(doc, dict) else {}}
    status = 400 if form.credential.errors else 200
    return render_template("certificates/verify_credential.html", form=form, result=result), status


@bp.route("/verify/credential.json", methods=["POST"])
@csrf.exempt  # a public, side-effect-free check that other systems call with JSON
def verify_credential_json():
    """Public JSON endpoint for employers' systems to verify a credential."""
    if (request.content_length or 0) > openbadges.MAX_CREDENTIAL_BYTES:
        return jsonify(valid=False, reason="Too large to be a credential."), 413
    doc = request.get_json(silent=True)
    if doc is None:
        return jsonify(valid=False, reason="Send the credential as a JSON body."), 400
    ok, reason = openbadges.verify_credential(doc)
    return jsonify(valid=ok, reason=reason)


def course_certificate_urls(user_id: int, course_ids: list[int]) -> dict[int, str]:
    """The certificate page of each course ``user_id`` holds a valid certificate for."""
    codes = course_certificate_codes(user_id, course_ids)
    return {course_id: url_for("certificates.show", code=code) for course_id, code in codes.items()}


def init_app(app: Flask) -> None:
    """Register the pages and the top-bar link."""
    app.register_blueprint(bp)
    app.jinja_env.globals["CertificateStatus"] = CertificateStatus
    register_nav(app, "Certificates", "certificates.mine", lambda user: True, order=70)
