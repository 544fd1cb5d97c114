"""``flask forum digest``: the daily digest mails (run it from cron once a day)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.extensions import db

forum_cli = AppGroup("forum", help="Forum mail.")


@forum_cli.command("digest")
def digest_command() -> None:
    """Send each digest subscriber the posts since their last digest."""
    from courses.forum.mail import send_digests

    count = send_digests()
    db.session.commit()
    click.echo(f"Queued {count} digest mail{'s' if count != 1 else ''}.")
