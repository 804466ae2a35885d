"""The hardening rules as plain functions: formula-safe cells, push services, passwords."""

from __future__ import annotations

import pytest

from tests import factories
from webapp.domain.figures import exports
from webapp.domain.lifecycle import following
from webapp.domain.lifecycle import submission as requests_domain
from webapp.domain.notifications.push_endpoints import (
    DEFAULT_PUSH_SERVICES,
    endpoint_allowed,
    is_public_host,
)
from webapp.domain.people import api_keys


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("a = b", "a = b"),
        ("", ""),
        (-85.31, -85.31),
        (3, 3),
        (None, None),
    ],
)
def test_spreadsheet_safe_quotes_only_text_a_spreadsheet_would_run(value, expected):
    assert exports.spreadsheet_safe(value) == expected


@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        ("https://fcm.googleapis.com/fcm/send/x", True),
        ("https://updates.push.services.mozilla.com/wpush/v2/x", True),
        ("https://web.push.apple.com/x", True),
        ("https://db5p.notify.windows.com/w/?token=x", True),
        ("http://fcm.googleapis.com/fcm/send/x", False),
        ("https://push.apple.com/x", False),
        ("https://evilpush.apple.com.example/x", False),
        ("https://127.0.0.1/x", False),
        ("https://169.254.169.254/x", False),
        ("https://fcm.googleapis.com:99999/x", False),
        ("not a url", False),
    ],
)
def test_only_the_push_services_are_allowed_by_default(endpoint, allowed):
    assert endpoint_allowed(endpoint, DEFAULT_PUSH_SERVICES) is allowed


@pytest.mark.parametrize(
    ("endpoint", "allowed"),
    [
        ("https://push.example.org/x", True),
        ("https://10.1.2.3/x", False),
        ("https://[fd00::1]/x", False),
        ("https://printer.local/x", False),
        ("https://intranet/x", False),
        ("http://push.example.org/x", False),
    ],
)
def test_a_wildcard_allows_any_public_https_host(endpoint, allowed):
    assert endpoint_allowed(endpoint, ["*"]) is allowed


def test_an_http_entry_allows_exactly_that_local_host():
    services = ["http://127.0.0.1"]
    assert endpoint_allowed("http://127.0.0.1:8123/push/abc", services)
    assert not endpoint_allowed("http://127.0.0.2/push/abc", services)
    assert not endpoint_allowed("https://127.0.0.1/push/abc", services)


def test_public_hosts():
    assert is_public_host("fcm.googleapis.com") and is_public_host("8.8.8.8")
    assert not any(map(is_public_host, ["localhost", "10.0.0.1", "::1", "metadata", ""]))


def test_a_key_holders_submission_never_gets_a_requester(app, city):
    resident = factories.gen_user("resident")
    _, key = api_keys.issue("Partner")
    result = requests_domain.submit(
        requests_domain.Submission(
            service_code="graffiti",
            lat=factories.INSIDE[0],
            long=factories.INSIDE[1],
            channel="open311",
            api_key=key,
            requester=resident,
            contact_email=resident.email,
        )
    )
    assert result.request.requester_id is None
    assert not following.is_following(result.request, user=resident)
