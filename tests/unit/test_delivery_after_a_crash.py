"""Notifications exactly once after a worker dies: each outcome committed as it is sent,
a dead worker's claims taken over when their one-minute lease runs out (an injected
clock, never a sleep), the message in doubt sent once more with the same push Topic /
e-mail Message-ID (seen at the real fake push service and aiosmtpd), and the staff
delivery log's wording for a message in doubt."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from tests import factories
from tests.api.test_email_links import AuthActions
from webapp.domain.lifecycle import workflow
from webapp.domain.notifications import claims, notify, outbox
from webapp.domain.notifications.email import email_channel, mail_queue
from webapp.domain.notifications.push import push_channel, push_sender
from webapp.domain.open311.forwarding import queueing, sending
from webapp.domain.people import devices
from webapp.jobs.runner import LeaseKeeper
from webapp.models import Forwarding, ForwardTarget, NotificationOutbox, utcnow
from webapp.plumbing.extensions import db


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing after it runs in the worker's own thread."""


def rows(channel: str | None = None) -> list[NotificationOutbox]:
    """The outbox rows (of one channel), oldest first, read fresh."""
    db.session.expire_all()
    query = select(NotificationOutbox).order_by(NotificationOutbox.id)
    if channel:
        query = query.where(NotificationOutbox.channel == channel)
    return list(db.session.scalars(query))


def queue_pushes(push_service, count: int):
    """``count`` requests, each followed by its own subscribed browser, all closed."""
    factories.gen_city()
    staff = factories.gen_user("staff")
    requests = []
    for _n in range(count):
        _, device = devices.create()
        request = factories.gen_request("graffiti", device=device)
        keys = push_service.subscription()
        notify.subscribe(keys.endpoint, keys.p256dh, keys.auth, user=None, device=device)
        requests.append(request)
    db.session.commit()
    for request in requests:
        workflow.transition(request, "closed", staff, note="Done", resolution="fixed")
    db.session.commit()
    return requests


def queue_mail(count: int) -> None:
    for n in range(count):
        mail_queue.queue_email(f"r{n}@example.net", f"Message {n}", "Hello")
    db.session.commit()


# --- the lease ----------------------------------------------------------------------


def test_a_dead_workers_claim_is_taken_over_once_its_lease_runs_out(app):
    queue_mail(1)
    t0 = utcnow() + timedelta(seconds=1)

    assert claims.claim_due(10, t0, mail_queue.EMAIL, token="worker-a") == [rows()[0].id]
    assert claims.claim_due(10, t0 + timedelta(seconds=59), mail_queue.EMAIL, token="worker-b") == []
    taken = claims.claim_due(10, t0 + timedelta(seconds=61), mail_queue.EMAIL, token="worker-b")

    assert taken == [rows()[0].id]
    [row] = rows()
    assert (row.state, row.claim_token, row.attempts) == ("sending", "worker-b", 2)


def test_a_live_workers_heartbeat_keeps_its_claim(app):
    queue_mail(1)
    t0 = utcnow() + timedelta(seconds=1)
    assert len(claims.claim_due(10, t0, mail_queue.EMAIL)) == 1  # this process's token

    keeper = LeaseKeeper(app, clock=lambda: t0 + timedelta(seconds=45))
    assert keeper.beat() == 1

    at_first_expiry = t0 + timedelta(seconds=61)
    assert claims.claim_due(10, at_first_expiry, mail_queue.EMAIL, token="other") == []
    after_renewed_expiry = t0 + timedelta(seconds=106)
    assert len(claims.claim_due(10, after_renewed_expiry, mail_queue.EMAIL, token="other")) == 1


def test_a_worker_that_lost_its_claim_cannot_overwrite_its_successor(app):
    queue_mail(1)
    t0 = utcnow() + timedelta(seconds=1)
    claims.claim_due(10, t0, mail_queue.EMAIL, token="worker-a")
    claims.claim_due(10, t0 + timedelta(minutes=2), mail_queue.EMAIL, token="worker-b")
    [row] = rows()
    late = email_channel.Claimed(row.id, "worker-a", 1, row.email_to)

    assert outbox.record(late, {"state": "failed", "last_error": "too late"}) is False
    assert rows()[0].state == "sending"


def test_a_push_row_without_a_topic_gets_one_when_claimed(app):
    db.session.add(NotificationOutbox(payload={"notification": {}}, state="pending"))
    db.session.commit()

    claims.claim_due(10, utcnow() + timedelta(seconds=1), "push")

    [row] = rows()
    assert row.topic == f"outbox{row.id}"


# --- push: per-message commit and the resend ---------------------------------------


def test_push_outcomes_are_committed_one_by_one_and_the_one_in_doubt_keeps_its_topic(
    app, push_service, monkeypatch
):
    queue_pushes(push_service, 5)
    real_send, calls = push_sender.send, []

    def killed_after_the_fourth_push_left(message, sender):
        attempt = real_send(message, sender)
        calls.append(message.id)
        if len(calls) == 4:
            raise WorkerKilled  # the push went out; its answer is never recorded
        return attempt

    monkeypatch.setattr(push_sender, "send", killed_after_the_fourth_push_left)
    t0 = utcnow() + timedelta(seconds=1)
    with pytest.raises(WorkerKilled):
        push_channel.deliver_due(now=t0, concurrency=1)
    db.session.rollback()

    assert [row.state for row in rows()] == ["sent", "sent", "sent", "sending", "sending"]
    monkeypatch.setattr(push_sender, "send", real_send)
    assert push_channel.deliver_due(now=t0 + timedelta(seconds=30)) == 0  # lease still running
    assert push_channel.deliver_due(now=t0 + timedelta(seconds=61)) == 2

    assert [row.state for row in rows()] == ["sent"] * 5
    topics = Counter((d.endpoint, d.topic) for d in push_service.deliveries)
    in_doubt = rows()[3]
    assert len(push_service.deliveries) == 6  # the one in doubt went out once more …
    assert topics[(push_service.deliveries[3].endpoint, in_doubt.topic)] == 2  # … same Topic
    assert all(count == 1 for key, count in topics.items() if key[1] != in_doubt.topic)


# --- e-mail: per-message commit and the resend -------------------------------------


def test_mail_outcomes_are_committed_one_by_one_and_a_resend_keeps_its_message_id(
    mail_app, smtp_server, monkeypatch
):
    queue_mail(5)
    real_record, recorded = outbox.record, []

    def killed_before_recording_the_fourth(message, values):
        if len(recorded) == 3:
            raise WorkerKilled  # the fourth message went out; its answer is never recorded
        recorded.append(message.id)
        return real_record(message, values)

    monkeypatch.setattr(outbox, "record", killed_before_recording_the_fourth)
    t0 = utcnow() + timedelta(seconds=1)
    with pytest.raises(WorkerKilled):
        email_channel.deliver_due(now=t0)
    db.session.rollback()
    # The fourth went out before its answer was recorded; the fifth never left: a
    # connection sends its next message only once the last answer is recorded.
    assert len(smtp_server.wait_for(4)) == 4

    assert [row.state for row in rows()] == ["sent", "sent", "sent", "sending", "sending"]
    monkeypatch.setattr(outbox, "record", real_record)
    assert email_channel.deliver_due(now=t0 + timedelta(seconds=30)) == 0  # lease still running
    assert email_channel.deliver_due(now=t0 + timedelta(seconds=61)) == 2

    final = rows()
    assert [row.state for row in final] == ["sent"] * 5
    received = Counter(message["Message-ID"].strip() for message in smtp_server.wait_for(6))
    assert received == Counter({row.message_id: (2 if n == 3 else 1) for n, row in enumerate(final)})


def test_a_confirmation_keeps_the_message_id_that_names_its_request(mail_app, smtp_server):
    factories.gen_city()
    request = factories.gen_request("pothole", contact_email="rita@example.net")
    db.session.commit()

    assert email_channel.deliver_due() == 1

    [row] = rows(mail_queue.EMAIL)
    assert request.public_id in row.message_id
    assert smtp_server.wait_for(1)[0]["Message-ID"].strip() == row.message_id


# --- the staff delivery log ----------------------------------------------------------


def test_the_delivery_log_never_calls_a_message_in_doubt_waiting(mail_app, mail_client):
    factories.gen_city()
    request = factories.gen_request("pothole", contact_email="rita@example.net")
    db.session.commit()
    claims.claim_due(10, utcnow() + timedelta(seconds=1), mail_queue.EMAIL, token="dead-worker")
    AuthActions(mail_client).login("staff")

    page = mail_client.get(f"/staff/requests/{request.public_id}").get_data(as_text=True)

    assert "E-mail (confirmation) sending / being checked, attempt 1" in page
    assert "waiting to send" not in page


# --- forwarding: a dead worker's attempt is looked for before sending again ----------


def test_a_forwarding_whose_worker_died_is_looked_for_at_the_crm_before_resending(app):
    city = factories.gen_city()
    db.session.add(
        ForwardTarget(
            name="City CRM", department=city["department"], endpoint="http://127.0.0.1:9",
            api_key="k", active=True,
        )
    )
    db.session.commit()
    in_doubt = queueing.for_request(factories.gen_request("graffiti"))
    untouched = queueing.for_request(factories.gen_request("graffiti"))
    db.session.commit()
    now = utcnow()
    in_doubt.claimed_until = now - timedelta(seconds=1)  # its worker died mid-attempt
    db.session.commit()

    assert sending._claim(Forwarding, in_doubt.id, now)
    assert sending._claim(Forwarding, untouched.id, now)

    db.session.expire_all()
    assert (in_doubt.lookup_needed, untouched.lookup_needed) == (True, False)
    assert in_doubt.claimed_until == now + sending.LEASE == untouched.claimed_until



# --- a worker that lives through a database outage -----------------------------------


def _database_gone() -> OperationalError:
    """What SQLAlchemy raises when the database server goes away mid-batch."""
    return OperationalError("UPDATE notification_outbox …", {}, Exception("server closed"))


def test_a_mail_batch_given_up_in_a_database_outage_is_not_renewed_and_is_sent_later(
    mail_app, smtp_server, monkeypatch
):
    queue_mail(3)
    real_record = outbox.record

    def database_gone_after_the_first(message, values):
        if rows("email")[0].state == "sent":
            raise _database_gone()  # the second answer arrived; it cannot be recorded
        return real_record(message, values)

    monkeypatch.setattr(outbox, "record", database_gone_after_the_first)
    t0 = utcnow() + timedelta(seconds=1)
    with pytest.raises(OperationalError):
        email_channel.deliver_due(now=t0)
    db.session.rollback()
    assert [row.state for row in rows()] == ["sent", "sending", "sending"]

    # The worker lives on and keeps beating: the rows it gave up are not renewed …
    monkeypatch.setattr(outbox, "record", real_record)
    keeper = LeaseKeeper(mail_app, clock=lambda: t0 + timedelta(seconds=45))
    assert keeper.beat() == 0
    # … so the next round, a lease later, sends them (the one in doubt with its Message-ID).
    assert email_channel.deliver_due(now=t0 + timedelta(seconds=61)) == 2
    final = rows()
    assert [row.state for row in final] == ["sent"] * 3
    received = Counter(message["Message-ID"].strip() for message in smtp_server.wait_for(4))
    assert received == Counter({final[0].message_id: 1, final[1].message_id: 2,
                                final[2].message_id: 1})


def test_a_push_batch_given_up_in_a_database_outage_is_not_renewed_and_is_sent_later(
    app, push_service, monkeypatch
):
    queue_pushes(push_service, 3)
    real_record, answers = outbox.record, []

    def database_gone_at_the_second_answer(message, values):
        answers.append(message.id)
        if len(answers) == 2:
            raise _database_gone()
        return real_record(message, values)

    monkeypatch.setattr(outbox, "record", database_gone_at_the_second_answer)
    t0 = utcnow() + timedelta(seconds=1)
    with pytest.raises(OperationalError):
        push_channel.deliver_due(now=t0, concurrency=1)
    db.session.rollback()
    assert [row.state for row in rows()] == ["sent", "sending", "sending"]

    monkeypatch.setattr(outbox, "record", real_record)
    keeper = LeaseKeeper(app, clock=lambda: t0 + timedelta(seconds=45))
    assert keeper.beat() == 0
    assert push_channel.deliver_due(now=t0 + timedelta(seconds=61)) == 2
    assert [row.state for row in rows()] == ["sent"] * 3
    assert len(push_service.deliveries) == 4  # the second went out twice, same Topic
    assert len({(d.endpoint, d.topic) for d in push_service.deliveries}) == 3
