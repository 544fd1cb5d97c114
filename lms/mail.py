"""Outgoing mail: recorded in the outbox table, and sent over SMTP when configured."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app

from lms.extensions import db
from lms.models import OutboundMail
from lms.timeutil import utcnow

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, body: str) -> OutboundMail:
    """Queue a mail in the outbox; with ``MAIL_BACKEND=smtp`` also send it now.

    The outbox row is written in the caller's transaction, so a rolled-back action sends nothing.
    """
    mail = OutboundMail(to=to, subject=subject, body=body)
    db.session.add(mail)
    db.session.flush()
    cfg = current_app.config
    if cfg.get("MAIL_BACKEND") == "smtp" and cfg.get("MAIL_SERVER"):
        try:
            msg = EmailMessage()
            msg["From"] = cfg["MAIL_FROM"]
            msg["To"] = to
            msg["Subject"] = subject
            msg.set_content(body)
            with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=10) as smtp:
                if cfg.get("MAIL_USE_TLS"):
                    smtp.starttls()
                if cfg.get("MAIL_USERNAME"):
                    smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
                smtp.send_message(msg)
            mail.sent_at = utcnow()
        except (OSError, smtplib.SMTPException) as exc:
            # The outbox keeps the mail; an operator can see the error on the outbox page.
            log.warning("SMTP delivery to %s failed: %s", to, exc)
            mail.error = str(exc)[:500]
    else:
        log.info("Mail to %s: %s", to, subject)
    return mail
