"""End to end in real Chromium: a resident taps "Notify me when this is fixed", staff
closes the request, the fake push service decrypts the message, and the real service
worker shows it."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests import factories
from tests.browser.conftest import registration_id
from tests.browser.test_pwa_shell import eventually
from tests.browser.worker import service_worker_ready
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle import workflow
from webapp.domain.notifications.push import push_channel
from webapp.models import PushSubscription
from webapp.plumbing.extensions import db

NOTE = "Crew repainted the wall at 9am. Thanks for reporting!"

# Replaces the browser's push service: the app's real code gets a subscription whose
# endpoint is the fake push service and whose keys are the test's.
FAKE_SUBSCRIBE = """
(() => {
  const SUB = %s;
  const STORE = "test-fake-push-subscribed";
  function fakeSubscription() {
    return {
      endpoint: SUB.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: null },
      getKey: () => null,
      toJSON: () => ({ endpoint: SUB.endpoint, expirationTime: null, keys: SUB.keys }),
      unsubscribe: async () => { localStorage.removeItem(STORE); return true; },
    };
  }
  PushManager.prototype.subscribe = async function () {
    localStorage.setItem(STORE, "1");
    return fakeSubscription();
  };
  PushManager.prototype.getSubscription = async function () {
    return localStorage.getItem(STORE) ? fakeSubscription() : null;
  };
})();
"""

CREATE_REQUEST = """
async () => {
  const form = new FormData();
  form.append("service_code", "graffiti");
  form.append("lat", "35.045");
  form.append("long", "-85.31");
  form.append("description", "Tags on the library wall");
  const response = await fetch("/api/v1/requests", {
    method: "POST",
    body: form,
    headers: {"X-Requested-With": "civic311", "Idempotency-Key": crypto.randomUUID()},
  });
  return {status: response.status, body: await response.json()};
}
"""

NOTIFICATIONS = """
navigator.serviceWorker.ready
  .then((r) => r.getNotifications())
  .then((ns) => ns.map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data})))
"""


# Only a real click may open or focus a window, and CDP cannot click a notification: the
# worker's own handler runs on a synthetic click with openWindow/focus recorded instead.
CLICK_FIRST_NOTIFICATION = """
async () => {
  const seen = {opened: null, focused: null};
  Clients.prototype.openWindow = async (url) => { seen.opened = url; return null; };
  WindowClient.prototype.focus = async function () { seen.focused = this.url; return this; };
  const [notification] = await self.registration.getNotifications();
  const event = new NotificationEvent("notificationclick", {notification});
  self.dispatchEvent(event);
  for (let i = 0; i < 50 && !seen.opened && !seen.focused; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const left = await self.registration.getNotifications();
  return left.length === 0 ? seen : {error: "notification was not closed"};
}
"""


def test_resident_is_notified_by_the_service_worker_when_staff_closes_the_request(
    live_app, live_server, browser_context, page, push_service, screenshot
):
    with live_app.app_context():
        factories.gen_city()
        staff = factories.gen_user("staff")
        db.session.commit()
        staff_id = staff.id
        db.session.remove()
    keys = push_service.subscription()
    browser_context.add_init_script(FAKE_SUBSCRIBE % json.dumps(keys.as_json()))

    page.goto("/")
    service_worker_ready(page)
    page.reload()
    assert page.evaluate("!!navigator.serviceWorker.controller")

    created = page.evaluate(CREATE_REQUEST)
    assert created["status"] == 201, created
    public_id = created["body"]["data"]["id"]

    page.goto(f"/requests/{public_id}")
    button = page.get_by_role("button", name="Notify me when this is fixed")
    button.click()
    page.get_by_text("Notifications are on").wait_for()
    screenshot("notify-on")

    with live_app.app_context():
        subscription = db.session.scalars(select(PushSubscription)).one()
        assert subscription.endpoint == keys.endpoint
        assert subscription.device_id is not None
        service_request = requests_domain.get_by_public_id(public_id)
        workflow.transition(
            service_request,
            "closed",
            db.session.get(type(staff), staff_id),
            note=NOTE,
            resolution="fixed",
        )
        db.session.commit()
        assert push_channel.deliver_due() == 1
        db.session.remove()

    assert push_service.rejected == []
    [delivery] = push_service.deliveries
    assert delivery.payload["notification"]["body"] == NOTE

    cdp = browser_context.new_cdp_session(page)
    push_message = {
        "origin": live_server.base_url,
        "registrationId": registration_id(cdp, page),
        "data": json.dumps(delivery.payload),
    }
    cdp.send("ServiceWorker.deliverPushMessage", push_message)
    # The list the wait saw is the one checked (asking twice could race the worker).
    # Polled until shown (wait_for_function takes the returned Promise itself as truthy).
    # The bound is for a hang, not a speed: a loaded machine may take seconds to show it.
    [notification] = eventually(
        page, NOTIFICATIONS + ".then((ns) => (ns.length > 0 ? ns : null))", timeout=30
    )
    assert public_id in notification["title"] and "Fixed" in notification["title"]
    assert notification["body"] == NOTE
    assert notification["tag"] == public_id
    assert notification["data"]["navigate"] == f"{live_server.base_url}/requests/{public_id}"
    assert page.console.errors == []

    target = f"{live_server.base_url}/requests/{public_id}"
    [worker] = browser_context.service_workers
    page.goto("/")
    assert worker.evaluate(CLICK_FIRST_NOTIFICATION) == {"opened": target, "focused": None}
    page.goto(f"/requests/{public_id}")
    cdp.send("ServiceWorker.deliverPushMessage", push_message)
    # Polled until shown: wait_for_function takes the returned Promise itself as truthy.
    eventually(page, NOTIFICATIONS + ".then((ns) => ns.length === 1)", timeout=30)
    assert worker.evaluate(CLICK_FIRST_NOTIFICATION) == {"opened": None, "focused": target}
