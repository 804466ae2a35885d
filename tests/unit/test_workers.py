"""The embedded worker: jobs are woken after commits that leave them work."""

import threading

import pytest

from tests import factories
from webapp.domain.errors import DomainError
from webapp.domain.lifecycle import submission as requests_domain
from webapp.jobs import runner as workers
from webapp.plumbing.extensions import db


@pytest.fixture
def kicks(monkeypatch):
    """Record which jobs were woken instead of waking a thread."""
    woken = []
    monkeypatch.setattr(workers, "kick", lambda application, name=None: woken.append(name))
    return woken


def test_a_new_report_wakes_the_geocoder_after_commit(app, city, kicks):
    factories.gen_request("graffiti")
    assert "geocode" in kicks


def test_a_refused_report_wakes_nothing(app, city, kicks):
    with pytest.raises(DomainError):
        requests_domain.submit(requests_domain.Submission(
            service_code="graffiti", lat=factories.OUTSIDE[0], long=factories.OUTSIDE[1],
            client_uuid="3b0f5a1e-8a0c-4c55-9d1e-1f2a3b4c5d6e"))
    db.session.rollback()
    db.session.commit()
    assert kicks == []


def test_a_report_with_an_address_needs_no_geocoding(app, city, kicks):
    requests_domain.submit(requests_domain.Submission(
        service_code="graffiti", lat=factories.INSIDE[0], long=factories.INSIDE[1],
        address="100 Market St", client_uuid="3b0f5a1e-8a0c-4c55-9d1e-1f2a3b4c5d6f"))
    assert "geocode" not in kicks


def test_the_worker_thread_runs_registered_jobs_and_stops(make_app):
    ran = threading.Event()
    workers.register("test-job", lambda: ran.set() or 1, every=0.05)
    try:
        app = make_app(BACKGROUND_WORKER="thread")
        assert app.extensions["civic311_worker"].thread is None
        app.test_client().get("/api/v1/services")
        workers.kick(app, "test-job")
        # Waits for the job's own signal (generous ceiling for a loaded machine).
        assert ran.wait(timeout=120)
        workers.shutdown(app)
    finally:
        workers._JOBS.pop("test-job", None)
