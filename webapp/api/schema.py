"""Declared input of every /api/v1 operation: validated on the way in, documented once.

Each view declares its query, headers and body as pydantic models with ``operation``
(a thin layer over spectree's ``validate``). The same declaration checks every call and
generates ``/api/v1/openapi.json``, so the document cannot drift from what the server
enforces. Text and number fields use the shared rules of ``webapp.plumbing.inputs``.

A refused input answers the API's one error shape: 400 for the query string and
headers (as the API has always answered a bad filter), 422 for a body. ``details``
names the first wrong field in ``field`` and every wrong field in ``fields``.
"""

from __future__ import annotations

import json as _json
from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, ClassVar

from flask import Response as FlaskResponse
from flask import current_app, request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from spectree import Response, SpecTree
from spectree.model_adapter.pydantic_adapter import PydanticModelAdapter
from spectree.plugins.flask_plugin import FlaskPlugin

from webapp.api.responses import Envelope
from webapp.domain.errors import DomainError

QUERY_STATUS = 400
BODY_STATUS = 422
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 422, 429, 503)
# A blank form or query value: "not chosen".
BLANK = {"type": "string", "pattern": "^\\s*$"}


class Input(BaseModel):
    """Base of every declared input: unknown fields are refused, text is as sent.

    Forms and query strings send "" for "not chosen". The optional fields a model names
    in ``BLANK_IS_ABSENT`` treat a blank value as not sent, so their default applies.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    BLANK_IS_ABSENT: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema, handler):  # noqa: ANN001 - pydantic's hook
        """The document says so too: each of ``BLANK_IS_ABSENT`` may also be blank."""
        schema = handler(core_schema)
        properties = handler.resolve_ref_schema(schema).get("properties", {})
        for name in cls.BLANK_IS_ABSENT:
            field = properties.get(name)
            if field is None:
                continue
            if "anyOf" in field:
                field["anyOf"].append(dict(BLANK))
            else:
                kept = {k: field.pop(k) for k in ("title", "description", "default") if k in field}
                properties[name] = {**kept, "anyOf": [field, dict(BLANK)]}
        return schema

    @model_validator(mode="before")
    @classmethod
    def _blank_is_absent(cls, data: Any) -> Any:
        if not cls.BLANK_IS_ABSENT or not isinstance(data, dict):
            return data
        return {
            name: value
            for name, value in data.items()
            if not (
                name in cls.BLANK_IS_ABSENT and isinstance(value, str) and value.strip() == ""
            )
        }


class ErrorDetail(BaseModel):
    """The inside of the one error shape."""

    status: int
    code: str
    message: str
    details: dict[str, Any]


class Error(BaseModel):
    """``{"error": {status, code, message, details}}``: every API error."""

    error: ErrorDetail


class DocumentedResponses(Response):
    """Response models that document every operation, and are checked under test.

    In production a response is not re-validated (it is built by our own code); in
    tests every answer is, so a reply that strays from the document fails the suite.
    """

    def find_model(self, code: int):  # noqa: D401 - spectree's hook
        if current_app.testing:
            return super().find_model(code)
        return None


# The names pydantic gives the branches of a union in an error's location (``lat.float``).
UNION_BRANCHES = ("float", "int", "str", "bool", "none", "constrained-str", "constrained-float")


def _branch(part: object) -> bool:
    """True for a part of an error's location that names a union's branch, not a field."""
    text = str(part)
    return text in UNION_BRANCHES or "[" in text or text.startswith("function-")


def _message(error: dict) -> tuple[str, str]:
    """(field name, plain message) for one pydantic error."""
    field = ".".join(
        str(part) for part in error.get("loc", ()) if part != "__root__" and not _branch(part)
    )
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    name = field or _("The body")
    if kind == "missing":
        return field, _("%(name)s is required.", name=name)
    if kind == "extra_forbidden":
        return field, _("%(name)s is not a field of this operation.", name=name)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return field, _("%(name)s must be a JSON object.", name=name)
    if kind == "string_too_long":
        return field, _(
            "%(name)s is too long (at most %(count)s characters).",
            name=name,
            count=context.get("max_length"),
        )
    if kind == "string_too_short":
        return field, _("%(name)s must not be empty.", name=name)
    if kind in ("int_parsing", "int_type", "int_from_float", "number"):
        return field, _("%(name)s must be a whole number.", name=name)
    if kind in ("float_parsing", "float_type", "finite_number"):
        return field, _("%(name)s must be a number.", name=name)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than", "range"):
        return field, _("%(name)s is out of range.", name=name)
    if kind in ("literal_error", "enum"):
        return field, _(
            "%(name)s must be one of: %(expected)s.", name=name, expected=context.get("expected")
        )
    if kind in ("bool_parsing", "bool_type"):
        return field, _("%(name)s must be true or false.", name=name)
    if kind == "bbox":
        return field, _(
            "bbox must be four numbers minLon,minLat,maxLon,maxLat, in order and in range."
        )
    if kind in ("characters", "too_long"):
        return field, f"{name} {error.get('msg', '')}."
    if kind == "value_error":
        return field, f"{name}: {str(context.get('error') or error.get('msg', ''))}"
    return field, _("%(name)s is not valid.", name=name)


def refusal(error: ValidationError, status: int) -> DomainError:
    """The API's error for a refused input, naming every wrong field."""
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        field, message = _message(item)
        fields.setdefault(field, message)
    first_field, first_message = next(iter(fields.items()))
    return DomainError(
        first_message,
        status=status,
        field=first_field.rsplit(".", 1)[-1] or None,
        details={"fields": fields},
    )


def _refuse_on_failure(statuses: dict[str, int]) -> Callable:
    """spectree's "before" hook: turn a validation failure into our error shape."""

    def before(_req, _resp, error, _instance, *_rest) -> None:
        if error is not None:
            raise refusal(error, statuses.get(error.title, BODY_STATUS))

    return before


class _Adapter(PydanticModelAdapter):
    """spectree's pydantic adapter, without echoing the input (it may be an upload)."""

    def validation_errors(self, err: ValidationError) -> Any:
        return err.errors(include_context=False, include_input=False, include_url=False)


class _Plugin(FlaskPlugin):
    """spectree's Flask plugin, handing our own answers through untouched outside tests.

    Out of test no answer is re-validated (``DocumentedResponses``), yet the plugin still
    reads each answer's body and copies it into a new response: a tenth of a
    millisecond on a map page, for the same bytes, status and headers.
    """

    def validate_response(self, resp, resp_model, skip_validation, force_resp_serialize):
        if not current_app.testing and isinstance(resp, FlaskResponse):
            return resp, None
        return super().validate_response(resp, resp_model, skip_validation, force_resp_serialize)


spec = SpecTree(
    "flask",
    backend=_Plugin,
    mode="strict",
    title="Civic311 API",
    version="1",
    description=(
        "Resident, liaison and staff API of Civic311. Successful responses are "
        "{data, meta}; errors are {error: {status, code, message, details}}. "
        "State-changing calls must send X-Requested-With: civic311."
    ),
    annotations=False,
    validation_error_status=BODY_STATUS,
    validation_error_model=Error,
    model_adapter=_Adapter(),
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)


def operation(
    *,
    tags: Iterable[str],
    query: type[BaseModel] | None = None,
    headers: type[BaseModel] | None = None,
    json: type[BaseModel] | None = None,
    form: type[BaseModel] | None = None,
    success: Iterable[int] = (200,),
    path: dict[str, str] | None = None,
    enveloped: bool = True,
    returns: type[BaseModel] | None = None,
    body_required: bool = True,
) -> Callable:
    """Declare an operation's input once: it is validated and it is documented.

    ``query``/``headers`` refusals answer 400, ``json``/``form`` refusals 422. The
    view reads the checked values from ``inputs()``. The docstring's first line is
    the summary in the document. ``path`` describes the path parameters;
    ``returns`` is the answer's model (``webapp.api.responses``); ``enveloped=False`` for
    the one answer that is not ``{data, meta}`` (the document); ``body_required=False``
    documents a body the caller may leave out (a plain follow, "this answered my question").
    """
    statuses = {}
    for model, status in ((query, QUERY_STATUS), (headers, QUERY_STATUS)):
        if model is not None:
            statuses[model.__name__] = status
    answer = (returns or Envelope) if enveloped else None
    codes: dict[str, Any] = {f"HTTP_{code}": answer for code in success}
    codes.update({f"HTTP_{code}": Error for code in ERROR_STATUSES})
    validate = spec.validate(
        query=query,
        headers=headers,
        json=json,
        form=form,
        resp=DocumentedResponses(**codes),
        tags=tuple(tags),
        before=_refuse_on_failure(statuses),
        path_parameter_descriptions=path,
    )

    def decorate(view: Callable) -> Callable:
        checked = validate(_sent_body_is_declared(view, json=json, form=form))
        checked.declared_body = json  # spectree leaves DELETE bodies unchecked
        checked.body_optional = not body_required
        return checked

    return decorate


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _refuse_undeclared_body(json: type[BaseModel] | None, form: type[BaseModel] | None) -> None:
    """A body the operation does not declare is refused, never read as "nothing sent".

    spectree reads a body that is not JSON (or a JSON value that is not an object) as
    ``{}``, which an operation whose fields are all optional would accept: a form sent to
    a JSON-only operation answers 415, bytes that do not parse 400, ``[]`` or ``null`` 422.
    """
    if request.method in ("GET", "HEAD", "DELETE") or not request.get_data(cache=True):
        return
    if request.mimetype in FORM_TYPES:
        if form is None:
            raise DomainError(_("Please send a JSON object."), status=415)
        return
    if json is None:
        raise DomainError(_("Please send the fields as a form."), status=415)
    if not request.is_json:
        raise DomainError(_("Please send a JSON object."), status=415)
    try:
        sent = _json.loads(request.get_data(cache=True))
    except ValueError:
        raise DomainError(_("Please send a JSON object."), status=400) from None
    if not isinstance(sent, dict):
        raise DomainError(_("%(name)s must be a JSON object.", name=_("The body")), status=422)


def _sent_body_is_declared(view: Callable, *, json, form) -> Callable:
    """Run ``_refuse_undeclared_body`` before the declared input is validated."""

    @wraps(view)
    def checked(*args, **kwargs):
        _refuse_undeclared_body(json, form)
        return view(*args, **kwargs)

    if json is None and form is None:
        return view
    return checked


class Checked:
    """The checked input of the current call (``query``, ``headers``, ``json``, ``form``)."""

    def __getattr__(self, name: str) -> Any:
        context = getattr(request, "context", None)
        return getattr(context, name, None) if context is not None else None


def inputs() -> Any:
    """The checked input of the current call, as declared with ``operation``."""
    return Checked()


def declared(view: Callable | None, name: str, default: Any = None) -> Any:
    """What ``operation`` recorded as ``name`` on ``view`` (under any outer decorator)."""
    while view is not None:
        if hasattr(view, name):
            return getattr(view, name)
        view = getattr(view, "__wrapped__", None)
    return default


def _declared_body() -> type[BaseModel] | None:
    return declared(current_app.view_functions.get(request.endpoint or ""), "declared_body")


def body() -> Any:
    """The checked body, JSON or form, or a 400 when neither was sent."""
    checked = inputs()
    value = checked.json if checked.json is not None else checked.form
    if value is None and request.method == "DELETE" and request.is_json:
        model = _declared_body()
        if model is not None:
            try:
                value = model.model_validate(request.get_json(silent=True) or {})
            except ValidationError as error:
                raise refusal(error, BODY_STATUS) from None
    if value is None:
        raise DomainError(_("Please send a JSON object."), status=400)
    return value
