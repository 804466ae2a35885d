"""PostgreSQL connections: a read that writes nothing runs outside a transaction, and a
pooled connection the server closed is replaced before a request gets it, without a
round trip to ask."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, text

from webapp.domain.figures import mapread
from webapp.models import ServiceRequest
from webapp.plumbing.database import reading_connection
from webapp.plumbing.driver_reads import driver_rows
from webapp.plumbing.extensions import db

CITY = "-85.35,35.0,-85.25,35.1"


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's connections")
    return app


def _driver(connection):
    return connection.connection.driver_connection


def test_a_read_outside_a_transaction_sends_no_begin(postgres, city):
    db.session.commit()
    with reading_connection() as connection:
        assert _driver(connection).autocommit is True
        driver_rows(connection, select(func.count()).select_from(ServiceRequest))
        # Nothing open on the server: no BEGIN was sent, so no ROLLBACK is owed.
        assert _driver(connection).info.transaction_status.name == "IDLE"
    # The connection goes back to the pool in its usual mode.
    with db.engine.connect() as connection:
        assert _driver(connection).autocommit is False


def test_a_map_read_leaves_the_session_as_it_was(postgres, client, city):
    db.session.commit()
    mapread.freshness()
    mapread.page(mapread.MapFilters(), page_size=1)
    assert not db.session().in_transaction()
    # What the request does next runs in a transaction as usual: a streamed read
    # (a server-side cursor) needs one.
    db.session.execute(select(ServiceRequest.id).execution_options(yield_per=1)).all()
    assert _driver(db.session.connection()).info.transaction_status.name == "INTRANS"
    db.session.rollback()
    # And through the app: the map read, then an export streamed in the same session.
    assert client.get(f"/api/v1/requests?bbox={CITY}").status_code == 200
    assert client.get("/export/contacts.csv").status_code == 200


def test_a_request_that_began_a_transaction_reads_in_it(postgres, city):
    db.session.commit()
    db.session.execute(text("SELECT 1"))
    with reading_connection() as connection:
        assert _driver(connection).autocommit is False
        assert _driver(connection).info.transaction_status.name == "INTRANS"
    db.session.rollback()


def test_sqlite_reads_on_the_session_s_own_connection(app, city):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's connections")
    db.session.commit()
    with reading_connection() as connection:
        assert connection is db.session.connection()


def test_a_connection_the_server_closed_is_replaced_before_use(postgres, client, city):
    db.session.commit()
    db.session.remove()
    with db.engine.connect() as connection:
        old_backend = connection.execute(text("SELECT pg_backend_pid()")).scalar()
    # The server ends that backend while it sits in the pool (a restart, an idle
    # timeout, an operator's pg_terminate_backend); the call waits until it is gone.
    admin = create_engine(db.engine.url)
    with admin.connect() as other:
        assert other.execute(
            text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": old_backend}
        ).scalar()
    admin.dispose()
    # The next request gets a live connection, not an error.
    answer = client.get(f"/api/v1/requests?bbox={CITY}")
    assert answer.status_code == 200
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar() != old_backend


def test_a_connection_psycopg_knows_is_closed_is_replaced_too(postgres, city):
    db.session.commit()
    db.session.remove()
    with db.engine.connect() as connection:
        _driver(connection).close()
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
