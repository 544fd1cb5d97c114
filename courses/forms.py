"""Forms of the course blueprint (the activity types bring their own)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from courses.services import LANGUAGES, PARTNER_ROLES
from lms.domain.models import LEVELS
from lms.forms import options
from lms.models import Organization

NOT_PARTNER = ""


class CourseForm(FlaskForm):
    """Trainer's form for a course's description, settings and partners."""

    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=200)])
    slug = StringField(
        "Web address (slug)",
        description="Lower-case words joined by hyphens. Leave empty to make one from the title.",
        validators=[Optional(), Length(max=120)],
    )
    summary = TextAreaField(
        "Summary",
        description="Markdown. What learners will be able to do, and for whom the course is.",
        validators=[Length(max=20000)],
        render_kw={"rows": 8},
    )
    level = SelectField("Level", choices=options((lv, lv.capitalize()) for lv in LEVELS))
    estimated_hours = DecimalField(
        "Estimated hours",
        places=1,
        default=4,
        description="Learning time including exercises.",
        validators=[InputRequired("Enter the estimated hours."), NumberRange(0.5, 1000)],
    )
    language = SelectField("Language", choices=options(LANGUAGES.items()))
    visibility = SelectField(
        "Who may take it",
        choices=options(
            [
                ("partners", "Learners of the partner organizations"),
                ("cluster", "Every learner of the cluster"),
            ]
        ),
    )
    enrolment_key = PasswordField(
        "Enrolment key",
        description="Optional. Learners must type it to enrol themselves. Stored hashed.",
        validators=[Optional(), Length(min=4, max=100)],
    )
    remove_key = BooleanField("Remove the enrolment key")
    completion_mode = SelectField(
        "Course completion",
        choices=options(
            [("all", "Every required activity"), ("n_of", "A number of required activities")]
        ),
    )
    completion_count = IntegerField(
        "Number of required activities",
        description="Only for “a number of required activities”.",
        validators=[Optional(), NumberRange(1, 1000)],
    )
    completion_min_grade = DecimalField(
        "Minimum course grade (%)",
        description="Optional. The weighted course grade a learner needs to complete.",
        places=0,
        validators=[Optional(), NumberRange(0, 100, "Enter a percentage from 0 to 100.")],
    )
    cover = FileField("Cover image", description="Optional. PNG, JPEG, GIF or WebP, up to 5 MB.")

    def partner_fields(self):
        """The per-organization partner checkboxes of the form."""
        return [f for f in self if f.name.startswith("partner_")]


def course_form_class(organizations: list[Organization]) -> type[CourseForm]:
    """CourseForm with one role select per organization of the cluster ("not a partner" first)."""
    attrs = {}
    choices = options([(NOT_PARTNER, "Not a partner"), *PARTNER_ROLES.items()])
    for org in organizations:
        attrs[f"partner_{org.id}"] = SelectField(
            org.name, choices=choices, default=NOT_PARTNER, description=org.kind_label
        )
    return type("CourseFormWithPartners", (CourseForm,), attrs)


class ModuleForm(FlaskForm):
    """Trainer's form to add or rename a module."""

    title = StringField(
        "Module title", validators=[DataRequired("Enter a module title."), Length(max=200)]
    )
    summary = TextAreaField("Summary", description="Optional, Markdown.", render_kw={"rows": 3})


class ActivityForm(FlaskForm):
    """Trainer's form for the settings every activity type shares."""

    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=200)])
    completion_rule = SelectField("Completes when")
    pass_mark = DecimalField(
        "Pass mark (%)",
        description="For “passed”: the grade needed. Empty: 50%.",
        places=0,
        validators=[Optional(), NumberRange(0, 100, "Enter a percentage from 0 to 100.")],
    )
    weight = DecimalField(
        "Weight in the course grade",
        places=1,
        default=1,
        validators=[InputRequired("Enter a weight."), NumberRange(0, 100)],
    )
    required = BooleanField("Required for course completion", default=True)
    available_from = DateTimeLocalField(
        "Available from (UTC)",
        format="%Y-%m-%dT%H:%M",
        description="Optional. Learners see it locked until then.",
        validators=[Optional()],
    )


RULE_LABELS = {
    "none": "No completion tracking",
    "viewed": "The learner opens it",
    "submitted": "The learner submits it",
    "graded": "A grader grades it",
    "passed": "The learner passes it",
}


class MoveActivityForm(FlaskForm):
    """Trainer's form to move an activity to another module."""

    module_id = SelectField("Move to module", coerce=int)


class ConditionForm(FlaskForm):
    """Trainer's form to add an access condition on another activity."""

    kind = SelectField(
        "Condition", choices=options([("completed", "Completed"), ("grade", "Grade at least")])
    )
    required_activity_id = SelectField("Activity", coerce=int)
    min_grade = DecimalField(
        "Minimum grade (%)", places=0, validators=[Optional(), NumberRange(0, 100)]
    )


class SignoffForm(FlaskForm):
    """Partner's form to sign off a course in review for their organization."""

    organization_id = SelectField("Sign off for", coerce=int)
    comment = TextAreaField(
        "Comment", description="Optional. What your organization checked.", render_kw={"rows": 3}
    )


class EnrolForm(FlaskForm):
    """Learner's enrol button, with the enrolment key if the course has one."""

    key = PasswordField("Enrolment key", validators=[Optional(), Length(max=100)])


class EnrolOtherForm(FlaskForm):
    """Trainer's form to enrol a learner by email."""

    email = EmailField(
        "Learner's email address",
        validators=[DataRequired("Enter an email address."), Email("Enter a valid email address.")],
    )


class UploadForm(FlaskForm):
    """Trainer's form to upload a course file."""

    file = FileField("File", description="Images, PDF, text or CSV, ZIP; up to 5 MB.")


class ImportForm(FlaskForm):
    """Trainer's form to import a course archive for an organization."""

    archive = FileField("Course archive (.zip)", render_kw={"accept": ".zip,application/zip"})
    organization_id = SelectField("Import for", coerce=int)


class ConfirmForm(FlaskForm):
    """An empty form: just the CSRF token of a POST button."""

    next = HiddenField()
