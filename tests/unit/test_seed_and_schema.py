"""The demo city seeds deterministically and idempotently; the schema is the migrations'."""

import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from webapp.domain.intake import answers
from webapp.models import (
    Department,
    Neighborhood,
    RequestEvent,
    Service,
    ServiceAttribute,
    ServiceRequest,
    User,
    include_in_autogenerate,
)
from webapp.plumbing.extensions import db
from webapp.seed.demo import seed_demo

ROOT = Path(__file__).resolve().parents[2]


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def _fingerprint():
    rows = db.session.execute(select(ServiceRequest.public_id, ServiceRequest.lat,
                                     ServiceRequest.detailed_status, ServiceRequest.service_id)
                              .order_by(ServiceRequest.id)).all()
    return [tuple(r) for r in rows]


def test_demo_city_has_what_the_issue_asks_for(app):
    result = seed_demo(request_count=300)
    assert result["requests_created"] == 300
    assert _count(Neighborhood) == 6
    assert _count(Department) == 4
    assert _count(Service) >= 12
    with_attributes = db.session.scalar(
        select(func.count(func.distinct(ServiceAttribute.service_id))))
    assert with_attributes >= 3
    assert {u.role for u in db.session.scalars(select(User))} == {
        "resident", "liaison", "staff", "admin"}
    statuses = set(db.session.scalars(select(ServiceRequest.detailed_status)))
    assert statuses == {"submitted", "acknowledged", "in_progress", "closed"}
    hoods = set(db.session.scalars(select(ServiceRequest.neighborhood_id)))
    assert len(hoods - {None}) == 6
    assert _count(RequestEvent) > 300


def test_demo_city_ships_answers_for_every_service(app):
    from webapp.models import Answer

    seed_demo(request_count=5)
    shipped = db.session.scalars(select(Answer)).all()
    assert len(shipped) >= 25
    covered = {s.service_code for a in shipped for s in a.services}
    assert covered == set(db.session.scalars(select(Service.service_code)))
    assert {"trash days", "bulky pickup", "permits", "who to call"} <= {
        t for a in shipped for t in a.topics}
    assert answers.search("couch")[0].slug == "bulky-item-pickup"


def test_seeding_twice_changes_nothing(app):
    seed_demo(request_count=50)
    before = (_count(ServiceRequest), _count(User), _count(Service), _count(RequestEvent))
    again = seed_demo(request_count=50)
    assert again["requests_created"] == 0
    assert (_count(ServiceRequest), _count(User), _count(Service), _count(RequestEvent)) == before


def test_seeding_is_deterministic(make_app):
    prints = []
    for _ in range(2):
        application = make_app()
        with application.app_context():
            seed_demo(request_count=40)
            prints.append(_fingerprint())
    assert prints[0] == prints[1]


def _include_name(name, type_, parent_names):
    """Both filters of migrations/env.py: the answers' search index and the spatial indexes."""
    return answers.include_name(name, type_, parent_names) and include_in_autogenerate(
        name, type_, parent_names
    )


def test_migrations_match_the_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": _include_name}
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_english_catalog_builds(tmp_path):
    pybabel = Path(sys.executable).parent / "pybabel"
    extract = subprocess.run([str(pybabel), "extract", "-F", "babel.cfg", "-k", "_l",
                              "-o", str(tmp_path / "messages.pot"), "webapp"],
                             cwd=ROOT, capture_output=True, text=True)
    assert extract.returncode == 0, extract.stderr
    compiled = subprocess.run([str(pybabel), "compile", "-d", "webapp/translations", "-l", "en",
                               "-o", str(tmp_path / "messages.mo"),
                               "-i", "webapp/translations/en/LC_MESSAGES/messages.po"],
                              cwd=ROOT, capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr
    assert (tmp_path / "messages.mo").stat().st_size > 100
    assert "Report a problem" in (tmp_path / "messages.pot").read_text()
