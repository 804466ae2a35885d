"""mySociety's ``servicerequestupdates`` extension, in ``.json`` and ``.xml``.

GET lists public updates (``<service_requests_updates><request_update>…``) within
``start_date``/``end_date``; POST takes a resident's comment (and photos) on an
existing request and answers ``<service_request_updates><request_update>
<update_id>``. Statuses are the extended ones of ``domain/open311_statuses.py``.
"""

from __future__ import annotations

from flask import current_app, request
from flask_babel import gettext as _

from webapp.domain.errors import DomainError, NotFound
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle import submission
from webapp.domain.open311 import updates
from webapp.domain.people import api_keys
from webapp.models import utcnow, w3c
from webapp.open311 import params, serialize
from webapp.open311.blueprint import bp
from webapp.open311.render import respond
from webapp.open311.views import FORMATS, check_jurisdiction, fetch_media, media_urls
from webapp.plumbing.access import api_key_checked, public
from webapp.plumbing.extensions import db

MAX_UPDATES = 1000


def _window():
    """``start_date``/``end_date`` (W3C); at most 90 days apart; default the last day."""
    now = utcnow()
    start = params.w3c_datetime(request.args.get("start_date"), "start_date")
    end = params.w3c_datetime(request.args.get("end_date"), "end_date")
    if start and end and end < start:
        raise params.bad_request(_("end_date must not be before start_date."), "end_date")
    if start and end and end - start > params.MAX_WINDOW:
        raise params.bad_request(
            _("start_date and end_date may be at most 90 days apart."), "end_date"
        )
    if start is None and end is None:
        start = now - params.MAX_WINDOW
    return start, end


def update_entry(update: updates.OutgoingUpdate) -> dict:
    """One ``request_update`` in mySociety's field order."""
    media_url = serialize.photo_url(update.photo_key) if update.photo_key else update.media_url
    return {
        "update_id": update.update_id,
        "service_request_id": update.service_request_id,
        "status": update.status,
        "updated_datetime": w3c(update.updated_datetime),
        "description": update.description,
        "media_url": media_url,
        "external_status_code": update.external_status_code,
    }


@bp.get(f"/servicerequestupdates.{FORMATS}")
@public
def list_updates(fmt: str):
    """Public updates, oldest first; ``api_key`` is accepted and not needed (public data)."""
    check_jurisdiction()
    start, end = _window()
    page = params.whole_number(request.args, "page", 1, minimum=1, maximum=1_000_000)
    page_size = params.whole_number(
        request.args, "page_size", MAX_UPDATES, minimum=1, maximum=MAX_UPDATES
    )
    found = updates.public_updates(start, end, limit=page_size, offset=(page - 1) * page_size)
    return respond(fmt, "service_requests_updates", [update_entry(u) for u in found])


@bp.post(f"/servicerequestupdates.{FORMATS}")
@api_key_checked
def post_update(fmt: str):
    """A resident's comment on a request from another 311 app; needs ``api_key``.

    201 with ``[{update_id}]`` for a new comment, 200 with the same answer when the
    client sends the same ``update_id`` again; 404 for an unknown request.
    """
    key = api_keys.verify(request.form.get("api_key") or request.args.get("api_key"))
    if key is None:
        raise DomainError(
            _("api_key is missing, unknown or revoked. Ask the city for a valid key."),
            status=403,
            field="api_key",
        )
    check_jurisdiction()
    public_id = (request.form.get("service_request_id") or "").strip()
    if not public_id:
        raise params.bad_request(_("service_request_id is required."), "service_request_id")
    target = _public_request(public_id)
    if not (request.form.get("status") or "").strip():
        raise params.bad_request(_("status is required (OPEN or CLOSED)."), "status")
    params.w3c_datetime(request.form.get("updated_datetime"), "updated_datetime")
    photos = [f.read() for f in request.files.getlist("media") if f.filename or f.mimetype]
    urls = media_urls()
    fetched, records = fetch_media(urls, submission.MAX_PHOTOS - len(photos))
    names = [(request.form.get(n) or "").strip() for n in ("first_name", "last_name")]
    comment = updates.Comment(
        text=request.form.get("description", ""),
        status=request.form.get("status"),
        update_id=(request.form.get("update_id") or "").strip(),
        email=(request.form.get("email") or "").strip() or None,
        author=names[0] or None,
        photos=photos + fetched,
        media_urls=records,
    )
    event, created = updates.accept_comment(
        target,
        comment,
        sender_key=f"key{key.id}",
        window_days=current_app.config["REOPEN_WINDOW_DAYS"],
        api_key_id=key.id,
    )
    db.session.commit()
    body = [{"update_id": str(event.id)}]
    return respond(fmt, "service_request_updates", body, status=201 if created else 200)


def _public_request(public_id: str):
    """The request with that id when its service is public, else 404."""
    try:
        found = requests_domain.get_by_public_id(public_id)
    except NotFound:
        found = None
    if found is None or not found.service.public:
        raise NotFound(
            _("There is no service request with id %(id)s.", id=public_id),
            field="service_request_id",
        )
    return found
