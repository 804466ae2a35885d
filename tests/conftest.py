"""Shared fixtures: a fresh app and database per test, a client, sign-in helpers.

The database comes from the real Alembic migrations. SQLite: migrated once into a
template file, copied per test. PostgreSQL (``--database=postgres``): migrated once
per session, every table emptied before each test.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask, g, has_app_context
from flask.testing import FlaskClient
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, text

from tests import factories
from tests.fakes import serve
from tests.fakes.nominatim import FakeNominatim
from tests.fakes.push_service import FakePushService
from tests.fakes.smtp import SMTPServer
from webapp import create_app
from webapp.plumbing.config import TestingConfig
from webapp.plumbing.extensions import db

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept for the whole test process.

    Every test builds a fresh app, and each app's Jinja environment would parse and compile
    every template it renders again (a tenth of a second per page). The cache is keyed by
    template and file, and Jinja checks the source's checksum before using an entry, so an
    edited template is compiled afresh."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        """Fill the bucket from a template compiled earlier in this process, if any."""
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        """Keep a freshly compiled template for the next app."""
        self._code[bucket.key] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": SharedTemplateCode()}


def pytest_addoption(parser):
    """``--database`` chooses the backend; ``--strict-backends`` fails instead of skipping."""
    parser.addoption(
        "--database",
        choices=["sqlite", "postgres"],
        default="sqlite",
        help="Database backend for the app under test.",
    )
    parser.addoption(
        "--strict-backends",
        action="store_true",
        default=os.environ.get("CIVIC311_STRICT") == "1",
        help="Fail (not skip) when PostgreSQL or Chromium is unavailable (CI).",
    )


def skip_or_fail(config, reason: str):
    """Skip with a visible reason on a laptop; fail in CI where everything must run."""
    if config.getoption("--strict-backends"):
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_collection_modifyitems(config, items):
    """On the PostgreSQL pass, leave out the tests that never reach a database.

    A rule checked without a database answers the same on either backend; it ran in the
    SQLite pass already, and running it again only costs time."""
    if config.getoption("--database") != "postgres":
        return
    kept, without_database = [], []
    for item in items:
        uses_database = "database_backend" in getattr(item, "fixturenames", ())
        (kept if uses_database else without_database).append(item)
    if without_database:
        config.hook.pytest_deselected(items=without_database)
        items[:] = kept


def _postgres_url() -> str:
    return os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL


def postgres_available(url: str | None = None) -> bool:
    """True when something answers on the PostgreSQL host and port."""
    parts = urlsplit((url or _postgres_url()).replace("+psycopg", ""))
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 1):
            return True
    except OSError:
        return False


def _worker_database_url(base_url: str, worker: str) -> str:
    """One database per xdist worker (``test_gw0``…), created on demand."""
    if worker == "master":
        return base_url
    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/')}_{worker}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname=:n"), {"n": name}
        ).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name


def _migrate(app) -> None:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_backend(request, tmp_path_factory):
    """The backend in use: ('sqlite', template path) or ('postgres', url)."""
    backend = request.config.getoption("--database")
    if backend == "postgres":
        url = _postgres_url()
        if not postgres_available(url):
            skip_or_fail(request.config, f"PostgreSQL is not answering at {url}")
        worker = getattr(request.config, "workerinput", {}).get("workerid", "master")
        url = _worker_database_url(
            url.replace("postgresql://", "postgresql+psycopg://", 1)
            if url.startswith("postgresql://")
            else url,
            worker,
        )
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        app = create_app({**_config_dict(), "SQLALCHEMY_DATABASE_URI": url})
        _migrate(app)
        return ("postgres", url)
    template = tmp_path_factory.mktemp("db-template") / "template.db"
    app = create_app({**_config_dict(), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{template}"})
    _migrate(app)
    return ("sqlite", template)


def _config_dict() -> dict:
    return {key: getattr(TestingConfig, key) for key in dir(TestingConfig) if key.isupper()}


def _empty_postgres(app) -> None:
    """Empty every table the last test wrote to and restart every sequence it used, so
    each test starts as if on a freshly migrated database (ids from 1).

    ``TRUNCATE`` of all forty tables costs most of a second on PostgreSQL whatever they
    hold; a test touches a handful, and deleting a few rows from those is quick. Foreign
    keys are not checked while emptying (the session acts as a replica), since every
    table that holds a row is emptied in the same transaction."""
    with app.app_context():
        # Table names come from the app's own metadata, never from input.
        names = [t.name for t in db.metadata.sorted_tables]
        probe = " UNION ALL ".join(
            f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in names  # noqa: S608
        )
        with db.engine.begin() as connection:
            written = connection.execute(text(probe)).scalars().all()
            if written:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                for name in written:
                    connection.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608
            used = connection.execute(
                text(
                    "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                    "FROM pg_sequences WHERE schemaname = current_schema() "
                    "AND last_value IS NOT NULL"
                )
            ).scalars().all()
            for sequence in used:
                connection.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


class FreshGlobalsClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    The ``app`` fixture keeps one application context pushed for the whole test, and a
    request made inside it reuses that context, so without this the signed-in user
    Flask-Login cached and the caller's device would leak from one request to the next.
    In a real server each request has its own context and ``g`` is always fresh.
    """

    def open(self, *args, **kwargs):
        """Clear ``g`` and make the request."""
        if has_app_context():
            for name in list(vars(g._get_current_object())):
                delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture
def make_app(database_backend, tmp_path):
    """Build a fresh app on a fresh database; extra settings may be passed."""
    created = []

    def build(**overrides):
        kind, location = database_backend
        settings = {
            **_config_dict(),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "INSTANCE_DIR": str(tmp_path / "instance"),
        }
        if kind == "sqlite":
            path = tmp_path / f"app-{len(created)}.db"
            shutil.copyfile(location, path)
            settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
        else:
            settings["SQLALCHEMY_DATABASE_URI"] = location
        settings.update(overrides)
        app = create_app(settings)
        app.test_client_class = FreshGlobalsClient
        if kind == "postgres":
            _empty_postgres(app)
        created.append(app)
        return app

    yield build
    for app in created:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    """A fresh app with an empty, migrated database, inside an app context."""
    application = make_app()
    with application.app_context():
        yield application


@pytest.fixture
def client(app):
    """The Flask test client."""
    return app.test_client()


@pytest.fixture
def city(app):
    """A small city: boundary, two neighborhoods, departments and services."""
    return factories.gen_city()


class AuthActions:
    """Sign in and out through the real sign-in form."""

    def __init__(self, client):
        self._client = client

    def login(self, role: str = "resident", **kwargs):
        """Create a user with ``role`` and sign them in; returns the user."""
        user = factories.gen_user(role=role, **kwargs)
        db.session.commit()
        response = self._client.post(
            "/auth/sign-in", data={"email": user.email, "password": factories.PASSWORD}
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    def logout(self):
        """Sign out."""
        return self._client.post("/auth/sign-out")


@pytest.fixture
def auth(client):
    """Sign-in helper: ``auth.login("staff")``."""
    return AuthActions(client)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots and other test artifacts are kept."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def nominatim():
    """A fake Nominatim on a free local port: ``(fake, server)``; set ``fake.mode``."""
    fake = FakeNominatim(slow_seconds=1.0)
    server = serve(fake)
    yield fake, server
    server.stop()


@pytest.fixture
def push_service():
    """The fake push service on 127.0.0.1 (checks VAPID, decrypts, records deliveries)."""
    fake = FakePushService()
    running = serve(fake)
    fake.base_url = running.url
    yield fake
    running.stop()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1; ``smtp_server.settings()`` points the
    app at it, ``.messages`` are the e-mails it accepted, parsed."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(make_app, smtp_server):
    """A fresh app that sends e-mail to ``smtp_server``, inside an app context."""
    application = make_app(**smtp_server.settings(), PUBLIC_URL="http://civic.test")
    with application.app_context():
        yield application


@pytest.fixture
def mail_client(mail_app):
    """The test client of ``mail_app``."""
    return mail_app.test_client()
