"""The rules of text and numbers that come from outside, as plain functions.

``webapp.plumbing.inputs`` builds the API's field types and the views' argument helpers on
these; domain rules call them directly, whichever door the input came through.
"""

from __future__ import annotations

import re
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _

from webapp.domain.errors import DomainError

MAX_ID = 2_147_483_647
MAX_DIGITS = 18
MAX_PAGE = 1_000_000
DEFAULT_TEXT = 255
LONG_TEXT = 4000
MAX_ADDRESS = 254

# C0 and C1 controls, DEL, lone surrogates and the two non-characters that XML forbids.
_SINGLE_LINE_BAD = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_MULTI_LINE_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_WHOLE_NUMBER = re.compile(rf"^[+-]?[0-9]{{1,{MAX_DIGITS}}}$")

SINGLE_LINE_PATTERN = "^[^\\x00-\\x1f\\x7f-\\x9f]*$"
MULTI_LINE_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]*$"


class InputError(ValueError):
    """A value from outside broke a rule. ``kind`` is ``characters``, ``too_long`` or
    ``number``; the message is plain language."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message


def column_length(column: Any, default: int = DEFAULT_TEXT) -> int:
    """The length of a model's string column (``ServiceRequest.address`` → 255)."""
    length = getattr(getattr(column, "type", None), "length", None)
    return int(length) if length else default


def clean_text(value: str, *, max_length: int, multiline: bool = False) -> str:
    """``value`` checked for characters and length; multi-line text gets ``\\n`` endings."""
    if multiline:
        value = value.replace("\r\n", "\n")
    bad = (_MULTI_LINE_BAD if multiline else _SINGLE_LINE_BAD).search(value)
    if bad:
        raise InputError("characters", _("contains characters that are not allowed"))
    if len(value) > max_length:
        raise InputError(
            "too_long", _("is too long (at most %(count)s characters)", count=max_length)
        )
    return value


def whole_number(raw: Any, *, minimum: int, maximum: int) -> int:
    """An integer from ASCII digits (or an int), within ``minimum..maximum``."""
    if isinstance(raw, bool):
        raise InputError("number", _("must be a whole number"))
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float) and raw.is_integer() and abs(raw) < 10**MAX_DIGITS:
        value = int(raw)
    elif isinstance(raw, str) and _WHOLE_NUMBER.match(raw.strip()):
        value = int(raw.strip())
    else:
        raise InputError("number", _("must be a whole number"))
    if not minimum <= value <= maximum:
        raise InputError(
            "range",
            _("must be between %(minimum)s and %(maximum)s", minimum=minimum, maximum=maximum),
        )
    return value


def check_fields(record: Any, columns: dict[str, Any]) -> None:
    """Check the single-line text attributes of ``record`` against their columns.

    Raises the domain's 422 naming the first field that breaks a rule.
    """
    for name, column in columns.items():
        value = getattr(record, name, None)
        if not value:
            continue
        try:
            clean_text(value, max_length=column_length(column))
        except InputError as error:
            raise DomainError(f"{name} {error.message}.", field=name) from None


def normalise_address(value: object, *, field: str = "email") -> str | None:
    """A clean address (domain lower-cased), None when empty, or a 422 naming ``field``.

    Only the syntax is checked here (no DNS lookups at submit time: reports must work
    offline-first and fast); the mail server's answer decides the rest.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise DomainError(_("Please enter a valid e-mail address."), field=field)
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_ADDRESS:
        raise DomainError(_("That e-mail address is too long."), field=field)
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise DomainError(
            _("“%(address)s” is not a valid e-mail address.", address=text[:80]), field=field
        ) from None
    return checked.normalized
