"""What the outside may send us: one place for the rules of text and numbers.

Every door uses these rules — the JSON API's declared schemas (pydantic models, which
also generate the OpenAPI document), the staff and liaison filters, the open-data
exports and Open311:

- **Text** has a length limit (the database column's own length, read from the model,
  so the edge and the table can never disagree) and refuses NUL, control characters,
  lone surrogates and the non-characters U+FFFE/U+FFFF. Multi-line text also allows
  tab, line feed and carriage return, and ``\\r\\n`` becomes ``\\n``.
- **Whole numbers** are ASCII digits only (``²`` or ``٣`` are refused, not passed to
  ``int()``), at most 18 of them, then checked against explicit bounds.
- A NUL anywhere in a path, query string or form field is refused before any view
  runs (``refuse_nul_bytes``): 404 in a path, 400 elsewhere.

Refusals raise ``InputError`` (a ``ValueError``) here; the callers turn them into a
400 or 422 in their own error shape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Annotated, Any

from flask import Flask, request
from flask_babel import gettext as _
from pydantic import BeforeValidator, Field
from pydantic_core import PydanticCustomError

from webapp.domain.errors import DomainError
from webapp.domain.input_rules import (  # noqa: F401 - the rules, re-exported
    DEFAULT_TEXT,
    LONG_TEXT,
    MAX_DIGITS,
    MAX_ID,
    MAX_PAGE,
    MULTI_LINE_PATTERN,
    SINGLE_LINE_PATTERN,
    InputError,
    clean_text,
    column_length,
    whole_number,
)

# The doors with their own declared inputs and error shapes.
# Doors that check their own fields: the JSON API, Open311, and the text-message webhook
# (a resident's text may hold any character; the conversation cleans it and keeps it).
API_PATHS = ("/api/", "/open311/", "/sms/")
# The longest any page's field may be (the longest form field, an answer's body, is 20,000).
MAX_FORM_FIELD = 20_000

# --- pydantic field types: the same rules, declared once, documented in OpenAPI --------


def _text_validator(max_length: int, multiline: bool):
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            return value  # pydantic's own str check answers for the wrong type
        try:
            return clean_text(value, max_length=max_length, multiline=multiline)
        except InputError as error:
            raise PydanticCustomError(error.kind, error.message) from None

    return check


def Text(  # noqa: N802 - reads like a type in model declarations
    max_length: int | Any = DEFAULT_TEXT,
    *,
    multiline: bool = False,
    min_length: int | None = None,
    description: str | None = None,
    pattern: str | None = None,
    **extra: Any,
) -> Any:
    """A text field type: ``Text(ServiceRequest.address)`` or ``Text(120)``.

    Give a model column to take its length from the database. A ``pattern`` (anchored,
    of plain characters) is enforced as well as documented; without one the document
    states the character rules.
    """
    if not isinstance(max_length, int):
        max_length = column_length(max_length)
    documented = {"pattern": MULTI_LINE_PATTERN if multiline else SINGLE_LINE_PATTERN}
    if pattern is not None:
        documented = {"pattern": pattern}
    return Annotated[
        str,
        BeforeValidator(_text_validator(max_length, multiline)),
        Field(
            max_length=max_length,
            min_length=min_length,
            description=description,
            pattern=pattern,
            json_schema_extra={**documented, **extra},
        ),
    ]


# A whole number written with a zero fraction ("3.0"): JSON Schema's integers include it.
ZERO_FRACTION = re.compile(r"([0-9]+)\.0+")


def _number_validator(minimum: int, maximum: int):
    def check(value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, str) and (whole := ZERO_FRACTION.fullmatch(value)):
            value = whole.group(1)
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        try:
            return whole_number(value, minimum=minimum, maximum=maximum)
        except InputError as error:
            raise PydanticCustomError(error.kind, error.message) from None

    return check


def WholeNumber(  # noqa: N802 - reads like a type in model declarations
    minimum: int = 1, maximum: int = MAX_ID, *, description: str | None = None
) -> Any:
    """A bounded integer field type (ASCII digits only)."""
    return Annotated[
        int,
        Field(ge=minimum, le=maximum, description=description),
        BeforeValidator(_number_validator(minimum, maximum)),
    ]


def blank_is_none(value: Any) -> Any:
    """Form fields send "" for "not chosen"; treat it as absent."""
    return None if isinstance(value, str) and value.strip() == "" else value


# --- plain helpers for views that read request.args / request.form themselves ---------


def text_arg(
    args: Mapping, name: str, *, max_length: int = DEFAULT_TEXT, status: int = 400
) -> str | None:
    """A single-line text argument (stripped), or None when absent or blank."""
    raw = args.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return clean_text(raw.strip(), max_length=max_length)
    except InputError as error:
        raise DomainError(f"{name} {error.message}.", status=status, field=name) from None


def number_arg(
    args: Mapping,
    name: str,
    *,
    minimum: int = 1,
    maximum: int = MAX_ID,
    default: int | None = None,
    status: int = 400,
) -> int | None:
    """A bounded whole-number argument, ``default`` when absent or blank."""
    raw = args.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        return whole_number(raw, minimum=minimum, maximum=maximum)
    except InputError as error:
        raise DomainError(f"{name} {error.message}.", status=status, field=name) from None


def coordinate_arg(args: Mapping, name: str, *, status: int = 400) -> float | None:
    """A latitude (``lat``) or longitude (any other name) in degrees, or None when absent.

    Only a finite decimal number within the coordinate's range is one: ``NaN``, ``inf``
    and ``1e309`` are refused like words.
    """
    raw = args.get(name)
    if raw is None or str(raw).strip() == "":
        return None
    limit = 90 if name in ("lat", "latitude") else 180
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise DomainError(
            _(
                "%(name)s must be a number between %(low)s and %(high)s.",
                name=name,
                low=-limit,
                high=limit,
            ),
            status=status,
            field=name,
        )
    return value


def refuse_nul_bytes():
    """Refuse a NUL in the path (404), or in a query or form field (400), before any view.

    No text we keep may hold a NUL (PostgreSQL cannot store one), so it is refused at the
    door for every route, the streamed exports included.
    """
    if "\x00" in request.path:
        raise DomainError(_("We could not find that."), status=404)
    sources = [request.args]
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append(request.form)
    for source in sources:
        for key, values in source.lists():
            key = key or ""  # a multipart part may come without a name
            if "\x00" in key or any("\x00" in (value or "") for value in values):
                raise DomainError(
                    _(
                        "%(name)s contains characters that are not allowed.",
                        name=key.strip("\x00") or "?",
                    ),
                    status=400,
                    field=key.replace("\x00", ""),
                )


def check_page_fields():
    """Every field of every HTML form and page query follows the text rules at the door.

    The JSON API and Open311 check each field against its declaration (and answer in
    their own error shapes); the pages' forms and filters are checked here first, so no
    view of any blueprint sees control characters, lone surrogates or a field longer
    than ``MAX_FORM_FIELD``. Each view then reads its numbers and ids with
    ``number_arg``/``coordinate_arg`` and its text against the column's length.
    """
    if request.path.startswith(API_PATHS):
        return
    sources = [request.args]
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append(request.form)
    for source in sources:
        for key, values in source.lists():
            for value in [key or "", *values]:
                try:
                    clean_text(value or "", max_length=MAX_FORM_FIELD, multiline=True)
                except InputError as error:
                    name = (key or "?")[:40]
                    raise DomainError(f"{name} {error.message}.", status=400, field=name) from None


def init_app(app: Flask) -> None:
    """Guard every route against NUL bytes, and every page's fields by the text rules."""
    app.before_request(refuse_nul_bytes)
    app.before_request(check_page_fields)
