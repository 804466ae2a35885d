"""A bounded schemathesis run over /api/v1, as a resident's device and as staff, on
every database.

The document at /api/v1/openapi.json is generated from the same declarations that
check the input, so schemathesis can use it as the contract: for every operation it
sends data that fits the document and data that does not, and every answer must be a
non-5xx with a documented status, content type and body. Both directions of agreement
are held: data the document forbids is refused (``negative_data_rejection``), and data
it allows is accepted (``positive_data_acceptance``: a 2xx, or the 401/403/404/409/429
a rule answers for a thing that is not there or not allowed now). The run is seeded
(derandomized, no example database) and small so it stays within about a minute;
``CIVIC311_FUZZ_EXAMPLES`` raises it for a longer run by hand.
"""

from __future__ import annotations

import base64
import io
import os
from collections import Counter

import pytest
import schemathesis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.transport.serialization import Binary

from tests import factories
from webapp.domain.geo import geocoding
from webapp.domain.people import devices
from webapp.plumbing.extensions import db

EXAMPLES = int(os.environ.get("CIVIC311_FUZZ_EXAMPLES", "10"))
CHECKS = [
    schemathesis.checks.not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The two directions of agreement between the document and the server, tallied apart.
DIRECTIONS = {
    "accepted_forbidden": [negative_data_rejection],
    "refused_valid": [positive_data_acceptance],
}


def _photo(kind: str) -> bytes:
    """A small real photo file: the server decodes what it is sent."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 120, 40)).save(buffer, kind)
    return buffer.getvalue()


# The document's file parts are photos (JPEG, PNG or WebP) and p256dh is a browser's
# P-256 public key: schemathesis draws them from real ones (fixed, so every run is the same).
schemathesis.openapi.format(
    "binary", st.sampled_from([_photo(kind) for kind in ("JPEG", "PNG", "WEBP")]).map(Binary)
)
_KEYS = [
    base64.urlsafe_b64encode(
        ec.derive_private_key(seed, ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    ).decode()
    for seed in range(1, 9)
]
schemathesis.openapi.format("webpush-p256dh", st.sampled_from(_KEYS))


def _session_cookie(app, user) -> dict[str, str]:
    """Sign ``user`` in through the real form and return the session cookie."""
    client = app.test_client()
    response = client.post(
        "/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 302
    name = app.config["SESSION_COOKIE_NAME"]
    return {name: client.get_cookie(name).value}


def fuzz(app, who: dict, tally: Counter, failures: list[str]) -> None:
    """Run every operation in both generation modes, recording 5xx and mismatches."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, who, tally, failures)


def _fuzz_operation(operation, mode, who: dict, tally: Counter, failures: list[str]) -> None:
    """``EXAMPLES`` generated calls of one operation in one generation mode."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        tally["cases"] += 1
        # Every other call reads in Spanish: translated content takes other code paths.
        language = ("en", "es")[tally["cases"] % 2]
        response = case.call(
            cookies=who["cookies"],
            headers={"Accept-Encoding": "identity", "Accept-Language": language, **who["headers"]},
        )
        if response.status_code >= 500:
            tally["5xx"] += 1
        try:
            try:
                case.validate_response(response, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001 - all recorded
                tally["mismatches"] += response.status_code < 500
                failures.append(f"{operation.label} [{mode.value}]: {str(failure)[:600]}")
            for direction, checks in DIRECTIONS.items():
                try:
                    case.validate_response(response, checks=checks)
                except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001
                    tally[direction] += 1
                    failures.append(
                        f"{operation.label} [{mode.value}] {direction}: {str(failure)[:400]}"
                    )
        finally:
            db.session.rollback()

    try:
        run()
    except Unsatisfiable:
        # An operation without input has nothing to break: no negative data exists.
        assert mode == GenerationMode.NEGATIVE, operation.label


@pytest.fixture
def fuzz_app(make_app, nominatim):
    """An app whose geocoder is the local fake (so address search answers), with a city."""
    _fake, server = nominatim
    app = make_app(GEOCODER_DOMAIN=f"127.0.0.1:{server.port}", GEOCODER_TIMEOUT=0.3)
    geocoding.reset()
    with app.app_context():
        factories.gen_city()
        yield app
    geocoding.reset()


# A minute of work on a quiet machine, several on a loaded one: the suite's timeout is
# there to catch a hang, not a slow machine.
@pytest.mark.timeout(1200)
@pytest.mark.parametrize("persona", ["resident", "staff"])
def test_api_answers_every_generated_call_within_its_document(
    fuzz_app, persona, database_backend
):
    app = fuzz_app
    factories.gen_request()
    factories.gen_request("pothole")
    who = {"cookies": {}, "headers": {}}
    if persona == "staff":
        who["cookies"] = _session_cookie(app, factories.gen_user(role="staff"))
    else:
        token, _device = devices.create()
        who["headers"] = {"X-Device-Token": token}
    db.session.commit()
    tally: Counter = Counter()
    failures: list[str] = []
    fuzz(app, who, tally, failures)
    print(  # the run's figures, shown with -s or in the report
        f"\nschemathesis {database_backend[0]} {persona}: {tally['cases']} cases, "
        f"{tally['5xx']} 5xx, {tally['mismatches']} mismatches, "
        f"{tally['accepted_forbidden']} accepted-but-forbidden, "
        f"{tally['refused_valid']} refused-but-valid"
    )
    assert tally["cases"] > 0
    kinds = Counter(failure.split(":")[0] for failure in failures)
    assert not failures, "\n".join(
        [*(f"{n} × {k}" for k, n in kinds.most_common()), *failures[:40]]
    )


def test_every_app_in_a_process_serves_the_whole_document(make_app):
    """A second app (a test, a second worker's factory call) serves the same document,
    nested models included: no reference in it is left dangling."""
    first, second = (
        make_app().test_client().get("/api/v1/openapi.json").get_json() for _ in range(2)
    )
    assert second == first
    assert "SubscriptionKeys" in second["components"]["schemas"]
