"""Account forms."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

PASSWORD_HINT = "At least 10 characters."


class LoginForm(FlaskForm):
    email = EmailField(
        "Email address", validators=[DataRequired("Enter your email address."), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=200)]
    )
    remember = BooleanField("Keep me logged in on this device")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )
    new_password = PasswordField(
        "New password",
        description=PASSWORD_HINT,
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
    name = StringField("Full name", validators=[DataRequired("Enter your name."), Length(max=200)])


class RequestResetForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[
            DataRequired("Enter your email address."),
            Email("Enter a valid email address."),
            Length(max=254),
        ],
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        description=PASSWORD_HINT,
        validators=[
            DataRequired("Enter a new password."),
            Length(min=10, max=200, message="Use between 10 and 200 characters."),
        ],
    )
    confirm = PasswordField(
        "Confirm new password",
        validators=[EqualTo("password", message="The two passwords do not match.")],
    )
