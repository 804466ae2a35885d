"""Staff queue at several sizes, beside the obvious SQL for the same page, in one run.

    .venv/bin/python bench/bench_queue.py [--sizes 10000,100000] [--runs 15]
                                          [--pg URL] [--no-sqlite] [--no-pg]

Each database (a SQLite file; a PostgreSQL schema ``bench_queue`` in the ``bench`` database,
dropped at the end) is migrated, given a staff account, twelve services and 24
neighbourhoods, then grown to each size with ``bench_scale.grow()`` (a fifth of the
requests open, spread over three years) and analysed. At each size, median of
``--runs``:

- queue data: ``queue.search`` with the default filters (open, oldest first, page 1 of
  50: the page's ids, a count capped at 1,000, the rows and their service,
  neighbourhood, department and assignee) vs the obvious SQL a developer writes for the
  same page: one SELECT of those columns with the same joins, ``WHERE detailed_status IN
  (open statuses) ORDER BY received_at, id LIMIT 50``, and ``SELECT count(*)`` of the
  open requests (exact; ours stops at 1,000 and shows "more than 1,000");
- queue page: ``GET /staff/`` signed in as staff through the test client (data, filter
  lists and the rendered HTML). No baseline of its own: its floor is the data row.

Target: the page in ≤ 100 ms.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sized  # noqa: E402
from bench_scale import analyse, grow, seed_neighbourhoods, seed_services  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from tests import factories  # noqa: E402
from webapp import create_app  # noqa: E402
from webapp.domain.lifecycle import queue  # noqa: E402
from webapp.models import Department, Neighborhood, Service, ServiceRequest, User  # noqa: E402
from webapp.plumbing.extensions import db  # noqa: E402

SCHEMA = "bench_queue"
TARGET_MS = 100.0
STAFF_EMAIL = "bench@city.gov"


def obvious_page() -> tuple[list, int]:
    """The queue's first page and count as a developer writes them first."""
    is_open = ServiceRequest.detailed_status.in_(queue.OPEN_STATUSES)
    rows = db.session.execute(
        select(
            ServiceRequest.id,
            ServiceRequest.public_id,
            ServiceRequest.detailed_status,
            ServiceRequest.resolution,
            ServiceRequest.reopened,
            ServiceRequest.lat,
            ServiceRequest.long,
            ServiceRequest.received_at,
            ServiceRequest.expected_at,
            Service.name.label("service_name"),
            Neighborhood.name.label("neighbourhood_name"),
            User.display_name.label("assignee_name"),
            Department.name.label("department_name"),
        )
        .join(Service, Service.id == ServiceRequest.service_id)
        .outerjoin(Neighborhood, Neighborhood.id == ServiceRequest.neighborhood_id)
        .outerjoin(User, User.id == ServiceRequest.assignee_id)
        .outerjoin(Department, Department.id == ServiceRequest.department_id)
        .where(is_open)
        .order_by(ServiceRequest.received_at, ServiceRequest.id)
        .limit(queue.DEFAULT_PAGE_SIZE)
    ).all()
    total = db.session.scalar(select(func.count()).select_from(ServiceRequest).where(is_open))
    return rows, total


def ours_page() -> tuple[list, int]:
    """The queue's first page as the app reads it (relations loaded by ``selectinload``)."""
    found = queue.search(queue.QueueFilters())
    return found.rows, found.total


def measure(label: str, settings: dict, sizes: list[int], runs: int) -> list[tuple]:
    """Grow one database through ``sizes``; time ours and the baseline at each."""
    from flask_migrate import upgrade

    app = create_app(settings)
    rows = []
    with app.app_context():
        upgrade()
        factories.gen_user("staff", email=STAFF_EMAIL)
        db.session.commit()
        service_ids, area_ids = seed_services(), seed_neighbourhoods()
        rng, have = random.Random(311), 0
        client = app.test_client()
        response = client.post(
            "/auth/sign-in", data={"email": STAFF_EMAIL, "password": factories.PASSWORD}
        )
        assert response.status_code == 302, response.status_code
        for size in sizes:
            grow(service_ids, area_ids, have, size, rng)
            have = size
            analyse()
            ours_rows, _ = ours_page()
            base_rows, _ = obvious_page()
            assert [r.id for r in ours_rows] == [r.id for r in base_rows], "pages differ"
            db.session.rollback()
            data = sized.median_ms(lambda _: ours_page(), runs, db.session.rollback)
            base = sized.median_ms(lambda _: obvious_page(), runs, db.session.rollback)

            def page(_):
                response = client.get("/staff/")
                response.get_data()
                assert response.status_code == 200, response.status_code

            whole = sized.median_ms(page, runs, db.session.rollback)
            rows += [(label, size, "queue data (page + count)", data, base),
                     (label, size, "queue page GET /staff/", whole, None)]
            print(f"[{label}] {size:,}: data {data:.1f} ms, obvious SQL {base:.1f} ms, "
                  f"page {whole:.1f} ms", flush=True)
        db.session.remove()
        db.engine.dispose()
    return rows


def main() -> None:
    """Run every backend asked for and print the table."""
    args = sized.parser(__doc__.splitlines()[0]).parse_args()
    rows = []
    for label in sized.labels(args):
        with sized.backend(label, args, SCHEMA, "queue") as settings:
            rows += measure(label, settings, sized.sizes(args), args.runs)
    sized.print_table(
        f"Staff queue, default view, median of {args.runs}", rows, TARGET_MS,
        "Baseline: one SELECT with the joins, ORDER BY received_at, id LIMIT 50, and an "
        "exact count(*) of the open requests. Target applies to the page.",
    )


if __name__ == "__main__":
    main()
