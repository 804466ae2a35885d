"""Admin forms for the front door: knowledge answers and routing rules."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from webapp.admin.forms import _coerce_optional_int


class AnswerForm(FlaskForm):
    """A knowledge answer: Markdown body, services and topics; "Preview" renders it unsaved."""

    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    slug = StringField(
        _l("Address (letters, digits, hyphens; empty: from the title)"),
        validators=[Optional(), Length(max=120)],
    )
    summary = StringField(_l("One-line summary"), validators=[Optional(), Length(max=300)])
    body = TextAreaField(
        _l("Answer (Markdown: **bold**, lists with -, [links](https://…))"),
        validators=[DataRequired(), Length(max=20000)],
        render_kw={"rows": 12},
    )
    keywords = StringField(_l("Other words people use (comma separated)"), validators=[Optional()])
    service_ids = SelectMultipleField(_l("Shown before these services' forms"), coerce=int)
    topics = StringField(
        _l("General topics (comma separated, e.g. trash days, permits)"), validators=[Optional()]
    )
    published = BooleanField(_l("Published (residents can read it)"), default=True)
    preview = SubmitField(_l("Preview"))
    submit = SubmitField(_l("Save answer"))


class RoutingRuleForm(FlaskForm):
    """One routing rule: (service, neighborhood or drawn area) → department and person."""

    name = StringField(_l("Name (for staff)"), validators=[Optional(), Length(max=120)])
    service_id = SelectField(_l("Service (empty: any)"), coerce=_coerce_optional_int)
    neighborhood_id = SelectField(_l("Neighborhood (empty: any)"), coerce=_coerce_optional_int)
    area_geojson = TextAreaField(
        _l("Or a drawn area (GeoJSON polygon)"), validators=[Optional()], render_kw={"rows": 3}
    )
    department_id = SelectField(_l("Department"), coerce=_coerce_optional_int)
    assignee_id = SelectField(_l("Assign to (optional)"), coerce=_coerce_optional_int)
    active = BooleanField(_l("Active"), default=True)
    submit = SubmitField(_l("Save rule"))
