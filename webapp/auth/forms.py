"""The sign-up and sign-in forms; labels and messages go through gettext."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length


class SignInForm(FlaskForm):
    """Email and password."""

    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    submit = SubmitField(_l("Sign in"))


def new_password_field(label) -> PasswordField:
    """A new password, held to the same minimum wherever one is chosen."""
    return PasswordField(
        label,
        validators=[
            DataRequired(),
            Length(min=10, max=200, message=_l("Use at least 10 characters.")),
        ],
    )


def password_again_field() -> PasswordField:
    """The new password typed again, to catch a slip."""
    return PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
    )


class SignUpForm(FlaskForm):
    """A new resident account."""

    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = new_password_field(_l("Password"))
    confirm = password_again_field()
    submit = SubmitField(_l("Create account"))


class SetPasswordForm(FlaskForm):
    """A new password, from the link an account's welcome e-mail carries."""

    password = new_password_field(_l("New password"))
    confirm = password_again_field()
    submit = SubmitField(_l("Set my password"))
