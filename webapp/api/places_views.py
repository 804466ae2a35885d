"""Places through the JSON API: address search, nearby open requests, "me too"."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.api.blueprint import bp
from webapp.api.envelope import envelope
from webapp.api.inputs import PUBLIC_ID_PATH, FollowForm, GeocodeQuery, NearbyQuery
from webapp.api.requests_views import _address_rate_key, _anonymous_limit, _device_rate_key
from webapp.api.responses import FollowAnswer, NearbyList, PlaceList
from webapp.api.schema import inputs, operation
from webapp.api.serialize import request_json
from webapp.domain.errors import DomainError
from webapp.domain.geo import geocoding, places
from webapp.domain.lifecycle import following, supporters
from webapp.domain.lifecycle import photos as photo_pipeline
from webapp.domain.lifecycle import requests as requests_domain
from webapp.models import Service
from webapp.plumbing import limits
from webapp.plumbing.access import public
from webapp.plumbing.extensions import db, limiter
from webapp.plumbing.sessions import current_account, current_device, kept_device

DEFAULT_RADIUS_M = 200
MAX_RADIUS_M = 2000
MAX_NEARBY = 50
SEARCH_LIMIT = "30 per minute"


@bp.get("/geocode")
@public
@limiter.limit(SEARCH_LIMIT)
@operation(tags=["places"], query=GeocodeQuery, returns=PlaceList)
def geocode_search():
    """Addresses matching ``q`` inside the city, through the server's geocoder."""
    query, limit = inputs().query.q, inputs().query.limit
    found = geocoding.search(query, limit=limit)
    if found is None:
        raise DomainError(
            _(
                "Address search is not available right now. Please pin the spot on the map or describe where it is."
            ),
            status=503,
            details={"reason": "geocoder_unavailable"},
        )
    return envelope(
        [{"label": p.label, "lat": p.lat, "long": p.long} for p in found],
        meta={"count": len(found)},
    )


@bp.get("/requests/nearby")
@public
@operation(tags=["places"], query=NearbyQuery, returns=NearbyList)
def nearby_requests():
    """Open requests near a point, nearest first ("Is it one of these?")."""
    args = inputs().query
    lat, long, radius, limit = args.lat, args.long, args.radius, args.limit
    service_id = None
    service_code = args.service_code
    if service_code:
        service_id = db.session.scalar(
            select(Service.id).where(Service.service_code == service_code, Service.public.is_(True))
        )
        if service_id is None:
            raise DomainError(
                _("We do not know that kind of problem."), status=404, field="service_code"
            )
    found = places.nearby_open_requests(
        lat, long, radius, service_id=service_id, limit=limit, public_only=True
    )
    body = [
        {**request_json(item.request), "distance_m": round(item.distance_m, 1)} for item in found
    ]
    return envelope(body, meta={"count": len(body), "radius_m": radius})


def _follow_state(service_request) -> dict:
    """What the follow button needs: whether the caller follows, and the count."""
    return {
        "following": following.is_following(
            service_request, user=current_account(), device=current_device()
        ),
        "supporters_count": service_request.supporters_count,
    }


def _visible(public_id: str):
    """The request with that id when the public may see it, else 404."""
    service_request = requests_domain.get_by_public_id(public_id)
    if not service_request.service.public:
        raise DomainError(_("We could not find that request."), status=404)
    return service_request


def _plain_follow() -> bool:
    """A follow without a note or photos (or by a signed-in person) is not rate limited;
    one carrying them costs as much as a report and shares its limits."""
    return current_account() is not None or not (
        request.files or request.form.get("comment") or request.form.get("email")
    )


@bp.post("/requests/<public_id>/follow")
@public
@limiter.limit(limits.follow_limit, key_func=limits.follow_address_key)
@limiter.limit(_anonymous_limit, key_func=_device_rate_key, exempt_when=_plain_follow)
@limiter.limit(_anonymous_limit, key_func=_address_rate_key, exempt_when=_plain_follow)
@operation(
    tags=["requests"],
    form=FollowForm,
    path=PUBLIC_ID_PATH,
    returns=FollowAnswer,
    body_required=False,
)
def follow_request(public_id: str):
    """Follow a request ("me too"): counts once per person or device as a supporter.

    An anonymous caller needs a device its browser has kept (pages offer one); a call
    that keeps no cookie is asked to use the app rather than counted as a new person.
    A neighbor who was about to report the same problem may send (multipart) a
    ``comment`` and up to three ``photos``: they are kept on the request's timeline as
    a supporter's comment instead of being lost, and an ``email`` to get the outcome
    by e-mail when their phone cannot be notified.
    """
    service_request = _visible(public_id)
    account = current_account()
    device = None if account is not None else kept_device()
    checked = inputs().form
    photos = [f.read() for f in request.files.getlist("photos") if f.filename or f.mimetype]
    written: list[str] = []
    try:
        _, _event, written = supporters.follow_instead(
            service_request,
            user=account,
            device=device,
            comment=checked.comment if checked is not None else None,
            photos=photos,
            email=checked.email if checked is not None else None,
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # the same person following twice at once: one follow won
        photo_pipeline.discard(written)
        service_request = _visible(public_id)
    except BaseException:
        db.session.rollback()
        photo_pipeline.discard(written)
        raise
    return envelope(_follow_state(service_request))


@bp.delete("/requests/<public_id>/follow")
@public
@operation(tags=["requests"], path=PUBLIC_ID_PATH, returns=FollowAnswer)
def unfollow_request(public_id: str):
    """Stop following a request; a supporter stops counting."""
    service_request = _visible(public_id)
    following.unfollow(service_request, user=current_account(), device=current_device())
    db.session.commit()
    return envelope(_follow_state(service_request))
