"""``flask --app app lms ...`` commands."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from lms.extensions import db
from lms.models import User
from lms.pagecache.generations import bump
from lms.seed import ACCOUNTS, DEMO_PASSWORD, seed_demo

lms_cli = AppGroup("lms", help="EduCluster administration.")


@lms_cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when the database has no users yet.")
def seed_demo_command(if_empty: bool) -> None:
    """Create the demo cluster (idempotent: running it again changes nothing)."""
    if if_empty and db.session.scalar(select(func.count(User.id))):
        click.echo("The database already has users; not seeding.")
        return
    seed_demo()
    click.echo("")
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for email, name, _admin, memberships in ACCOUNTS:
        roles = ", ".join(f"{role} at {org}" for org, role, _ in memberships) or "site admin"
        click.echo(f"  {email:<24} {name:<20} {roles}")


@lms_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a site administrator (or promote an existing account)."""
    email = User.normalise_email(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, name=name)
        db.session.add(user)
    user.is_site_admin = True
    user.set_password(password)
    db.session.commit()
    click.echo(f"{email} is a site administrator.")


@lms_cli.command("expire-pages")
def expire_pages() -> None:
    """Put every kept learner page out of date in every web process (after changing data with
    raw SQL, which the page store does not see; see lms/pagecache)."""
    bump(db.session, site=True)
    db.session.commit()
    click.echo("Every kept page is out of date: each is rendered again at its next request.")
