"""The mails that prove an address: a password reset link and a self-registration link.

Each sends a mail whether or not an account uses the address (the same work and timing, and a
useful answer to someone who mistyped), so the pages that send them reveal nothing.
"""

from __future__ import annotations

from lms.auth import services, tokens
from lms.mail import send_mail
from lms.urls import absolute_url


def mail_reset_link(email: str) -> None:
    """Mail a password reset link to the active account of ``email``, or say there is none."""
    user = services.find_user(email)
    if user is not None and user.active:
        link = absolute_url("auth.reset_password", token=tokens.make_reset_token(user))
        send_mail(
            user.email,
            "Reset your EduCluster password",
            f"Hello {user.name},\n\nTo choose a new password, open this link within an hour:\n"
            f"{link}\n\nIf you did not ask for this, you can ignore this mail.",
        )
        return
    # A mail either way: the same work and timing, and a useful answer to someone who
    # mistyped or registered with another address.
    send_mail(
        email,
        "Your EduCluster password reset",
        "Hello,\n\nSomeone asked to reset the EduCluster password for this address, but no "
        "active account uses it. If it was you, try the address you registered with, or "
        "ask your organization's administrator for an invitation.\n\nIf you did not ask "
        "for this, you can ignore this mail.",
    )


def mail_registration_link(email: str, name: str, org_slug: str) -> None:
    """Mail the link that finishes self-registration, or tell an existing account's owner."""
    existing = services.find_user(email)
    if existing is not None:
        send_mail(
            email,
            "Your EduCluster account",
            f"Hello {existing.name},\n\nSomeone asked to create an EduCluster account for this "
            f"address, which already has one. Log in here:\n{absolute_url('auth.login')}\n\n"
            f"Forgot your password? Choose a new one here:\n"
            f"{absolute_url('auth.forgot_password')}\n\n"
            "If you did not ask for this, you can ignore this mail.",
        )
        return
    link = absolute_url(
        "auth.finish_registration", token=tokens.make_registration_token(email, name, org_slug)
    )
    send_mail(
        email,
        "Finish creating your EduCluster account",
        f"Hello {name},\n\nTo finish creating your learner account, open this link and choose "
        f"a password:\n{link}\n\nThe link works for two days. If you did not ask for an "
        "account, you can ignore this mail.",
    )
