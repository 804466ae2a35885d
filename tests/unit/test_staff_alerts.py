"""Staff alerts: one batched message per supervisor when requests go overdue, one message
to a staff member per new assignment, held back during their quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tests import factories
from webapp.domain import service_levels
from webapp.domain.lifecycle import assignment as requests_domain
from webapp.domain.notifications import staff_alerts
from webapp.domain.notifications.push import push_channel
from webapp.models import NotificationOutbox, PushSubscription
from webapp.plumbing.extensions import db

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def _rows(kind: str) -> list[NotificationOutbox]:
    return db.session.scalars(
        select(NotificationOutbox).where(NotificationOutbox.kind == kind).order_by(NotificationOutbox.id)
    ).all()


def _staff(department=None, *, supervisor=False, channel="email", quiet=None):
    user = factories.gen_user("staff")
    user.department_id = department.id if department else None
    user.supervisor = supervisor
    user.alert_channel = channel
    user.quiet_hours = quiet
    db.session.flush()
    return user


def _subscribe(user, n: int) -> None:
    db.session.add(
        PushSubscription(
            endpoint=f"https://fcm.googleapis.com/fcm/send/staff-{user.id}-{n}",
            p256dh="BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
            auth="tBHItJI5svbpez7KI4CCXg",
            user_id=user.id,
        )
    )


def _overdue(service: str, department, hours_late: float):
    req = factories.gen_request(service)
    req.department_id = department.id if department else None
    req.expected_at = NOW - timedelta(hours=hours_late)
    return req


def test_overdue_requests_reach_each_supervisor_once_per_batch(app, city):
    works = city["department"]
    parks = factories.gen_department("Parks")
    by_mail = _staff(works, supervisor=True)
    by_push = _staff(works, supervisor=True, channel="push")
    _subscribe(by_push, 1)
    _staff(works)  # not a supervisor: hears nothing
    _staff(parks, supervisor=True)  # another department's supervisor: hears nothing
    late = [_overdue("graffiti", works, h) for h in (1, 2, 30)]
    waiting = _overdue("graffiti", works, 5)
    service_levels.pause(waiting, NOW - timedelta(hours=6))
    on_time = factories.gen_request("graffiti")
    on_time.department_id, on_time.expected_at = works.id, NOW + timedelta(hours=1)
    db.session.commit()

    assert staff_alerts.escalate_overdue(NOW) == 2
    mails, pushes = _rows("overdue"), [r for r in _rows("overdue") if r.channel == "push"]
    assert [r.email_to for r in mails if r.channel == "email"] == [by_mail.email]
    assert len(pushes) == 1
    text = next(r for r in mails if r.channel == "email").payload["text"]
    assert all(r.public_id in text for r in late)
    assert waiting.public_id not in text and on_time.public_id not in text
    assert "3 requests went overdue" in pushes[0].payload["notification"]["title"]

    # The next batch has nothing new: nobody hears twice about the same requests.
    assert staff_alerts.escalate_overdue(NOW + timedelta(minutes=1)) == 0
    assert len(_rows("overdue")) == 2

    # One request goes overdue later: the next batch lists only it.
    assert staff_alerts.escalate_overdue(NOW + timedelta(hours=2)) == 2
    newest = [r for r in _rows("overdue") if r.channel == "email"][-1]
    assert on_time.public_id in newest.payload["text"]
    assert late[0].public_id not in newest.payload["text"]
    assert "1 request went overdue" in newest.payload["subject"]


def test_a_claimed_request_is_not_escalated_by_a_second_run(app, city):
    works = city["department"]
    _staff(works, supervisor=True)
    req = _overdue("graffiti", works, 1)
    db.session.commit()
    assert staff_alerts._claim(req)
    assert not staff_alerts._claim(req)  # what a second worker would find
    db.session.commit()
    assert staff_alerts.escalate_overdue(NOW) == 0


def test_an_assignment_sends_one_message_to_the_assignee(app, city, auth, client):
    colleague = _staff(channel="push")
    _subscribe(colleague, 1)
    _subscribe(colleague, 2)
    mailer = _staff()
    req = factories.gen_request("graffiti")
    db.session.commit()
    me = auth.login("staff")

    client.post(f"/staff/requests/{req.public_id}/assign", data={"assignee": colleague.id})
    rows = _rows("assigned")
    assert len(rows) == 2  # one push per browser the colleague subscribed from
    assert {r.subscription_id for r in rows} == {
        s.id for s in db.session.scalars(select(PushSubscription).where(PushSubscription.user_id == colleague.id))
    }
    assert rows[0].payload["notification"]["navigate"] == f"/staff/requests/{req.public_id}"

    # The same assignment again, and assigning oneself, send nothing.
    client.post(f"/staff/requests/{req.public_id}/assign", data={"assignee": colleague.id})
    client.post(f"/staff/requests/{req.public_id}/assign", data={"assign_me": "1"})
    assert len(_rows("assigned")) == 2
    db.session.expire_all()
    assert req.assignee_id == me.id

    client.post(f"/staff/requests/{req.public_id}/assign", data={"assignee": mailer.id})
    mails = [r for r in _rows("assigned") if r.channel == "email"]
    assert [r.email_to for r in mails] == [mailer.email]
    assert req.public_id in mails[0].payload["subject"]


def test_quiet_hours_hold_a_message_until_they_end(app, city):
    night_owl = _staff(quiet="22:00-07:00")
    req = factories.gen_request("graffiti")
    staff = factories.gen_user("staff")
    late_evening = datetime(2026, 3, 10, 23, 30, tzinfo=NY).astimezone(UTC)
    event = requests_domain.assign(req, staff, assignee=night_owl)
    event.created_at = late_evening
    db.session.execute(NotificationOutbox.__table__.delete())
    assert staff_alerts.on_assigned(event, night_owl, staff) == 1
    row = _rows("assigned")[0]
    assert row.next_attempt_at == datetime(2026, 3, 11, 7, 0, tzinfo=NY).astimezone(UTC)
    daytime = datetime(2026, 3, 11, 12, 0, tzinfo=NY).astimezone(UTC)
    assert staff_alerts.send_at(night_owl, daytime, NY) == daytime
    early = datetime(2026, 3, 11, 6, 0, tzinfo=NY).astimezone(UTC)
    assert staff_alerts.send_at(night_owl, early, NY) == datetime(2026, 3, 11, 7, 0, tzinfo=NY).astimezone(UTC)


def test_staff_choose_push_and_quiet_hours_and_subscribe_like_residents(
    app, city, auth, client, push_service
):
    me = auth.login("staff")
    page = client.get("/staff/alerts")
    assert page.status_code == 200 and b"data-push-subscribe" in page.data
    bad = client.post("/staff/alerts", data={"channel": "push", "quiet_hours": "late"})
    assert bad.status_code == 422
    db.session.expire_all()
    assert me.alert_channel == "email" and me.quiet_hours is None  # nothing half-written
    client.post("/staff/alerts", data={"channel": "push", "quiet_hours": "22:00 - 7:00"})
    db.session.expire_all()
    assert (me.alert_channel, me.quiet_hours) == ("push", "22:00-07:00")

    # A staff browser subscribes through the residents' API: same allow-list, same worker.
    refused = client.post(
        "/api/v1/push/subscriptions",
        json={"endpoint": "https://10.0.0.5/push/1", "keys": {"p256dh": "x", "auth": "y"}},
        headers={"X-Requested-With": "civic311"},
    )
    assert refused.status_code in (400, 422)
    keys = push_service.subscription()
    saved = client.post(
        "/api/v1/push/subscriptions", json=keys.as_json(), headers={"X-Requested-With": "civic311"}
    )
    assert saved.status_code == 201
    found = db.session.scalars(select(PushSubscription)).one()
    assert found.user_id == me.id

    # A colleague assigns me a request at noon: the push worker delivers it once.
    req = factories.gen_request("graffiti")
    colleague = factories.gen_user("staff")
    event = requests_domain.assign(req, colleague, assignee=me)
    db.session.commit()
    rows = _rows("assigned")
    assert len(rows) == 1
    rows[0].next_attempt_at = event.created_at  # not held back by the quiet hours for this check
    db.session.commit()
    assert push_channel.deliver_due(now=event.created_at) == 1
    assert push_channel.deliver_due(now=event.created_at) == 0
    [payload] = push_service.payloads(keys)
    assert req.public_id in payload["notification"]["title"]
