"""The chat's rules without a database: desk hours in city time, what a line may be."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_babel import Babel

from webapp.domain.errors import DomainError
from webapp.domain.intake import chat

NEW_YORK = {
    "BABEL_DEFAULT_TIMEZONE": "America/New_York",
    "CHAT_DESK_HOURS": "08:00-18:00",
    "CHAT_DESK_DAYS": "mon,tue,wed,thu,fri",
}


@pytest.mark.parametrize(
    "when, settings, is_open",
    [
        (datetime(2026, 3, 2, 13, 0, tzinfo=UTC), NEW_YORK, True),  # Mon 08:00 EST: opens
        (datetime(2026, 3, 2, 12, 59, tzinfo=UTC), NEW_YORK, False),  # Mon 07:59 EST
        (datetime(2026, 3, 2, 23, 0, tzinfo=UTC), NEW_YORK, False),  # Mon 18:00: closed
        (datetime(2026, 7, 6, 12, 30, tzinfo=UTC), NEW_YORK, True),  # Mon 08:30 EDT (summer)
        (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), NEW_YORK, False),  # Sun 22:00 in the city
        (datetime(2026, 3, 1, 15, 0, tzinfo=UTC), NEW_YORK, False),  # Sunday noon
        (datetime(2026, 3, 1, 3, 0, tzinfo=UTC), {"CHAT_DESK_HOURS": "always"}, True),
        # Unset: the city's business hours and days.
        (datetime(2026, 3, 3, 15, 0, tzinfo=UTC), {"CITY_BUSINESS_HOURS": "09:00-17:00"}, True),
        (datetime(2026, 3, 3, 8, 0, tzinfo=UTC), {"CITY_BUSINESS_HOURS": "09:00-17:00"}, False),
        # A setting that cannot be read keeps the desk closed (messages, not lost chats).
        (datetime(2026, 3, 3, 15, 0, tzinfo=UTC), {"CHAT_DESK_HOURS": "9 to 5"}, False),
    ],
)
def test_desk_hours_are_read_in_city_time(when, settings, is_open):
    assert chat.desk_open(when, settings) is is_open


@pytest.fixture
def app_context():
    app = Flask(__name__)
    Babel(app)
    app.config["CHAT_MAX_MESSAGE"] = 10
    with app.app_context():
        yield


@pytest.mark.parametrize(
    "text, kept",
    [
        ("  hello \n", "hello"),
        ("שלום 🌙", "שלום 🌙"),
        ("<b>hi</b>", "<b>hi</b>"),  # kept as text; pages escape it
        ("a\tb\nc", "a\tb\nc"),
        ("bell\x07s", "bells"),
        ("x" * 10, "x" * 10),
    ],
)
def test_a_line_is_kept_as_written_less_control_characters(app_context, text, kept):
    assert chat.clean_body(text) == kept


@pytest.mark.parametrize("text, status", [("", 422), (" \x07 ", 422), ("x" * 11, 413)])
def test_an_empty_or_overlong_line_is_refused(app_context, text, status):
    with pytest.raises(DomainError) as refused:
        chat.clean_body(text)
    assert refused.value.status == status
