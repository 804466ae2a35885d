"""A neighbor whose phone cannot be notified follows a request and still hears the
outcome, in English and in Spanish, against a real SMTP server (aiosmtpd): "Follow it
instead" on the location step offers e-mail since push is impossible here; the address
is remembered on the phone and offered again with "Me too" on another request's page
(a plain form); closing both requests e-mails the follower, in the follower's language,
without the requester's "Is it fixed?" links."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications.email import email_channel
from webapp.models import Follow, ServiceRequest
from webapp.plumbing.extensions import db

GPS = (35.045, -85.31)
NO_PUSH = "delete window.PushManager;"
ADDRESS = "nell@example.net"
WORDS = {
    "en": {"offer": "E-mail me the outcome instead", "why": "you asked for the outcome of",
           "follow": "Follow it instead", "cannot": "cannot show notifications"},
    "es": {"offer": "Recibir el resultado por correo electrónico",
           "why": "pidió saber el resultado de", "follow": "Seguirlo en su lugar",
           "cannot": "no puede mostrar notificaciones"},
}


@pytest.fixture
def live_app(make_app, tile_server, smtp_server):
    """The test city, e-mail to the test SMTP server, and two open requests near the GPS
    fix: one to follow from the report flow, one to follow from its status page."""
    app = make_app(TILE_URL=f"{tile_server.url}/{{z}}/{{x}}/{{y}}.png", **smtp_server.settings())
    with app.app_context():
        factories.gen_city()
        factories.gen_request("graffiti", lat=GPS[0] + 0.0004, long=GPS[1])
        factories.gen_request("pothole", lat=GPS[0] + 0.01, long=GPS[1])
        db.session.commit()
        db.session.remove()
    return app


def close_all(app) -> list[str]:
    """Staff close every request as fixed; the e-mail worker runs once."""
    with app.app_context():
        staff = factories.gen_user("staff")
        closed = []
        for request in db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)):
            requests_domain.transition(request, "closed", staff, note="Done.", resolution="fixed")
            closed.append(request.public_id)
        db.session.commit()
        email_channel.deliver_due()
        db.session.remove()
    return closed


@pytest.mark.parametrize("locale", ["en", "es"])
def test_a_follower_without_push_gets_the_outcome_by_email(
    live_app, page, flow, smtp_server, screenshot, locale
):
    words = WORDS[locale]
    page.context.add_init_script(NO_PUSH)
    with live_app.app_context():
        graffiti, pothole = (r.public_id for r in db.session.scalars(
            select(ServiceRequest).order_by(ServiceRequest.id)))
        db.session.remove()
    page._nearby_routed = True  # the real nearby search
    page.goto("/")
    if locale == "es":
        page.click(".language-switch button[lang=es]")
    # The step counter is written by the page's script once the flow is ready, in its language.
    page.wait_for_selector("#step-progress:has-text('Paso 1')" if locale == "es"
                           else "#step-progress:has-text('Step 1')")
    flow.photo()
    flow.category("graffiti")
    page.wait_for_selector("#step-location-title:visible")
    flow.tap("#use-location")
    page.locator("#nearby").wait_for(state="visible")
    # Push cannot work in this browser: the choice says so and asks for an address.
    assert page.locator("#nearby-push-choice").is_hidden()
    assert words["cannot"] in page.inner_text("#nearby-push-status")
    page.fill("#nearby-email", ADDRESS)
    screenshot(f"{locale}-1-nearby-email")
    assert_no_serious_axe_violations(page)
    flow.tap(f"#nearby-{graffiti} button:has-text('{words['follow']}')")
    page.wait_for_selector("#report-done:visible")
    assert ADDRESS in page.inner_text("#report-done-message")

    # "Me too" on another request: the e-mail offer is filled with the remembered address.
    page.goto(f"/requests/{pothole}")
    offer = page.locator("[data-push-email]")
    offer.wait_for(state="visible")
    assert words["offer"] in offer.inner_text()
    assert page.input_value("#push-email-address") == ADDRESS
    screenshot(f"{locale}-2-status-email-offer")
    page.click("[data-push-email] button[type=submit]")
    page.wait_for_selector(f".flash:has-text('{ADDRESS}')")
    assert ADDRESS in offer.inner_text()  # the page now says where the outcome goes

    with live_app.app_context():
        follows = db.session.scalars(select(Follow).order_by(Follow.id)).all()
        assert [(f.email, f.locale, f.supporter) for f in follows] == [
            (ADDRESS, locale, True), (ADDRESS, locale, True)]
        db.session.remove()
    closed = close_all(live_app)
    messages = smtp_server.wait_for(2)
    assert sorted(m["To"] for m in messages) == [ADDRESS, ADDRESS]
    for message in messages:
        text = message.get_body(("plain",)).get_content()
        assert words["why"] in text
        assert "/e/fixed/" not in text and "/e/not-fixed/" not in text
    assert sorted(i for i in closed for m in messages if i in m["Subject"]) == sorted(closed)
