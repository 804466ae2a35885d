"""Push delivery against the local fake push service: VAPID, headers, encryption,
dead subscriptions, retries, rollbacks, exactly-once with concurrent workers."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications import claims, notify, outbox
from webapp.domain.notifications.push import push_channel, push_sender
from webapp.domain.people import devices
from webapp.models import Follow, NotificationOutbox, PushSubscription, utcnow
from webapp.plumbing.extensions import db


@pytest.fixture
def staff(app, city):
    """A staff member to close requests."""
    user = factories.gen_user("staff")
    db.session.commit()
    return user


def followed_request(push_service, service="graffiti"):
    """A request made from a device whose browser subscribed on the fake service."""
    _, device = devices.create()
    request = factories.gen_request(service, device=device)
    keys = push_service.subscription()
    notify.subscribe(
        keys.endpoint, keys.p256dh, keys.auth, user=None, device=device
    )
    db.session.commit()
    return request, keys


def close(request, staff, note="Filled and sealed the pothole this morning."):
    """Staff closes the request as fixed and commits."""
    requests_domain.transition(request, "closed", staff, note=note, resolution="fixed")
    db.session.commit()


def outbox_rows():
    """Every outbox row, oldest first."""
    return db.session.scalars(select(NotificationOutbox).order_by(NotificationOutbox.id)).all()


def test_closing_a_followed_request_delivers_a_payload_that_decrypts(app, staff, push_service):
    request, keys = followed_request(push_service)
    close(request, staff)

    assert push_channel.deliver_due() == 1

    assert push_service.rejected == []
    [delivery] = push_service.deliveries
    notification = delivery.payload["notification"]
    assert delivery.payload["web_push"] == 8030
    assert request.public_id in notification["title"] and "Fixed" in notification["title"]
    assert notification["body"] == "Filled and sealed the pothole this morning."
    assert notification["navigate"] == f"/requests/{request.public_id}"
    assert delivery.ttl == 4 * 24 * 3600
    assert delivery.urgency == "normal"
    assert delivery.topic == request.public_id.replace("-", "")
    assert delivery.claims["sub"] == "mailto:test@civic311.example"
    assert delivery.claims["aud"] == push_service.base_url
    assert delivery.claims["exp"] <= time.time() + 24 * 3600
    assert delivery.vapid_key == push_sender.public_key()
    [row] = outbox_rows()
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, None)
    subscription = db.session.scalars(select(PushSubscription)).one()
    assert subscription.last_success_at is not None


def test_gone_subscription_is_deleted_and_its_message_is_dead(app, staff, push_service):
    request, keys = followed_request(push_service)
    push_service.answer(keys, 410)
    close(request, staff)

    assert push_channel.deliver_due() == 0

    assert db.session.scalar(select(func.count(PushSubscription.id))) == 0
    [row] = outbox_rows()
    assert row.state == "dead"
    assert "410" in row.last_error
    assert push_service.deliveries == []


def test_too_many_requests_is_retried_after_retry_after_and_delivered_once(
    app, staff, push_service
):
    request, keys = followed_request(push_service)
    push_service.answer(keys, (429, {"Retry-After": "600"}))
    close(request, staff)

    assert push_channel.deliver_due() == 0
    [row] = outbox_rows()
    assert row.state == "pending" and "429" in row.last_error
    assert row.next_attempt_at >= utcnow() + timedelta(seconds=590)
    assert push_channel.deliver_due() == 0, "not due yet: Retry-After is honoured"

    assert push_channel.deliver_due(now=utcnow() + timedelta(minutes=11)) == 1
    assert push_channel.deliver_due(now=utcnow() + timedelta(days=1)) == 0

    assert len(push_service.attempts) == 2
    assert len(push_service.deliveries) == 1
    db.session.refresh(row)
    assert (row.state, row.attempts, row.last_error) == ("sent", 2, None)


def test_server_errors_are_retried_with_backoff_then_given_up_with_the_reason(
    app, staff, push_service
):
    request, keys = followed_request(push_service)
    push_service.answer(keys, *[500] * outbox.MAX_ATTEMPTS)
    close(request, staff)

    # The clock and the jitter are the test's: each run is one step of a simulated clock.
    later = utcnow()
    rng = random.Random(20)
    waits = []
    for _ in range(outbox.MAX_ATTEMPTS):
        push_channel.deliver_due(now=later, rng=rng)
        row = outbox_rows()[0]
        if row.state == "failed":
            break
        waits.append((row.next_attempt_at - later).total_seconds())
        later = row.next_attempt_at + timedelta(seconds=1)

    [row] = outbox_rows()
    assert row.state == "failed"
    assert row.attempts == outbox.MAX_ATTEMPTS
    assert "gave up after 8 attempts" in row.last_error and "500" in row.last_error
    assert len(waits) == outbox.MAX_ATTEMPTS - 1
    for attempt, wait in enumerate(waits, start=1):
        base = outbox.backoff_base_seconds(attempt)
        assert 0.8 * base <= wait <= 1.2 * base, (attempt, wait)
    assert [outbox.backoff_base_seconds(a) for a in (1, 2, 3)] == [30, 60, 120], "backoff grows"
    assert push_channel.deliver_due(now=utcnow() + timedelta(days=30)) == 0
    assert len(push_service.attempts) == outbox.MAX_ATTEMPTS


def test_a_rolled_back_status_change_sends_nothing(app, staff, push_service):
    request, keys = followed_request(push_service)
    requests_domain.transition(request, "closed", staff, note="Done", resolution="fixed")
    db.session.rollback()

    assert push_channel.deliver_due() == 0
    assert outbox_rows() == []
    assert push_service.attempts == []


def test_a_delivered_message_is_not_sent_again(app, staff, push_service):
    request, keys = followed_request(push_service)
    close(request, staff)

    assert push_channel.deliver_due() == 1
    assert push_channel.deliver_due(now=utcnow() + timedelta(days=1)) == 0
    assert len(push_service.attempts) == 1


def test_message_for_a_deleted_subscription_is_dropped_without_sending(app, staff, push_service):
    request, keys = followed_request(push_service)
    close(request, staff)
    notify.unsubscribe(keys.endpoint, user=None, device=request.device)
    db.session.commit()

    assert push_channel.deliver_due() == 0
    [row] = outbox_rows()
    assert row.state == "dead"
    assert push_service.attempts == []


def test_a_worker_that_died_mid_send_leaves_rows_that_return_after_the_lease(
    app, staff, push_service
):
    request, keys = followed_request(push_service)
    close(request, staff)
    assert claims.claim_due(push_channel.CLAIM_BATCH) != []

    assert push_channel.deliver_due() == 0, "claimed rows are not taken by another worker"
    assert push_channel.deliver_due(now=utcnow() + claims.LEASE + timedelta(seconds=1)) == 1


def test_two_workers_on_postgresql_deliver_500_rows_exactly_once(app, staff, push_service, request):
    if request.config.getoption("--database") != "postgres":
        pytest.skip("needs concurrent writers: runs in the PostgreSQL pass (--database=postgres)")
    service_request = factories.gen_request("graffiti")
    for _ in range(500):
        _, device = devices.create()
        keys = push_service.subscription()
        db.session.add(Follow(request_id=service_request.id, device_id=device.id))
        notify.subscribe(
            keys.endpoint, keys.p256dh, keys.auth, user=None, device=device
        )
    db.session.commit()
    close(service_request, staff)
    assert len(outbox_rows()) == 500

    sent: dict[str, int] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        with app.app_context():
            try:
                sent[name] = push_channel.deliver_due(limit=20)
            except BaseException as error:  # reported below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert errors == []
    assert sum(sent.values()) == 500
    assert all(count > 0 for count in sent.values()), f"both workers took rows: {sent}"
    endpoints = [d.endpoint for d in push_service.deliveries]
    assert len(endpoints) == 500 and len(set(endpoints)) == 500
    assert len(push_service.attempts) == 500
    assert push_service.rejected == []
    db.session.expire_all()
    states = db.session.execute(
        select(NotificationOutbox.state, func.count()).group_by(NotificationOutbox.state)
    ).all()
    assert dict(states) == {"sent": 500}
