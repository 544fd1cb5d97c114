"""Login, throttling, logout, change password, reset password and session cookies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms.auth import throttle
from lms.extensions import db
from lms.models import LoginThrottle, OutboundMail
from lms.timeutil import utcnow
from tests.foundation_factories import (
    PASSWORD,
    last_mail_to,
    link_in,
    login,
    make_user,
    user_by_email,
)

EMAIL = "person@example.org"
BAD_LOGIN = b"The email address or password is not right."


@pytest.fixture
def person(app):
    with app.app_context():
        make_user(EMAIL, "Pat Person")
        db.session.commit()
    return EMAIL


def _throttle_row(app, key: str) -> LoginThrottle | None:
    with app.app_context():
        return db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == key))


def test_login_and_logout(client, person):
    response = login(client, person)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    assert b"Pat Person" in client.get("/dashboard").data
    response = client.post("/auth/logout", follow_redirects=True)
    assert b"You have logged out." in response.data
    assert client.get("/dashboard").status_code == 302


def test_email_is_case_insensitive_and_trimmed(client, person):
    assert login(client, "  Person@Example.ORG ").status_code == 302


def test_same_message_for_unknown_email_and_wrong_password(client, person):
    unknown = login(client, "nobody@example.org")
    wrong = login(client, person, "not-the-password")
    assert unknown.status_code == wrong.status_code == 401
    assert BAD_LOGIN in unknown.data and BAD_LOGIN in wrong.data
    # Nothing else in the answer tells the two apart.
    assert b"nobody@example.org" in unknown.data  # the typed address is kept
    assert unknown.data.replace(b"nobody@example.org", b"X") == wrong.data.replace(
        EMAIL.encode(), b"X"
    )


def test_inactive_account_cannot_log_in(app, client, person):
    with app.app_context():
        user_by_email(person).active = False
        db.session.commit()
    response = login(client, person)
    assert response.status_code == 401
    assert BAD_LOGIN in response.data


def _pair(person: str, address: str = "127.0.0.1") -> str:
    return throttle.login_key(person, address)


def test_account_and_address_locked_after_five_failures_with_growing_delay_and_a_cap(
    app, client, person, monkeypatch
):
    started = utcnow()
    for _ in range(5):
        assert login(client, person, "wrong-password").status_code == 401
    # Locked: even the right password is refused with 429 and a clear message.
    response = login(client, person)
    assert response.status_code == 429
    assert b"Too many failed attempts" in response.data
    first = _throttle_row(app, _pair(person))
    assert first.lockouts == 1
    # Locked for 30 s from the fifth failure, which happened after `started`: however slowly
    # a loaded machine got here, the lock ends no earlier than 30 s after `started`.
    assert (
        30
        <= (first.locked_until - started).total_seconds()
        <= 30 + (utcnow() - started).total_seconds()
    )

    # After the lock expires, five more failures lock for twice as long.
    later = utcnow() + timedelta(seconds=31)
    monkeypatch.setattr(throttle, "utcnow", lambda: later)
    for _ in range(5):
        assert login(client, person, "wrong-password").status_code == 401
    assert login(client, person).status_code == 429
    second = _throttle_row(app, _pair(person))
    assert second.lockouts == 2
    assert (second.locked_until - later).total_seconds() == pytest.approx(60, abs=1)

    # The delay stops doubling at the cap (15 minutes), however long the attack goes on.
    with app.app_context():
        row = db.session.scalar(select(LoginThrottle).where(LoginThrottle.key == _pair(person)))
        row.lockouts = 30
        row.locked_until = None
        db.session.commit()
    for _ in range(5):
        login(client, person, "wrong-password")
    capped = _throttle_row(app, _pair(person))
    assert (capped.locked_until - later).total_seconds() == pytest.approx(900, abs=1)

    # Once that lock is over, the right password works and clears the counter.
    monkeypatch.setattr(throttle, "utcnow", lambda: later + timedelta(seconds=901))
    assert login(client, person).status_code == 302
    assert _throttle_row(app, _pair(person)) is None


def test_a_guesser_elsewhere_does_not_lock_the_owner_out(app, client, person):
    """Issue 8, item 3: the lock was per account, from every address."""
    for _ in range(6):
        login(client, person, "wrong", environ_base={"REMOTE_ADDR": "203.0.113.66"})
    owner = app.test_client()
    assert login(owner, person, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302


def test_failures_on_other_accounts_lock_nobody_behind_the_same_address(app, client, person):
    """Issue 8, item 3: five failures from one address locked everyone behind it."""
    for i in range(10):
        response = login(client, f"guess{i}@example.org", "wrong")
        assert response.status_code == 401
        assert BAD_LOGIN in response.data
    assert login(app.test_client(), person).status_code == 302


def test_the_owners_known_browser_is_not_locked_by_a_guesser_on_the_same_address(
    app, client, person
):
    owner = app.test_client()
    assert login(owner, person).status_code == 302  # marks this browser as known
    owner.post("/auth/logout")
    for _ in range(6):
        login(client, person, "wrong")  # same address, no known-browser cookie
    assert login(client, person).status_code == 429
    assert login(owner, person).status_code == 302


def test_login_checks_a_password_hash_for_unknown_accounts_too(client, person, monkeypatch):
    """Issue 8, item 4: the hash ran only for existing accounts (350 ms against 25 ms)."""
    from lms.auth import services

    checked = []
    real = services.verify_password
    monkeypatch.setattr(services, "verify_password", lambda h, p: checked.append(h) or real(h, p))
    login(client, "nobody@example.org", "wrong")
    login(client, person, "wrong")
    assert len(checked) == 2
    # Same method and cost: "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>".
    assert checked[0].split("$")[:4] == checked[1].split("$")[:4]
    assert checked[0].startswith("$argon2id$")


def test_open_redirect_is_refused(client, person):
    response = client.post(
        "/auth/login?next=//evil.example/phish",
        data={"email": person, "password": PASSWORD},
    )
    assert response.headers["Location"].endswith("/dashboard")
    client.post("/auth/logout")
    response = client.post(
        "/auth/login?next=/auth/account", data={"email": person, "password": PASSWORD}
    )
    assert response.headers["Location"].endswith("/auth/account")


def test_empty_login_form_is_a_form_error(client):
    response = client.post("/auth/login", data={"email": "", "password": ""})
    assert response.status_code == 400
    assert b"Enter your email address." in response.data
    assert b"Enter your password." in response.data


# --- change password ---------------------------------------------------------------------------
def test_change_password(client, person):
    login(client, person)
    wrong = client.post(
        "/auth/account",
        data={
            "pw-current_password": "not-it",
            "pw-new_password": "a-brand-new-secret",
            "pw-confirm": "a-brand-new-secret",
        },
    )
    assert wrong.status_code == 400
    assert b"Your current password is not right." in wrong.data
    mismatch = client.post(
        "/auth/account",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "a-brand-new-secret",
            "pw-confirm": "something-else-entirely",
        },
    )
    assert mismatch.status_code == 400
    assert b"The two passwords do not match." in mismatch.data
    short = client.post(
        "/auth/account",
        data={"pw-current_password": PASSWORD, "pw-new_password": "short", "pw-confirm": "short"},
    )
    assert b"Use between 10 and 200 characters." in short.data
    ok = client.post(
        "/auth/account",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "a-brand-new-secret",
            "pw-confirm": "a-brand-new-secret",
        },
        follow_redirects=True,
    )
    assert b"Your password was changed." in ok.data
    client.post("/auth/logout")
    assert login(client, person).status_code == 401
    assert login(client, person, "a-brand-new-secret").status_code == 302


def test_change_name(client, person):
    login(client, person)
    response = client.post(
        "/auth/account", data={"profile-name": "Patricia Person"}, follow_redirects=True
    )
    assert b"Your name was saved." in response.data
    assert b"Patricia Person" in response.data
    too_long = client.post("/auth/account", data={"profile-name": "x" * 10_000})
    assert too_long.status_code == 400


# --- reset password ----------------------------------------------------------------------------
def _request_reset(app, client, email: str) -> str:
    response = client.post("/auth/forgot-password", data={"email": email}, follow_redirects=True)
    assert b"If an account uses that address" in response.data
    with app.app_context():
        mail = last_mail_to(email)
        assert mail is not None and "Reset your EduCluster password" in mail.subject
        return link_in(mail.body, "/auth/reset-password/")


def test_reset_password_by_mailed_token(app, client, person):
    link = _request_reset(app, client, person)
    assert client.get(link).status_code == 200
    response = client.post(
        link, data={"password": "reset-secret-123", "confirm": "reset-secret-123"}
    )
    assert response.status_code == 302
    assert login(client, person, "reset-secret-123").status_code == 302
    client.post("/auth/logout")
    # The link worked once: the password changed, so the same token is refused now.
    reused = client.get(link, follow_redirects=True)
    assert b"That reset link is not valid any more." in reused.data
    again = client.post(link, data={"password": "another-secret-1", "confirm": "another-secret-1"})
    assert again.status_code == 302
    assert login(client, person, "reset-secret-123").status_code == 302


def test_reset_token_expires(app, client, person):
    link = _request_reset(app, client, person)
    app.config["PASSWORD_RESET_SECONDS"] = -1  # every token is now older than allowed
    response = client.get(link, follow_redirects=True)
    assert b"That reset link is not valid any more." in response.data
    client.post(link, data={"password": "reset-secret-123", "confirm": "reset-secret-123"})
    assert login(client, person, "reset-secret-123").status_code == 401


def test_reset_for_unknown_address_says_the_same_and_sends_no_link(app, client, person):
    answers = []
    for email in ("nobody@example.org", person):
        response = client.post("/auth/forgot-password", data={"email": email})
        answers.append((response.status_code, response.headers["Location"]))
        assert b"If an account uses that address" in client.get("/auth/login").data
    assert answers[0] == answers[1]
    with app.app_context():
        mail = last_mail_to("nobody@example.org")
        assert "no active account uses it" in mail.body and "/auth/" not in mail.body


def test_reset_mails_are_rate_limited(app, client, person):
    for _ in range(5):
        assert client.post("/auth/forgot-password", data={"email": person}).status_code == 302
    response = client.post("/auth/forgot-password", data={"email": person})
    assert response.status_code == 429
    other = app.test_client()  # another address, same mailbox: still limited
    response = other.post(
        "/auth/forgot-password", data={"email": person}, environ_base={"REMOTE_ADDR": "192.0.2.9"}
    )
    assert response.status_code == 429
    with app.app_context():
        assert len(db.session.scalars(select(OutboundMail)).all()) == 5


def test_forged_reset_token_is_refused(client, person):
    response = client.get("/auth/reset-password/not-a-real-token", follow_redirects=True)
    assert b"That reset link is not valid any more." in response.data


def test_reset_password_unlocks_the_account(app, client, person):
    for _ in range(5):
        login(client, person, "wrong-password")
    assert login(client, person).status_code == 429
    link = _request_reset(app, client, person)
    client.post(link, data={"password": "reset-secret-123", "confirm": "reset-secret-123"})
    other = app.test_client()
    assert (
        login(
            other, person, "reset-secret-123", environ_base={"REMOTE_ADDR": "192.0.2.8"}
        ).status_code
        == 302
    )


# --- cookies -----------------------------------------------------------------------------------
def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_is_httponly_and_samesite_lax(client, person):
    cookie = _session_cookie(login(client, person))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on localhost must keep working


def test_session_cookie_is_secure_over_https(app, person):
    client = app.test_client()
    response = login(client, person, base_url="https://localhost")
    cookie = _session_cookie(response)
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_deactivation_ends_an_open_session(app, client, person):
    login(client, person)
    assert client.get("/dashboard").status_code == 200
    with app.app_context():
        user_by_email(person).active = False
        db.session.commit()
    response = client.get("/dashboard")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_changing_the_password_ends_other_sessions_but_not_this_one(app, person):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, person)
    login(phone, person)
    assert phone.get("/dashboard").status_code == 200
    changed = laptop.post(
        "/auth/account",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "a-brand-new-secret",
            "pw-confirm": "a-brand-new-secret",
        },
    )
    assert changed.status_code == 302
    assert laptop.get("/dashboard").status_code == 200  # the browser that changed it stays in
    stale = phone.get("/dashboard")
    assert stale.status_code == 302 and "/auth/login" in stale.headers["Location"]
