"""My requests lists every request of the phone or account, a page at a time."""

import re

import pytest
from sqlalchemy import select

from tests import factories
from webapp.domain.people import devices
from webapp.models import ServiceRequest, Status
from webapp.plumbing.extensions import db

IDS = re.compile(r">[^<]* (311-\d{6})</a>")
NEXT = re.compile(r'<a rel="next" href="([^"]+)"')


@pytest.fixture
def phone(city):
    """A device with 230 requests, the 5 oldest of them closed; returns its token."""
    token, device = devices.create()
    db.session.commit()
    made = [factories.gen_request(device=device, age_days=230 - i) for i in range(230)]
    for service_request in made[:5]:
        service_request.detailed_status = Status.CLOSED
        service_request.status = "closed"
    db.session.commit()
    return token


def walk(client, token) -> list[list[str]]:
    """Follow the "Next page" links from /my; the public ids on each page."""
    pages, url = [], "/my"
    while url:
        html = client.get(url, headers={"X-Device-Token": token}).get_data(as_text=True)
        pages.append(IDS.findall(html))
        found = NEXT.search(html)
        url = found.group(1).replace("&amp;", "&") if found else None
        assert len(pages) < 10
    return pages


def test_more_than_two_hundred_requests_are_all_reachable_page_by_page(client, phone):
    first = client.get("/my", headers={"X-Device-Token": phone}).get_data(as_text=True)
    assert "230 requests · page 1 of 5" in first
    pages = walk(client, phone)
    assert [len(p) for p in pages] == [50, 50, 50, 50, 30]
    seen = [public_id for page in pages for public_id in page]
    everything = db.session.scalars(select(ServiceRequest.public_id)).all()
    assert sorted(seen) == sorted(everything) and len(set(seen)) == 230
    closed = set(
        db.session.scalars(
            select(ServiceRequest.public_id).where(
                ServiceRequest.detailed_status == Status.CLOSED
            )
        )
    )
    assert set(pages[-1][-5:]) == closed
    assert seen[0] == max(everything)


def test_odd_page_numbers_give_a_page_not_an_error(client, phone):
    cases = [("0", 1), ("²", 1), ("٣", 1), ("9" * 25, 5), ("-3", 1), ("2", 2), ("x", 1)]
    for page, shown in cases:
        response = client.get(f"/my?page={page}", headers={"X-Device-Token": phone})
        assert response.status_code == 200, page
        assert f"page {shown} of 5" in response.get_data(as_text=True), page


def test_a_short_list_has_no_pager(client, city):
    token, device = devices.create()
    db.session.commit()
    factories.gen_request(device=device)
    html = client.get("/my", headers={"X-Device-Token": token}).get_data(as_text=True)
    assert 'rel="next"' not in html and "page 1 of" not in html
    assert len(IDS.findall(html)) == 1
