"""Administration forms: organizations, departments, members, invitations, site settings."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from lms.forms import options
from lms.models import ORG_KIND_LABELS, ROLE_LABELS

ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]
KIND_CHOICES = [(kind.value, label) for kind, label in ORG_KIND_LABELS.items()]


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes (easier to use than a multi-select list)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class OrganizationForm(FlaskForm):
    """Site admin's form to create or edit a member organization of the cluster."""

    name = StringField(
        "Name",
        validators=[
            DataRequired("Enter the organization's name."),
            Length(max=200, message="Use at most 200 characters."),
        ],
    )
    slug = StringField(
        "Short name",
        description="Used in addresses: lower-case letters, digits and hyphens, like acme-labs.",
        validators=[
            DataRequired("Enter a short name."),
            Length(max=80, message="Use at most 80 characters."),
            Regexp(
                r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
                message="Use only lower-case letters, digits and single hyphens, like acme-labs.",
            ),
        ],
    )
    kind = SelectField("Kind", choices=options(KIND_CHOICES), validate_choice=False)
    description = TextAreaField(
        "Description",
        description="One or two sentences shown to partners. Optional.",
        validators=[Optional(), Length(max=2000, message="Use at most 2,000 characters.")],
        render_kw={"class": "prose", "rows": 4},
    )


class DepartmentForm(FlaskForm):
    """Org admin's form to name a department of the organization."""

    name = StringField(
        "Department name",
        validators=[
            DataRequired("Enter a department name."),
            Length(max=120, message="Use at most 120 characters."),
        ],
    )


class InvitationForm(FlaskForm):
    """Org admin's form to invite a person by email with a role and department."""

    email = EmailField(
        "Email address",
        description="The invitation link is mailed to this address and works only for it.",
        validators=[
            DataRequired("Enter the email address of the person to invite."),
            Email("Enter a valid email address, like name@example.org."),
            Length(max=254, message="Use at most 254 characters."),
        ],
    )
    role = SelectField(
        "Role", choices=options(ROLE_CHOICES), default="learner", validate_choice=False
    )
    department = SelectField(
        "Department",
        description="Employees belong to one department; HR filters by it. Optional.",
        validate_choice=False,
    )


class MemberForm(FlaskForm):
    """Org admin's form to change a member's roles and department."""

    roles = MultiCheckboxField("Roles", choices=options(ROLE_CHOICES), validate_choice=False)
    department = SelectField("Department", validate_choice=False)


class SiteSettingsForm(FlaskForm):
    """Site admin's form for self-registration and the organizations it opens."""

    self_registration = BooleanField(
        "Allow open self-registration as a learner",
        description="When off, people join only through an invitation from an organization.",
    )
    organizations = MultiCheckboxField(
        "Organizations that accept self-registered learners",
        description="The learner picks one of these. With none ticked, self-registered learners "
        "get an account without an organization and see the cluster-wide catalogue.",
        validate_choice=False,
    )
