"""Alerts to city staff: a department's supervisors hear when its requests go overdue, and
a staff member hears when a request is assigned to them.

Both go through the notification outbox (one row per message, written in the transaction
that decided it, delivered after commit by the push and e-mail workers), by each person's
choice of channel: e-mail to their account's address, or a push to every browser they
subscribed from. A message that falls inside the person's quiet hours waits in the outbox
until those hours end.

Overdue escalation is batched: each run collects every request that went overdue since the
last run and sends each supervisor of each department one message listing them. A request
is claimed for escalation with a conditional UPDATE on its ``overdue_alerted_for`` column
(the due time it was escalated for), so two workers running at once never both send it,
and a request whose due time later moves is escalated again if it goes overdue again.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import or_, select, update

from webapp.content_i18n import localized
from webapp.domain.errors import DomainError
from webapp.domain.notifications import public_address
from webapp.domain.notifications.email import mail_queue
from webapp.i18n import render_in_locale
from webapp.models import (
    NotificationOutbox,
    PushSubscription,
    RequestEvent,
    Role,
    ServiceRequest,
    Status,
    User,
    utcnow,
)
from webapp.plumbing.extensions import db

EMAIL, PUSH = "email", "push"
CHANNELS = (EMAIL, PUSH)
OPEN_STATUSES = (Status.SUBMITTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
LIST_LIMIT = 50
TTL_SECONDS = 24 * 3600


def _clock(text: str) -> time:
    """``"7:00"`` or ``"07:00"`` as a time of day."""
    hours, minutes = text.strip().split(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and len(hours) <= 2):
        raise ValueError(text)
    return time(int(hours), int(minutes))


def parse_quiet_hours(text: str | None) -> tuple[time, time] | None:
    """``"22:00-07:00"`` as (start, end); may wrap past midnight; empty means none."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        start, end = (_clock(part) for part in text.split("-"))
    except ValueError:
        raise DomainError(
            _("Quiet hours look like 22:00-07:00."), field="quiet_hours"
        ) from None
    if start == end:
        raise DomainError(_("Quiet hours must start and end at different times."), field="quiet_hours")
    return start, end


def save_preferences(user: User, channel: str | None, quiet_hours: str | None) -> User:
    """A staff member's choice: alerts by e-mail or push, and their quiet hours."""
    if channel not in CHANNELS:
        raise DomainError(_("Please choose e-mail or push."), field="channel")
    quiet = parse_quiet_hours(quiet_hours)
    user.alert_channel = channel
    user.quiet_hours = f"{quiet[0]:%H:%M}-{quiet[1]:%H:%M}" if quiet else None
    db.session.flush()
    return user


def push_subscriptions(user: User) -> int:
    """How many browsers the staff member gets push alerts on."""
    return len(
        db.session.scalars(
            select(PushSubscription.id).where(PushSubscription.user_id == user.id)
        ).all()
    )


def _city_zone() -> ZoneInfo:
    name = current_app.config["BABEL_DEFAULT_TIMEZONE"] if has_app_context() else "UTC"
    return ZoneInfo(name)


def send_at(user: User, now: datetime, zone: ZoneInfo | None = None) -> datetime:
    """When a message to ``user`` may go: now, or the end of their quiet hours."""
    try:
        quiet = parse_quiet_hours(user.quiet_hours)
    except DomainError:
        quiet = None
    if quiet is None:
        return now
    zone = zone or _city_zone()
    start, end = quiet
    local = now.astimezone(zone)
    clock = local.time()
    inside = start <= clock < end if start < end else clock >= start or clock < end
    if not inside:
        return now
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone).astimezone(now.tzinfo)


def _push_rows(
    user: User, payload: dict, *, when: datetime, request: ServiceRequest | None, kind: str
) -> int:
    subscriptions = db.session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user.id)
    ).all()
    for subscription in subscriptions:
        db.session.add(
            NotificationOutbox(
                subscription_id=subscription.id,
                request_id=request.id if request else None,
                payload=payload,
                topic=kind[:32],
                urgency="normal",
                ttl_seconds=TTL_SECONDS,
                next_attempt_at=when,
                kind=kind,
            )
        )
    return len(subscriptions)


def _deliver(
    user: User,
    *,
    kind: str,
    subject: str,
    text: str,
    navigate: str,
    now: datetime,
    request: ServiceRequest | None = None,
) -> int:
    """Queue one message to ``user`` by their channel; returns how many outbox rows."""
    when = send_at(user, now)
    if user.alert_channel == PUSH:
        payload = {
            "web_push": 8030,
            "notification": {
                "title": subject,
                "body": text[: 300 - 1] + "…" if len(text) > 300 else text,
                "navigate": navigate,
                "tag": kind,
            },
        }
        return _push_rows(user, payload, when=when, request=request, kind=kind)
    row = mail_queue.queue_email(user.email, subject, text, kind=kind, request=request)
    if row is None:
        return 0
    row.next_attempt_at = when
    return 1


# --- assignment --------------------------------------------------------------------


def on_assigned(event: RequestEvent, assignee: User | None, actor: User | None) -> int:
    """One message to a staff member newly given a request (never for assigning oneself)."""
    if assignee is None or not assignee.active or (actor is not None and actor.id == assignee.id):
        return 0
    request = event.request
    base = public_address.base_url()

    def compose() -> int:
        service = localized(request.service, "name")
        subject = _("Assigned to you: %(service)s %(id)s", service=service, id=request.public_id)
        where = request.address or request.landmark or _("pinned on the map")
        link = f"{base}/staff/requests/{request.public_id}"
        text = f"{request.public_id} · {service} · {where}\n{link}\n"
        return _deliver(
            assignee,
            kind="assigned",
            subject=subject,
            text=text,
            navigate=f"/staff/requests/{request.public_id}",
            now=event.created_at or utcnow(),
            request=request,
        )

    return render_in_locale(assignee.locale, compose)


# --- overdue escalation ------------------------------------------------------------


def supervisors(department_id: int | None) -> list[User]:
    """The active staff and admins marked as supervisors of a department."""
    if department_id is None:
        return []
    return db.session.scalars(
        select(User)
        .where(
            User.department_id == department_id,
            User.supervisor.is_(True),
            User.active.is_(True),
            User.role.in_((Role.STAFF, Role.ADMIN)),
        )
        .order_by(User.id)
    ).all()


def _newly_overdue(now: datetime) -> list[ServiceRequest]:
    return db.session.scalars(
        select(ServiceRequest)
        .where(
            ServiceRequest.detailed_status.in_(OPEN_STATUSES),
            ServiceRequest.expected_at < now,
            ServiceRequest.sla_paused_at.is_(None),
            or_(
                ServiceRequest.overdue_alerted_for.is_(None),
                ServiceRequest.overdue_alerted_for != ServiceRequest.expected_at,
            ),
        )
        .order_by(ServiceRequest.expected_at, ServiceRequest.id)
    ).all()


def _claim(request: ServiceRequest) -> bool:
    """Mark a request escalated for its current due time; False if another run did."""
    claimed = db.session.execute(
        update(ServiceRequest)
        .where(
            ServiceRequest.id == request.id,
            ServiceRequest.expected_at == request.expected_at,
            or_(
                ServiceRequest.overdue_alerted_for.is_(None),
                ServiceRequest.overdue_alerted_for != ServiceRequest.expected_at,
            ),
        )
        .values(overdue_alerted_for=request.expected_at)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1


def _escalation(supervisor: User, requests: list[ServiceRequest], base: str, now: datetime) -> int:
    subject = ngettext(
        "%(num)d request went overdue", "%(num)d requests went overdue", len(requests)
    )
    lines = [
        f"{r.public_id} · {localized(r.service, 'name')} · "
        f"{r.address or r.landmark or _('pinned on the map')}\n"
        f"{base}/staff/requests/{r.public_id}"
        for r in requests[:LIST_LIMIT]
    ]
    text = "\n\n".join([_("These requests of your department are now overdue:"), *lines]) + "\n"
    return _deliver(
        supervisor,
        kind="overdue",
        subject=subject,
        text=text,
        navigate="/staff/?overdue=1",
        now=now,
    )


def escalate_overdue(now: datetime | None = None) -> int:
    """Send each supervisor one message listing their department's newly overdue requests
    and commit; returns how many outbox rows were queued.

    A request with no department, or whose department has no supervisor, is still marked
    (nobody to tell now; the queue shows it overdue)."""
    now = now or utcnow()
    by_department: dict[int | None, list[ServiceRequest]] = defaultdict(list)
    for request in _newly_overdue(now):
        if _claim(request):
            by_department[request.department_id].append(request)
    base = public_address.base_url()
    queued = 0
    for department_id, found in by_department.items():
        for supervisor in supervisors(department_id):
            queued += render_in_locale(
                supervisor.locale,
                lambda s=supervisor, f=found: _escalation(s, f, base, now),
            )
    db.session.commit()
    return queued
