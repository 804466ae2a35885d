"""Open311 GeoReport v2 endpoints at /open311/v2, each in ``.json`` and ``.xml``.

Reads are public; ``POST requests`` checks its ``api_key`` itself. Submission goes
through the same ``domain.requests.submit`` as the app (channel ``open311``), so the
rules and their messages are shared; a refusal becomes a spec-shaped error.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for
from flask_babel import gettext as _

from webapp.domain.errors import DomainError, NotFound
from webapp.domain.geo import geocoding
from webapp.domain.lifecycle import submission as requests_domain
from webapp.domain.lifecycle import timeline
from webapp.domain.open311 import remote_media
from webapp.domain.people import api_keys
from webapp.models import Channel, EventKind, utcnow, w3c
from webapp.open311 import params, queries, serialize
from webapp.open311.blueprint import bp
from webapp.open311.errors import open311_error_response
from webapp.open311.render import respond
from webapp.plumbing.access import api_key_checked, public
from webapp.plumbing.extensions import db

FORMATS = "<any(json, xml):fmt>"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2025-01-01T00:00:00+00:00"
MAX_MEDIA_URL = 1000
MAX_MEDIA_URLS = 10
NOT_PINPOINTED = "#NOTPINPOINTED#"
SPEC_STATUSES = (400, 403, 404, 405, 413, 429, 503)


@bp.errorhandler(DomainError)
def domain_refusal(error: DomainError):
    """Roll back, then answer in the spec's error shape.

    GeoReport v2 knows 400, 403 and 404: a rule's 409/422 refusal of the input is
    reported as 400 with the rule's own message.
    """
    db.session.rollback()
    status = error.status if error.status in SPEC_STATUSES else 400
    return open311_error_response(status, error.message)


def check_jurisdiction() -> None:
    """``jurisdiction_id`` is optional (one city); when given it must be ours, else 404."""
    given = (request.values.get("jurisdiction_id") or "").strip()
    ours = current_app.config["JURISDICTION_ID"]
    if given and given != ours:
        raise NotFound(
            _(
                "jurisdiction_id %(given)s is not served here; this server serves %(ours)s.",
                given=given,
                ours=ours,
            ),
            field="jurisdiction_id",
        )


@bp.get(f"/discovery.{FORMATS}")
@public
def discovery(fmt: str):
    """Where and how to talk to this server (GeoReport v2 service discovery).

    The spec's discovery has no field for the jurisdiction; Open311 endpoint
    directories record one per endpoint (the city's web domain), so the jurisdiction is
    given beside the standard fields, at the top and on the endpoint, where clients that
    build such a directory look for it. With a city pack applied, the contact and
    key service come from its ``[open311]`` table (else its contact line) and the
    changeset is when the pack last changed something.
    """
    config = current_app.config
    pack = config.get("CITY_PACK") or {}
    offered = pack.get("open311") or {}
    applied_at = config.get("CITY_PACK_APPLIED_AT")
    changeset = applied_at.isoformat(timespec="seconds") if applied_at else CHANGESET
    jurisdiction = config["JURISDICTION_ID"]
    endpoint_url = url_for("open311.discovery", fmt="json", _external=True).rsplit("/", 1)[0]
    contact = offered.get("contact") or _(
        "%(city)s 311. Ask the city's 311 office for an API key to submit requests.",
        city=config["CITY_NAME"],
    )
    if not offered.get("contact") and pack.get("contact"):
        contact = f"{contact} {pack['contact']}"
    body = {
        "changeset": changeset,
        "contact": contact,
        "key_service": offered.get("key_service")
        or _("API keys are issued by the city's 311 administrators."),
        "jurisdiction_id": jurisdiction,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": endpoint_url,
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
                "jurisdiction_id": jurisdiction,
            }
        ],
    }
    return respond(fmt, "discovery", body)


@bp.get(f"/services.{FORMATS}")
@public
def list_services(fmt: str):
    """Every active public service."""
    check_jurisdiction()
    services = queries.public_services()
    return respond(fmt, "services", [serialize.service_entry(s) for s in services])


@bp.get(f"/services/<service_code>.{FORMATS}")
@public
def service_definition(service_code: str, fmt: str):
    """A service's attributes (its extra questions), or 404 for an unknown code."""
    check_jurisdiction()
    found = queries.public_services(service_code)
    if not found:
        raise NotFound(
            _("There is no service with service_code %(code)s.", code=service_code),
            field="service_code",
        )
    return respond(fmt, "service_definition", serialize.service_definition(found[0]))


@bp.get(f"/requests.{FORMATS}")
@public
def list_requests(fmt: str):
    """Public requests, newest first, with the spec's filters and the common extensions."""
    check_jurisdiction()
    query = params.request_query(
        request.args, utcnow(), max_ids=current_app.config["OPEN311_MAX_IDS"]
    )
    page = queries.find_requests(query)
    entries = serialize.request_entries(
        page, extensions=query.extensions, extended_statuses=extended_statuses()
    )
    return respond(fmt, "service_requests", entries)


def extended_statuses() -> bool:
    """``status`` carries the outcome when the server is set so or the client asks."""
    return current_app.config["OPEN311_EXTENDED_STATUSES"] or params.flag(
        request.args, "extended_statuses"
    )


@bp.before_request
def refuse_overlong_queries():
    """A query string longer than ``OPEN311_MAX_QUERY_BYTES`` is a 414 in the spec's
    error shape (the server in front is set to let such lines through to us)."""
    limit = current_app.config["OPEN311_MAX_QUERY_BYTES"]
    if len(request.query_string) > limit:
        return open311_error_response(
            414,
            _(
                "The query is longer than %(limit)s bytes. Ask for fewer service_request_id values at once.",
                limit=limit,
            ),
        )
    return None


@bp.get(f"/requests/<request_id>.{FORMATS}")
@public
def get_request(request_id: str, fmt: str):
    """One request (as a one-item list, as the spec does), or 404."""
    check_jurisdiction()
    query = params.RequestQuery(
        ids=[request_id], extensions=params.flag(request.args, "extensions")
    )
    page = queries.find_requests(query)
    if not page.rows:
        raise NotFound(
            _("There is no service request with id %(id)s.", id=request_id),
            field="service_request_id",
        )
    return respond(
        fmt,
        "service_requests",
        serialize.request_entries(
            page, extensions=query.extensions, extended_statuses=extended_statuses()
        ),
    )


@bp.get(f"/tokens/<token>.{FORMATS}")
@public
def get_token(token: str, fmt: str):
    """Submission is synchronous: a token is the request id itself, so it maps to itself.

    Clients that always poll ``tokens`` get the id back for any request that exists
    (public services only); any other token is a 404.
    """
    check_jurisdiction()
    page = queries.find_requests(params.RequestQuery(ids=[token]))
    if not page.rows:
        raise NotFound(_("There is no service request for token %(token)s.", token=token))
    body = [{"service_request_id": page.rows[0].public_id, "token": token}]
    return respond(fmt, "service_requests", body)


def media_urls() -> list[str]:
    """Every ``media_url`` (FixMyStreet sends one per photo): absolute http(s) URLs."""
    urls: list[str] = []
    for raw in request.form.getlist("media_url") + request.form.getlist("media_url[]"):
        raw = raw.strip()
        if not raw or raw in urls:
            continue
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(raw) > MAX_MEDIA_URL:
            raise params.bad_request(
                _("media_url must be an http or https URL of at most 1000 characters."),
                "media_url",
            )
        urls.append(raw)
    if len(urls) > MAX_MEDIA_URLS:
        raise params.bad_request(
            _("Send at most %(count)s media_url values.", count=MAX_MEDIA_URLS), "media_url"
        )
    return urls


def fetch_media(urls: list[str], room: int) -> tuple[list[bytes], list[dict]]:
    """Fetch up to ``room`` of ``urls`` through the photo pipeline's checks.

    Returns the photo bytes to store and a record of every URL (``fetched`` or the
    reason it was not), so the original URL stays on the request as a reference.
    """
    from webapp.domain.lifecycle import photos as photo_pipeline

    photos: list[bytes] = []
    records: list[dict] = []
    wanted = urls[: max(room, 0)]
    for item in remote_media.fetch_all(wanted):
        record = {"url": remote_media.without_credentials(item.url), "fetched": False}
        if item.data is not None:
            try:
                photo_pipeline.process(item.data)
            except DomainError as refusal:
                record["error"] = refusal.message
            else:
                photos.append(item.data)
                record["fetched"] = True
        else:
            record["error"] = item.error
        records.append(record)
    for url in urls[len(wanted) :]:
        records.append(
            {
                "url": remote_media.without_credentials(url),
                "fetched": False,
                "error": "more photos than we keep",
            }
        )
    return photos, records


def _location() -> tuple[float | None, float | None, str | None]:
    """``lat`` and ``long``, or the position of ``address_string`` looked up in the city.

    GeoReport v2 lets a client send an address instead of coordinates. The address is
    looked up through the server's geocoder (Nominatim, bounded to the city); when the
    geocoder is down the client is told to retry or send coordinates (503), and an
    address it cannot find is a 400. ``address_id`` needs a city address database,
    which Civic311 does not have, so it is refused with a clear 400 — except
    FixMyStreet's ``#NOTPINPOINTED#``: a report whose sender could not pin it, the
    place described in the text. It is stored without coordinates and flagged
    "needs location" for staff.
    """
    lat = params.number(request.form, "lat", minimum=-90, maximum=90)
    long = params.number(request.form, "long", minimum=-180, maximum=180)
    address = (request.form.get("address_string") or "").strip()[:255] or None
    if lat is not None and long is not None:
        return lat, long, address
    if (request.form.get("address_id") or "").strip() == NOT_PINPOINTED:
        if not (request.form.get("description") or "").strip():
            raise params.bad_request(
                _("A report that is not pinpointed must describe the place in description."),
                "description",
            )
        return None, None, address
    if address:
        try:
            found = geocoding.search_or_raise(address, limit=1)
        except geocoding.GeocoderDown:
            raise DomainError(
                _(
                    "We could not look up address_string right now. Send lat and long, or try again later."
                ),
                status=503,
                field="address_string",
            ) from None
        if not found:
            raise params.bad_request(
                _("address_string was not found inside the city. Send lat and long instead."),
                "address_string",
            )
        return found[0].lat, found[0].long, found[0].label[:255]
    if request.form.get("address_id"):
        raise params.bad_request(
            _("address_id is not supported by this server. Send lat and long or address_string."),
            "address_id",
        )
    raise params.bad_request(
        _("A location is required: send lat and long (decimal degrees, WGS84)."), "lat"
    )


def _described_place(address: str | None) -> str:
    """Where a report that is not pinpointed says it is: its address, else the first
    line of its description (FixMyStreet puts the report's title there)."""
    if address:
        return address
    first = timeline.normalise_text(request.form.get("description")).split("\n", 1)[0]
    return first[:255]


def _email() -> str | None:
    """``email``: kept as private contact on the request, never linked to an account.

    A key holder cannot prove the address is the caller's own, so a request sent with a
    resident's address must not land in that resident's account or follow list.
    """
    email = (request.form.get("email") or "").strip()
    if not email:
        return None
    if len(email) > 254 or "@" not in email.strip("@"):
        raise params.bad_request(_("email is not a valid email address."), "email")
    return email


def _contact_name() -> str | None:
    """``first_name`` and ``last_name`` as one private contact name."""
    parts = [(request.form.get(n) or "").strip() for n in ("first_name", "last_name")]
    name = " ".join(p for p in parts if p)
    return name[:120] or None


def _remember_media_urls(service_request, records: list[dict]) -> None:
    """Keep every ``media_url`` on the request's created event: each one's outcome,
    and the first one not fetched as the request's ``media_url`` reference."""
    kept = [
        reference
        for item in records
        if not item["fetched"]
        and (reference := remote_media.public_reference(item["url"], item.get("error")))
    ]
    for event in service_request.events:
        if event.kind == EventKind.CREATED:
            data = {**(event.data or {}), "media_urls": records}
            if kept:
                data[queries.MEDIA_URL_KEY] = kept[0]
            event.data = data
    db.session.commit()


@bp.post(f"/requests.{FORMATS}")
@api_key_checked
def create_request(fmt: str):
    """Create a request (form-encoded, or multipart with ``media`` photos); needs ``api_key``.

    Answers 201 with ``[{service_request_id, service_notice, account_id}]``; 403 for a
    missing, unknown or revoked key; 400 for input the rules refuse.
    """
    key = api_keys.verify(request.form.get("api_key") or request.args.get("api_key"))
    if key is None:
        raise DomainError(
            _("api_key is missing, unknown or revoked. Ask the city for a valid key."),
            status=403,
            field="api_key",
        )
    check_jurisdiction()
    service_code = (request.form.get("service_code") or "").strip()
    if not service_code:
        raise params.bad_request(_("service_code is required."), "service_code")
    requests_domain.find_service(service_code)
    lat, long, address = _location()
    urls = media_urls()
    email = _email()
    photos = [f.read() for f in request.files.getlist("media") if f.filename or f.mimetype]
    idempotency = request.headers.get("Idempotency-Key")
    fetched, records = fetch_media(urls, requests_domain.MAX_PHOTOS - len(photos))
    photos.extend(fetched)
    submission = requests_domain.Submission(
        service_code=service_code,
        lat=lat,
        long=long,
        description=request.form.get("description", ""),
        attributes=params.attribute_answers(request.form),
        address=address,
        contact_name=_contact_name(),
        contact_email=email,
        contact_phone=(request.form.get("phone") or "").strip()[:40] or None,
        channel=Channel.OPEN311,
        api_key=key,
        photos=photos,
        landmark=None if lat is not None else _described_place(address),
        client_uuid=(requests_domain.normalise_client_uuid(idempotency) if idempotency else None),
    )
    result = requests_domain.submit(submission)
    created = result.request
    if records and result.created:
        _remember_media_urls(created, records)
    body = [
        {
            "service_request_id": created.public_id,
            "service_notice": serialize.service_notice(w3c(created.expected_at), created.status),
            "account_id": (request.form.get("account_id") or "").strip() or None,
        }
    ]
    response = respond(fmt, "service_requests", body, status=201 if result.created else 200)
    response.headers["Location"] = url_for(
        "open311.get_request", request_id=created.public_id, fmt=fmt, _external=True
    )
    return response
