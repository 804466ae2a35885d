"""A follower's e-mail for the outcome: kept on their own follow (never on the request),
mailed on closure in their language, once per address, never after they unsubscribed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from webapp.domain.errors import DomainError, NotAllowed
from webapp.domain.lifecycle import supporters
from webapp.domain.lifecycle import workflow as requests_domain
from webapp.domain.notifications.email import addresses, mail_queue
from webapp.models import EmailOptOut, NotificationOutbox
from webapp.plumbing.extensions import db


def closure_mail() -> list[tuple[str, str, bool]]:
    rows = db.session.scalars(
        select(NotificationOutbox)
        .where(NotificationOutbox.channel == mail_queue.EMAIL, NotificationOutbox.kind == "closed")
        .order_by(NotificationOutbox.id)
    )
    return [(r.email_to, r.payload.get("locale"), bool(r.payload.get("follower"))) for r in rows]


def test_a_follower_address_stays_on_the_follow_and_gets_the_closure(app):
    factories.gen_city()
    request = factories.gen_request("graffiti", contact_email="owner@example.net")
    neighbor = factories.gen_user()
    twin = factories.gen_user()
    assert supporters.email_outcome_to(
        request, " Nell@Example.net ", user=neighbor, device=None
    ) == "Nell@example.net"
    supporters.email_outcome_to(request, "owner@example.net", user=twin, device=None)
    db.session.commit()
    assert request.contact_email == "owner@example.net"  # the requester's own, untouched
    assert request.supporters_count == 2
    assert supporters.outcome_address(request, user=neighbor, device=None) == "Nell@example.net"

    staff = factories.gen_user("staff")
    requests_domain.transition(request, "closed", staff, note="Done.", resolution="fixed")
    db.session.commit()
    # The requester once; the follower once; the follower who gave the requester's own
    # address is not mailed twice.
    assert closure_mail() == [
        ("owner@example.net", None, False),
        ("Nell@example.net", None, True),
    ]


def test_an_unsubscribed_follower_is_not_mailed_and_asking_again_lifts_it(app):
    factories.gen_city()
    request = factories.gen_request("graffiti")
    neighbor = factories.gen_user()
    supporters.email_outcome_to(request, "nell@example.net", user=neighbor, device=None)
    addresses.unsubscribe("nell@example.net", request.id)
    db.session.commit()
    staff = factories.gen_user("staff")
    requests_domain.transition(request, "in_progress", staff)
    requests_domain.transition(request, "closed", staff, note="Done.", resolution="fixed")
    db.session.commit()
    assert closure_mail() == []


def test_asking_again_lifts_an_earlier_unsubscribe(app):
    factories.gen_city()
    request = factories.gen_request("graffiti")
    neighbor = factories.gen_user()
    addresses.unsubscribe("nell@example.net", request.id)
    assert db.session.scalars(select(EmailOptOut)).all() != []
    supporters.email_outcome_to(request, "nell@example.net", user=neighbor, device=None)
    assert db.session.scalars(select(EmailOptOut)).all() == []


def test_bad_addresses_and_closed_requests_are_refused(app):
    factories.gen_city()
    request = factories.gen_request("graffiti")
    neighbor = factories.gen_user()
    with pytest.raises(DomainError):
        supporters.email_outcome_to(request, "not an address", user=neighbor, device=None)
    with pytest.raises(DomainError):
        supporters.email_outcome_to(request, "", user=neighbor, device=None)
    staff = factories.gen_user("staff")
    requests_domain.transition(request, "closed", staff, note="Done.", resolution="fixed")
    with pytest.raises(NotAllowed):
        supporters.email_outcome_to(request, "nell@example.net", user=neighbor, device=None)
