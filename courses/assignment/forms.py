"""Assignment forms: authoring settings, the learner's draft, grading, peer review, extensions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from courses.assignment.rubric import FINAL_RULE
from courses.assignment.services import ALLOWED_FILE_TYPES, MAX_FEEDBACK, MAX_TEXT

RUBRIC_HINT = (
    "One criterion per line (“Title: what it looks for”), its levels below it as "
    "“- Level title | points”. Example: “Reproducible cleaning: steps are code” then "
    "“- By hand | 0”, “- Partly scripted | 2”, “- Fully scripted | 4”."
)
RESUBMISSION_CHOICES = [
    SelectChoice("until_graded", "Learners may revert to a draft until their work is graded"),
    SelectChoice("on_request", "Only when a trainer reopens the submission"),
    SelectChoice("never", "One submission only"),
]


class AssignmentForm(FlaskForm):
    """The assignment's own settings (inside the activity edit page)."""

    instructions = TextAreaField(
        "Instructions",
        description="Markdown. What to hand in, for whom, and how it is judged.",
        validators=[Length(max=50_000)],
        render_kw={"rows": 10},
    )
    submit_text = BooleanField("Learners write a text answer (Markdown)", default=True)
    submit_files = BooleanField("Learners upload files", default=False)
    file_types = StringField(
        "Accepted file types",
        description="Comma-separated, from: " + ", ".join(sorted(ALLOWED_FILE_TYPES)) + ".",
        default="pdf, csv, py, txt",
        validators=[Length(max=200)],
    )
    max_file_mb = DecimalField(
        "Largest file (MB)", places=1, default=5,
        validators=[InputRequired("Enter a size."), NumberRange(0.1, 50, "From 0.1 to 50 MB.")],
    )  # fmt: skip
    max_files = IntegerField(
        "Files per submission", default=3,
        validators=[InputRequired("Enter a number."), NumberRange(1, 20, "From 1 to 20.")],
    )  # fmt: skip
    due_at = DateTimeLocalField(
        "Due (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()],
        description="Optional. Work handed in later is marked late.",
    )  # fmt: skip
    cutoff_at = DateTimeLocalField(
        "Cut-off (UTC)", format="%Y-%m-%dT%H:%M", validators=[Optional()],
        description="Optional. Nothing is accepted after it, except with an extension.",
    )  # fmt: skip
    resubmission = SelectField("Resubmission", choices=RESUBMISSION_CHOICES)
    grading = SelectField(
        "Grading",
        choices=[
            SelectChoice("score", "A score"),
            SelectChoice("rubric", "A rubric (criteria × levels)"),
        ],  # fmt: skip
    )
    max_score = DecimalField(
        "Maximum score", places=1, default=100,
        validators=[Optional(), NumberRange(1, 1000, "From 1 to 1000 points.")],
    )  # fmt: skip
    rubric = TextAreaField(
        "Rubric", description=RUBRIC_HINT, validators=[Length(max=20_000)],
        render_kw={"rows": 10},
    )  # fmt: skip
    peer_review = BooleanField("Peer review: learners review each other's work with the rubric")
    peer_count = IntegerField(
        "Reviews per learner", default=2,
        validators=[Optional(), NumberRange(1, 10, "From 1 to 10 reviews.")],
    )  # fmt: skip
    peer_weight = DecimalField(
        "Weight of the peer grade (%)", places=0, default=20, description=FINAL_RULE,
        validators=[Optional(), NumberRange(0, 100, "A percentage from 0 to 100.")],
    )  # fmt: skip
    graders = StringField(
        "Additional graders",
        description="Optional. Email addresses, comma-separated, of people who grade without "
        "authoring the course (e.g. a mentor at the enterprise partner).",
        validators=[Length(max=2000)],
    )


class SubmissionForm(FlaskForm):
    """The learner's text and files."""

    text = TextAreaField(
        "Your answer",
        description="Markdown: **bold**, lists, tables, ```code```.",
        validators=[Length(max=MAX_TEXT)],
        render_kw={"rows": 14},
    )
    files = MultipleFileField("Attach files")


class GradeForm(FlaskForm):
    """A score (the rubric's levels are read from the request), feedback and a file."""

    score = DecimalField("Score", places=1, validators=[Optional()])
    feedback = TextAreaField(
        "Feedback to the learner",
        description="Markdown. Shown with the grade once grades are released.",
        validators=[Length(max=MAX_FEEDBACK)],
        render_kw={"rows": 8},
    )
    feedback_file = FileField("Feedback file", description="Optional: an annotated PDF, etc.")


class ReviewForm(FlaskForm):
    """A peer's score (or rubric levels) and comment."""

    score = DecimalField("Score", places=1, validators=[Optional()])
    comment = TextAreaField(
        "Your review",
        description="Markdown. Say what works and what to improve; your name is not shown.",
        validators=[Length(max=MAX_FEEDBACK)],
        render_kw={"rows": 6},
    )


class ExtensionForm(FlaskForm):
    """A later due date for one learner."""

    email = EmailField(
        "Learner's email address",
        validators=[DataRequired("Enter an email address."), Email("Enter a valid email address.")],
    )
    due_at = DateTimeLocalField(
        "New due date (UTC)",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired("Enter the new due date.")],
    )
    reason = StringField("Reason", validators=[Length(max=500)])
