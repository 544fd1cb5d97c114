"""Password hashes: Argon2id at OWASP's parameters; older hashes still log in and are upgraded."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from lms.extensions import db
from lms.passwords import hash_password, needs_rehash, verify_password
from tests.foundation_factories import PASSWORD, login, make_user, user_by_email

EMAIL = "old.hash@example.org"


def test_new_passwords_are_argon2id_at_owasp_parameters():
    stored = hash_password("correct horse battery staple")
    # OWASP Password Storage Cheat Sheet: Argon2id, m=19 MiB, t=2, p=1.
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapler")
    assert not needs_rehash(stored)
    assert hash_password("same") != hash_password("same")  # salted


@pytest.mark.parametrize("stored", ["", "not-a-hash", "$argon2id$v=19$garbage", "scrypt:1:2"])
def test_unusable_stored_hashes_never_match(stored):
    assert not verify_password(stored, "anything")
    assert needs_rehash(stored)


@pytest.mark.parametrize(
    "method", ["scrypt", "pbkdf2:sha256:600000", "argon2-weaker"], ids=["scrypt", "pbkdf2", "weak"]
)
def test_an_older_hash_logs_in_and_is_upgraded(app, client, method):
    """Accounts hashed before (Werkzeug's scrypt, pbkdf2, weaker Argon2) need no reset."""
    from argon2 import PasswordHasher

    if method == "argon2-weaker":
        old = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    else:
        old = generate_password_hash(PASSWORD, method=method)
    with app.app_context():
        make_user(EMAIL, "Olga Old").password_hash = old
        db.session.commit()

    assert login(client, EMAIL, "not-the-password").status_code == 401
    with app.app_context():
        assert user_by_email(EMAIL).password_hash == old  # a failed login changes nothing

    assert login(client, EMAIL).status_code == 302
    assert b"Olga Old" in client.get("/dashboard").data  # the session opened with the upgrade
    with app.app_context():
        upgraded = user_by_email(EMAIL).password_hash
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not needs_rehash(upgraded)

    client.post("/auth/logout")
    assert login(client, EMAIL).status_code == 302  # the same password, against the new hash
    with app.app_context():
        assert user_by_email(EMAIL).password_hash == upgraded  # not hashed again


def test_changing_the_password_stores_argon2id(app, client):
    with app.app_context():
        make_user(EMAIL, "Olga Old")
        db.session.commit()
    login(client, EMAIL)
    with app.app_context():
        before = user_by_email(EMAIL).password_hash
    new = "a-brand-new-pass-2026"
    answer = client.post(
        "/auth/account",
        data={"pw-current_password": PASSWORD, "pw-new_password": new, "pw-confirm": new},
    )
    assert answer.status_code == 302
    with app.app_context():
        stored = user_by_email(EMAIL).password_hash
    assert stored != before and stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, new)
