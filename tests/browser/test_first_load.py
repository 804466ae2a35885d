"""A phone's first load of ``/`` in the demo city (the bench's city): within the budget
by the bench's counting, no URL downloaded twice, the map library not at all. Bytes and
requests, never time."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.first_load import BUDGET_KB, ServerTally, record_first_load, total_kb
from webapp.plumbing.extensions import db
from webapp.seed.demo import seed_demo


@pytest.fixture
def live_app(make_app):
    """The demo city with 50 requests, as ``bench/bench_first_load.py`` serves it."""
    app = make_app()
    with app.app_context():
        seed_demo(request_count=50)
        db.session.remove()
    return app


@pytest.fixture
def tally(live_app) -> ServerTally:
    """What reaches the server, noted as the live server answers it."""
    counter = ServerTally(live_app.wsgi_app)
    live_app.wsgi_app = counter
    return counter


def worker_imports(live_app) -> set[str]:
    """The hashed scripts the worker imports itself (its texts and the outbox)."""
    body = live_app.test_client().get("/sw.js").get_data(as_text=True)
    manifest = json.loads(re.search(r"self\.SHELL_MANIFEST = (\{.*?\});", body).group(1))
    return {*manifest["strings"], manifest["outboxCore"]}


def listing(transfers) -> str:
    rows = sorted(transfers, key=lambda t: -t["bytes"])
    return "\n".join(f"{t['bytes']:>7} {'sw ' if t['worker'] else ''}{t['url']}" for t in rows)


def test_first_load_downloads_each_url_once_and_stays_within_the_budget(
    browser, live_app, tally, live_server
):
    transfers = record_first_load(browser, live_server.base_url)

    assert tally.downloaded_twice() == {}
    # A first install checks the worker's own imported scripts with the server even when
    # the page just loaded them: those may come back as a 304 (no body), nothing else.
    assert set(tally.revalidated()) <= worker_imports(live_app)
    assert not [url for url, _ in tally.seen if "leaflet" in url]
    # The home page was downloaded once: the worker took its copy from the browser's cache.
    assert [url for url, _ in tally.seen].count("/") == 1
    assert total_kb(transfers) <= BUDGET_KB, f"{total_kb(transfers):.1f} KB:\n{listing(transfers)}"
