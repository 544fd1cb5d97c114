"""Account forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

PASSWORD_HINT = "At least 10 characters."


class LoginForm(FlaskForm):
    """Sign-in form: email and password."""

    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Length(max=254)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Enter your password."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField("Keep me logged in on this device")


class ChangePasswordForm(FlaskForm):
    """Account page form to change one's password."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password.")],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        description=PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
        validators=[
            DataRequired("Enter a new password."),
            Length(min=10, max=200, message="Use between 10 and 200 characters."),
        ],
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[EqualTo("new_password", message="The two passwords do not match.")],
    )


class ProfileForm(FlaskForm):
    """Account page form to change one's name."""

    name = StringField("Full name", validators=[DataRequired("Enter your name."), Length(max=200)])


class RequestResetForm(FlaskForm):
    """Forgot-password form asking for the account's email."""

    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )


class ResetPasswordForm(FlaskForm):
    """Form behind a reset link to choose a new password."""

    password = PasswordField(
        "New password",
        description=PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
        validators=[
            DataRequired("Enter a new password."),
            Length(min=10, max=200, message="Use between 10 and 200 characters."),
        ],
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[EqualTo("password", message="The two passwords do not match.")],
    )


NAME_VALIDATORS = [
    DataRequired("Enter your full name."),
    Length(max=200, message="Use at most 200 characters for your name."),
]
NEW_PASSWORD_VALIDATORS = [
    DataRequired("Choose a password."),
    Length(min=10, max=200, message="Use between 10 and 200 characters."),
]


class InvitationRegisterForm(FlaskForm):
    """Create the account an invitation is addressed to (the email comes from the invitation)."""

    name = StringField("Full name", validators=NAME_VALIDATORS, render_kw={"autocomplete": "name"})
    password = PasswordField(
        "Password",
        description=PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
        validators=NEW_PASSWORD_VALIDATORS,
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[EqualTo("password", message="The two passwords do not match.")],
    )


class AcceptInvitationForm(FlaskForm):
    """A logged-in user accepts with one POST (a GET must never change anything)."""


class RegisterForm(FlaskForm):
    """Open self-registration as a learner, first step: who and where (a link is mailed)."""

    name = StringField("Full name", validators=NAME_VALIDATORS, render_kw={"autocomplete": "name"})
    email = EmailField(
        "Email address",
        description="You will log in with this address.",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter a valid email address, like name@example.org."),
            Length(max=254, message="Use at most 254 characters."),
        ],
    )
    organization = SelectField(
        "Organization",
        description="The university, company or centre you learn with.",
        validate_choice=False,  # checked against the open organizations in the view
    )


class FinishRegistrationForm(FlaskForm):
    """Second step of self-registration, from the link mailed to the address: the password."""

    password = PasswordField(
        "Password",
        description=PASSWORD_HINT,
        render_kw={"autocomplete": "new-password"},
        validators=NEW_PASSWORD_VALIDATORS,
    )
    confirm = PasswordField(
        "Confirm password",
        validators=[EqualTo("password", message="The two passwords do not match.")],
    )
