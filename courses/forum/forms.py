"""Forum forms: the authoring settings, new discussion, reply, edit, report, moderation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from courses.forum.services import MAX_BODY, MAX_REASON, MAX_TITLE

BODY_HINT = "Markdown: **bold**, lists, `code`, ```python fenced code```, links."


class ForumForm(FlaskForm):
    """The forum's own settings (inside the activity edit page)."""

    kind = SelectField(
        "Kind of forum",
        choices=[SelectChoice("general", "General discussion"),
                 SelectChoice("qa", "Questions and answers (a reply can be marked as the answer)")],
    )  # fmt: skip
    intro = TextAreaField(
        "Introduction", description="Markdown. What to discuss here and how.",
        validators=[Length(max=20_000)], render_kw={"rows": 5},
    )  # fmt: skip
    completion_posts = IntegerField(
        "Discussions to start", description="For completion: how many discussions (or questions) "
        "a learner starts. Empty with the next field empty: any one post completes.",
        validators=[Optional(), NumberRange(1, 100, "From 1 to 100.")],
    )  # fmt: skip
    completion_replies = IntegerField(
        "Replies to write", description="For completion: how many replies a learner writes.",
        validators=[Optional(), NumberRange(1, 100, "From 1 to 100.")],
    )  # fmt: skip


class ThreadForm(FlaskForm):
    """A new discussion."""

    title = StringField(
        "Title", validators=[DataRequired("Give the discussion a title."), Length(max=MAX_TITLE)]
    )
    body = TextAreaField(
        "Message", description=BODY_HINT,
        validators=[DataRequired("Write something before posting."), Length(max=MAX_BODY)],
        render_kw={"rows": 8},
    )  # fmt: skip


class ReplyForm(FlaskForm):
    """A reply."""

    parent_id = HiddenField()
    body = TextAreaField(
        "Your reply", description=BODY_HINT,
        validators=[DataRequired("Write something before posting."), Length(max=MAX_BODY)],
        render_kw={"rows": 5},
    )  # fmt: skip


class EditForm(FlaskForm):
    """An edit of one's own post."""

    body = TextAreaField(
        "Message", description=BODY_HINT,
        validators=[DataRequired("Write something."), Length(max=MAX_BODY)],
        render_kw={"rows": 8},
    )  # fmt: skip


class ReasonForm(FlaskForm):
    """An action with a reason (report, hide, delete) or just the CSRF token."""

    action = HiddenField()
    reason = StringField("Reason", validators=[Length(max=MAX_REASON)])
