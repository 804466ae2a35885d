"""The city's own pages are used all day, often by keyboard: axe finds nothing serious
on the staff queue, a request's workbench, the liaison dashboard, admin and /stats."""

from __future__ import annotations

import pytest

from tests import factories
from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.signing_in import sign_in
from webapp.domain.lifecycle import submission as rules
from webapp.domain.open311.forwarding import queueing
from webapp.models import ForwardState, ForwardTarget
from webapp.plumbing.extensions import db


@pytest.fixture
def city_pages(live_app):
    """A city with two open requests (one with private contact), an admin and a liaison."""
    with live_app.app_context():
        city = factories.gen_city()
        admin = factories.gen_user("admin", email="admin@city.gov")
        liaison = factories.gen_user("liaison", email="liaison@city.gov",
                                     neighborhood=city["west"])
        request = factories.gen_request("pothole", contact_email="someone@example.net")
        factories.gen_request("graffiti")
        db.session.add(ForwardTarget(name="City CRM", department=city["department"],
                                     endpoint="http://127.0.0.1:9/open311/v2/", active=True))
        db.session.commit()
        placeless = rules.submit(rules.Submission(
            service_code="graffiti", lat=None, long=None, landmark="Under the bridge"
        )).request
        row = queueing.for_request(placeless)
        row.state, row.last_error = ForwardState.REJECTED, "Unknown service code"
        db.session.commit()
        pages = {"admin": admin.email, "liaison": liaison.email, "request": request.public_id,
                 "placeless": placeless.public_id}
        db.session.remove()
    return pages


def _sign_in(page, email: str) -> None:
    sign_in(page, email)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("path", [
    "/staff/", "/staff/requests/{request}", "/admin/", "/admin/services", "/admin/users",
    "/admin/departments", "/admin/neighborhoods", "/admin/templates",
    "/admin/api-keys", "/stats", "/staff/requests/{placeless}", "/admin/forwarding",
])
def test_admin_and_staff_pages_have_no_serious_accessibility_violations(
    browser, live_server, city_pages, path
):
    context = browser.new_context(base_url=live_server.base_url,
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    try:
        _sign_in(page, city_pages["admin"])
        response = page.goto(path.format(**city_pages))
        assert response.status == 200
        page.wait_for_load_state("networkidle")
        assert_no_serious_axe_violations(page)
    finally:
        context.close()


def test_liaison_dashboard_has_no_serious_accessibility_violations(page, city_pages):
    _sign_in(page, city_pages["liaison"])
    response = page.goto("/liaison/")
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    assert_no_serious_axe_violations(page)
