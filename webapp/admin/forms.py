"""Admin forms (Flask-WTF): labelled fields, CSRF included, messages through gettext."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from webapp.models import Role, Status

ROLE_LABELS = {
    Role.RESIDENT: _l("Resident"),
    Role.LIAISON: _l("Neighborhood liaison"),
    Role.STAFF: _l("City staff"),
    Role.ADMIN: _l("Administrator"),
}
ROLE_CHOICES = [SelectChoice(r.value, ROLE_LABELS.get(r, r.value)) for r in Role]


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def _coerce_optional_int(value):
    """Select values: "" means none, anything else a whole number."""
    return int(value) if value not in (None, "", "None") else None


class DepartmentForm(FlaskForm):
    """A department."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    submit = SubmitField(_l("Save department"))


SLA_UNIT_CHOICES = [
    ("days", _l("Calendar days")),
    ("business_days", _l("Business days (the city's working days and hours)")),
    ("business_hours", _l("Business hours")),
]


class ServiceForm(FlaskForm):
    """A service (request category)."""

    service_code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    group = StringField(_l("Group"), validators=[Optional(), Length(max=80)])
    keywords = StringField(_l("Keywords (comma separated)"), validators=[Optional()])
    department_id = SelectField(_l("Department"), coerce=_coerce_optional_int)
    sla_days = IntegerField(
        _l("Target days to close (SLA)"), validators=[Optional(), NumberRange(1, 365)]
    )
    sla_unit = SelectField(
        _l("The target counts"), choices=choices(SLA_UNIT_CHOICES), default="days"
    )
    sla_hours = IntegerField(
        _l("Target business hours (for “business hours”)"),
        validators=[Optional(), NumberRange(1, 2000)],
    )
    active = BooleanField(_l("Active (residents can choose it)"), default=True)
    public = BooleanField(_l("Public (listed and shown on the map)"), default=True)
    submit = SubmitField(_l("Save service"))


DATATYPE_CHOICES = [
    ("string", _l("Short text")),
    ("text", _l("Longer text")),
    ("number", _l("Number")),
    ("datetime", _l("Date and time")),
    ("singlevaluelist", _l("Pick one from a list")),
    ("multivaluelist", _l("Pick any from a list")),
]


class AttributeForm(FlaskForm):
    """An extra question of a service."""

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)])
    description = StringField(_l("Question"), validators=[DataRequired(), Length(max=500)])
    datatype = SelectField(_l("Answer type"), choices=choices(DATATYPE_CHOICES))
    required = BooleanField(_l("Required"))
    values = TextAreaField(
        _l("Choices, one per line as key=Name (list types only)"), validators=[Optional()]
    )
    submit = SubmitField(_l("Add question"))


class NeighborhoodForm(FlaskForm):
    """A neighborhood: name and a GeoJSON polygon file."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    geojson = FileField(_l("GeoJSON file with one Polygon or MultiPolygon"))
    submit = SubmitField(_l("Save neighborhood"))


class NewUserForm(FlaskForm):
    """A new staff, liaison or admin account."""

    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Temporary password"), validators=[DataRequired(), Length(min=10, max=200)]
    )
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default=Role.STAFF)
    neighborhood_id = SelectField(_l("Neighborhood (liaisons)"), coerce=_coerce_optional_int)
    department_id = SelectField(_l("Department (staff)"), coerce=_coerce_optional_int)
    submit = SubmitField(_l("Create account"))


class EditUserForm(FlaskForm):
    """Role, neighborhood, department and whether the account may sign in."""

    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    neighborhood_id = SelectField(_l("Neighborhood (liaisons)"), coerce=_coerce_optional_int)
    department_id = SelectField(_l("Department (staff)"), coerce=_coerce_optional_int)
    supervisor = BooleanField(_l("Supervisor (told when the department's requests go overdue)"))
    active = BooleanField(_l("Active (may sign in)"))
    submit = SubmitField(_l("Save account"))


class ApiKeyForm(FlaskForm):
    """A new Open311 API key."""

    name = StringField(_l("Who is it for?"), validators=[DataRequired(), Length(max=120)])
    submit = SubmitField(_l("Issue key"))


class TemplateForm(FlaskForm):
    """A response template staff can start a note from."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    service_id = SelectField(_l("Service"), coerce=_coerce_optional_int)
    status = SelectField(
        _l("For status"),
        choices=choices(
            [
                ("", _l("Any")),
                # the glossary's words (webapp.domain.glossary), lazily translated
                (Status.SUBMITTED, _l("Received")),
                (Status.ACKNOWLEDGED, _l("Seen by the city")),
                (Status.IN_PROGRESS, _l("Work in progress")),
                (Status.CLOSED, _l("Closed")),
            ]
        ),
    )
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=4000)])
    submit = SubmitField(_l("Save template"))


class ConfirmForm(FlaskForm):
    """A bare form for one-button actions (revoke, delete): only the CSRF token."""

    submit = SubmitField(_l("Confirm"))


class ForwardTargetForm(FlaskForm):
    """The city's Open311 CRM for a department or a service."""

    name = StringField(_l("Name of the CRM"), validators=[DataRequired(), Length(max=120)])
    department_id = SelectField(_l("For the department"), coerce=_coerce_optional_int)
    service_id = SelectField(_l("Or only for the service"), coerce=_coerce_optional_int)
    endpoint = StringField(
        _l("Open311 endpoint (ending in /open311/v2/ or similar)"),
        validators=[DataRequired(), Length(max=500)],
    )
    jurisdiction_id = StringField(_l("Jurisdiction id"), validators=[Optional(), Length(max=120)])
    api_key = StringField(_l("API key the CRM issued"), validators=[Optional(), Length(max=255)])
    active = BooleanField(_l("Active (send new requests there)"), default=True)
    submit = SubmitField(_l("Save CRM"))
