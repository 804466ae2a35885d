"""Area alerts: "e-mail me about new reports near here / in my neighborhood".

Anyone may ask (no account), but an alert is active only after the address confirmed
it from the e-mail we send, so nobody can sign someone else up. An alert is a circle
(centre and radius) or a neighborhood, sent at once for each new public report or as
one daily digest, and every message carries a one-click unsubscribe link.

An alert keeps the language of the person who asked for it, and every message it sends
is written in that language (service names too), whoever's report or whichever worker
triggers it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from markupsafe import escape
from sqlalchemy import and_, or_, select

from webapp.content_i18n import localized
from webapp.domain.errors import DomainError
from webapp.domain.geo import places
from webapp.domain.input_rules import normalise_address
from webapp.domain.notifications import public_address
from webapp.domain.notifications.email import mail_queue
from webapp.domain.people import links
from webapp.i18n import normalise, render_in_locale
from webapp.models import AreaAlert, Neighborhood, ServiceRequest, utcnow
from webapp.plumbing.extensions import db

IMMEDIATE, DAILY = "immediate", "daily"
RADII_M = (200, 500, 1000)
DIGEST_EVERY = timedelta(hours=24)
DIGEST_LIMIT = 50


def _area_words(alert: AreaAlert) -> str:
    if alert.neighborhood is not None:
        return _("in %(name)s", name=alert.neighborhood.name)
    return _("within %(radius)d m of the spot you chose", radius=alert.radius_m or 0)


def create(
    address: str | None,
    *,
    frequency: str,
    base_url: str,
    neighborhood_id: int | None = None,
    lat: float | None = None,
    long: float | None = None,
    radius_m: int | None = None,
    locale: str | None = None,
) -> AreaAlert:
    """Store an unconfirmed alert and queue the mail that confirms it (caller commits).

    ``locale`` is the asker's language: the alert's mails are all written in it.
    """
    clean = normalise_address(address, field="email")
    if clean is None:
        raise DomainError(_("Please enter your e-mail address."), field="email")
    if frequency not in (IMMEDIATE, DAILY):
        raise DomainError(_("Please choose how often to be told."), field="frequency")
    neighborhood = None
    if neighborhood_id is not None:
        neighborhood = db.session.get(Neighborhood, neighborhood_id)
        if neighborhood is None:
            raise DomainError(
                _("Please choose a neighborhood from the list."), field="neighborhood"
            )
    elif lat is None or long is None:
        raise DomainError(
            _("Please choose a neighborhood, or use your location for “near here”."),
            field="area",
        )
    else:
        if radius_m not in RADII_M:
            raise DomainError(_("Please choose a distance from the list."), field="radius")
        places.check_inside_city(lat, long)
    alert = AreaAlert(
        address=clean,
        neighborhood=neighborhood,
        lat=None if neighborhood else lat,
        long=None if neighborhood else long,
        radius_m=None if neighborhood else radius_m,
        frequency=frequency,
        locale=normalise(locale),
    )
    db.session.add(alert)
    db.session.flush()
    token = links.make(links.ALERT, a=alert.id, e=clean.lower())
    render_in_locale(alert.locale, lambda: _queue_confirmation(alert, f"{base_url}/e/alert/{token}"))
    return alert


def _queue_confirmation(alert: AreaAlert, url: str) -> None:
    """The mail with the link that turns an alert on, in the alert's language."""
    clean, frequency = alert.address, alert.frequency
    area = _area_words(alert)
    how = _("at once") if frequency == IMMEDIATE else _("once a day")
    subject = _("Please confirm your alert for new reports %(area)s", area=area)
    intro = _(
        "Someone (we hope you) asked to be e-mailed %(how)s about new reports %(area)s.",
        how=how,
        area=area,
    )
    action = _("Confirm the alert")
    ignore = _("If it was not you, ignore this e-mail: nothing will be sent.")
    text = f"{intro}\n\n{action}:\n{url}\n\n{ignore}\n"
    html = (
        f'<p>{escape(intro)}</p><p><a href="{url}">{escape(action)}</a></p><p>{escape(ignore)}</p>'
    )
    mail_queue.queue_email(clean, subject, text, html, kind="alert_confirm")


def check_confirmation(token: str) -> AreaAlert:
    """The alert a confirmation link is for (LinkError when it cannot be used)."""
    link = links.read(links.ALERT, token)
    alert = db.session.get(AreaAlert, link.data.get("a"))
    if alert is None or alert.address.lower() != link.data.get("e"):
        raise links.LinkError("tampered")
    return alert


def confirm(token: str) -> AreaAlert:
    """Activate an alert from its confirmation link (caller commits)."""
    alert = check_confirmation(token)
    links.use(links.read(links.ALERT, token))
    alert.confirmed_at = utcnow()
    alert.last_digest_at = alert.confirmed_at
    return alert


def _matching_alerts(request: ServiceRequest, frequency: str) -> list[AreaAlert]:
    """Active alerts of ``frequency`` whose area holds the request (none while a
    request waits for its location: it is in no neighborhood and near nothing yet)."""
    if request.lat is None or request.long is None:
        return []
    box = places.bounding_box(request.lat, request.long, max(RADII_M))
    min_lat, min_long, max_lat, max_long = box
    candidates = db.session.scalars(
        select(AreaAlert).where(
            AreaAlert.confirmed_at.is_not(None),
            AreaAlert.unsubscribed_at.is_(None),
            AreaAlert.frequency == frequency,
            or_(
                and_(
                    AreaAlert.neighborhood_id.is_not(None),
                    AreaAlert.neighborhood_id == request.neighborhood_id,
                ),
                and_(
                    AreaAlert.lat.between(min_lat, max_lat),
                    AreaAlert.long.between(min_long, max_long),
                ),
            ),
        )
    ).all()
    return [
        alert
        for alert in candidates
        if alert.neighborhood_id is not None
        or places.distance_m(alert.lat, alert.long, request.lat, request.long)
        <= (alert.radius_m or 0)
    ]


def _line(request: ServiceRequest, base_url: str) -> str:
    where = request.address or request.landmark or _("pinned on the map")
    service = localized(request.service, "name")
    return f"{request.public_id} · {service} · {where}\n{base_url}/requests/{request.public_id}"


def on_new_request(request: ServiceRequest) -> int:
    """Queue an immediate alert for each active alert whose area holds a new public
    request, in the submitting transaction; returns how many."""
    if not request.service.public:
        return 0
    base = public_address.base_url()
    queued = 0
    for alert in _matching_alerts(request, IMMEDIATE):
        if render_in_locale(alert.locale, lambda a=alert: _queue_immediate(a, request, base)):
            queued += 1
    return queued


def _queue_immediate(alert: AreaAlert, request: ServiceRequest, base: str) -> bool:
    """One new report's alert, in the alert's language; True when queued."""
    area = _area_words(alert)
    service = localized(request.service, "name")
    subject = _("New report %(area)s: %(service)s", area=area, service=service)
    text = "\n\n".join([_("A new report was made %(area)s:", area=area), _line(request, base)])
    html = (
        f"<p>{escape(_('A new report was made %(area)s:', area=area))}</p>"
        f'<p><a href="{base}/requests/{request.public_id}">{request.public_id}</a> · '
        f"{escape(service)}</p>"
    )
    unsubscribe = mail_queue.unsubscribe_url(alert.address, alert_id=alert.id)
    text += "\n\n" + _("Stop these alerts:") + "\n" + unsubscribe + "\n"
    return bool(
        mail_queue.queue_email(alert.address, subject, text, html, kind="alert", unsubscribe=unsubscribe)
    )


def _in_area(alert: AreaAlert, since: datetime, until: datetime) -> list[ServiceRequest]:
    query = select(ServiceRequest).where(
        ServiceRequest.received_at > since, ServiceRequest.received_at <= until
    )
    if alert.neighborhood_id is not None:
        query = query.where(ServiceRequest.neighborhood_id == alert.neighborhood_id)
    else:
        min_lat, min_long, max_lat, max_long = places.bounding_box(
            alert.lat, alert.long, alert.radius_m or 0
        )
        query = query.where(
            ServiceRequest.lat.between(min_lat, max_lat),
            ServiceRequest.long.between(min_long, max_long),
        )
    rows = db.session.scalars(query.order_by(ServiceRequest.received_at)).all()
    return [
        r
        for r in rows
        if r.service.public
        and (
            alert.neighborhood_id is not None
            or places.distance_m(alert.lat, alert.long, r.lat, r.long) <= (alert.radius_m or 0)
        )
    ]


def queue_digests(now: datetime | None = None) -> int:
    """Queue the daily digest of every daily alert whose day is over (caller commits).

    A day with no new reports sends nothing. Returns how many digests were queued.
    """
    now = now or utcnow()
    base = public_address.base_url()
    queued = 0
    due = db.session.scalars(
        select(AreaAlert).where(
            AreaAlert.confirmed_at.is_not(None),
            AreaAlert.unsubscribed_at.is_(None),
            AreaAlert.frequency == DAILY,
            AreaAlert.last_digest_at <= now - DIGEST_EVERY,
        )
    ).all()
    for alert in due:
        found = _in_area(alert, alert.last_digest_at, now)
        alert.last_digest_at = now
        if found and render_in_locale(
            alert.locale, lambda a=alert, f=found: _queue_digest(a, f, base)
        ):
            queued += 1
    return queued


def _queue_digest(alert: AreaAlert, found: list[ServiceRequest], base: str) -> bool:
    """A day's reports in one mail, in the alert's language; True when queued."""
    area = _area_words(alert)
    subject = _("%(count)d new reports %(area)s", count=len(found), area=area)
    lines = [_line(r, base) for r in found[:DIGEST_LIMIT]]
    unsubscribe = mail_queue.unsubscribe_url(alert.address, alert_id=alert.id)
    text = "\n\n".join([_("New reports %(area)s in the last day:", area=area), *lines])
    text += "\n\n" + _("Stop these alerts:") + "\n" + unsubscribe + "\n"
    items = "".join(
        f'<li><a href="{base}/requests/{r.public_id}">{r.public_id}</a> · '
        f"{escape(localized(r.service, 'name'))}</li>"
        for r in found[:DIGEST_LIMIT]
    )
    heading = escape(_("New reports %(area)s in the last day:", area=area))
    html = f"<p>{heading}</p><ul>{items}</ul>"
    return bool(
        mail_queue.queue_email(
            alert.address, subject, text, html, kind="alert_digest", unsubscribe=unsubscribe
        )
    )


def send_daily_digests(now: datetime | None = None) -> int:
    """Queue the daily digests of area alerts that are due, and commit (a job of the
    runner and the ``mail-digests`` command; the e-mail job sends them)."""
    queued = queue_digests(now)
    if queued:
        db.session.commit()
    return queued
