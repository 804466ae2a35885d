"""A resident's own requests (by account, by this device and by the e-mail addresses the
device proved), a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import selectinload

from webapp.domain.lifecycle.requests import owned_by
from webapp.models import Device, ServiceRequest, Status, User
from webapp.plumbing.extensions import db

PAGE_SIZE = 50


@dataclass(frozen=True)
class MyRequestsPage:
    """One page of the list: open requests first, newest first within each group."""

    rows: list[ServiceRequest]
    page: int
    pages: int
    total: int
    open_total: int
    closed_total: int
    per_page: int

    @property
    def open_rows(self) -> list[ServiceRequest]:
        """This page's open requests."""
        return [r for r in self.rows if not r.is_closed]

    @property
    def closed_rows(self) -> list[ServiceRequest]:
        """This page's closed requests."""
        return [r for r in self.rows if r.is_closed]


def page_of_requests(
    user: User | None, device: Device | None, page: int, per_page: int = PAGE_SIZE
) -> MyRequestsPage:
    """Page ``page`` (clamped to the pages there are) of the requests made by the user
    or from the device (the ownership rule of ``requests.owned_by``), with the totals the page needs to say how many there are."""
    mine = owned_by(user, device)
    if mine is None:
        return MyRequestsPage([], 1, 1, 0, 0, 0, per_page)
    closed = ServiceRequest.detailed_status == Status.CLOSED
    total, closed_total = db.session.execute(
        select(
            func.count(ServiceRequest.id),
            func.coalesce(func.sum(case((closed, 1), else_=0)), 0),
        ).where(mine)
    ).one()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = db.session.scalars(
        select(ServiceRequest)
        .where(mine)
        .options(selectinload(ServiceRequest.service))
        .order_by(
            case((closed, 1), else_=0), ServiceRequest.received_at.desc(), ServiceRequest.id.desc()
        )
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return MyRequestsPage(
        list(rows), page, pages, total, total - closed_total, closed_total, per_page
    )
