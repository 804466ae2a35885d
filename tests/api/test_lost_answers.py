"""A phone whose answers were lost still ends up holding the device that owns its reports."""

import uuid

from sqlalchemy import func, select

from tests.api.test_submit_requests import form, post
from tests.conftest import AuthActions
from tests.fakes.push_service import FakePushService
from webapp.domain.people import devices
from webapp.models import Device, Follow, PushSubscription, ServiceRequest
from webapp.plumbing.extensions import db

SUBSCRIPTION = FakePushService(base_url="http://127.0.0.1:9").subscription().as_json()


def lose_the_answer(app, data, key):
    """Send a report from a cookie-less phone and throw the answer (and its token) away."""
    response = post(app.test_client(), data, key=key)
    assert response.status_code == 201
    return response.get_json()["data"]["id"]


def my_page(client, token=None) -> str:
    headers = {"X-Device-Token": token} if token else {}
    return client.get("/my", headers=headers).get_data(as_text=True)


def test_replay_after_a_lost_first_answer_hands_the_report_to_the_phones_device(
    app, client, city
):
    key = str(uuid.uuid4())
    public_id = lose_the_answer(app, form(), key)
    replay = post(client, form(), key=key)
    assert replay.status_code == 200
    token = replay.headers["X-Device-Token"]
    held = devices.find(token)
    stored = db.session.scalars(select(ServiceRequest)).one()
    assert stored.device_id == held.id
    follow = db.session.scalars(select(Follow)).one()
    assert follow.device_id == held.id
    assert public_id in my_page(client)


def test_a_phone_that_already_holds_a_device_takes_over_the_lost_one(app, client, city):
    subscribed = client.post(
        "/api/v1/push/subscriptions", json=SUBSCRIPTION, headers={"X-Requested-With": "civic311"}
    )
    assert subscribed.status_code == 201
    token = subscribed.headers["X-Device-Token"]
    key = str(uuid.uuid4())
    public_id = lose_the_answer(app, form(), key)
    replay = post(client, form(), key=key)
    assert replay.status_code == 200 and "X-Device-Token" not in replay.headers
    held = devices.find(token)
    assert db.session.scalars(select(ServiceRequest)).one().device_id == held.id
    assert db.session.scalars(select(PushSubscription)).one().device_id == held.id
    assert public_id in my_page(client)
    assert db.session.scalar(select(func.count(Device.id))) == 2


def test_a_device_whose_token_came_back_is_never_handed_over(app, client, city):
    phone = app.test_client()
    key = str(uuid.uuid4())
    first = post(phone, form(), key=key)
    public_id = first.get_json()["data"]["id"]
    assert public_id in my_page(phone)
    replay = post(client, form(), key=key)
    assert replay.status_code == 200
    stranger = devices.find(replay.headers["X-Device-Token"])
    assert db.session.scalars(select(ServiceRequest)).one().device_id != stranger.id
    assert public_id not in my_page(client)
    assert public_id in my_page(phone)


def test_a_report_made_while_signed_in_is_never_handed_to_a_device(app, client, city):
    signed_in = app.test_client()
    user = AuthActions(signed_in).login("resident")
    key = str(uuid.uuid4())
    assert post(signed_in, form(), key=key).status_code == 201
    replay = post(client, form(), key=key)
    assert replay.status_code == 200
    stored = db.session.scalars(select(ServiceRequest)).one()
    assert stored.requester_id == user.id and stored.device_id is None
