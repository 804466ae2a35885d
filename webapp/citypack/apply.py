"""Apply a checked city pack to the database in one transaction, saying what changed.

Same pack twice: nothing changes. A changed pack: each change is listed. Any failure
rolls everything back; the logo and the app icons drawn from the pack are written to
the instance folder only after the database committed, and set-your-password e-mails
leave through the outbox, which the mail worker sends only once the transaction is
committed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from webapp.citypack import catalogue, icons
from webapp.citypack.problems import PackError, Problem
from webapp.citypack.reading.pack import Pack
from webapp.domain.errors import DomainError
from webapp.domain.geo import places
from webapp.domain.intake import answers as answers_domain
from webapp.domain.people import accounts, administration
from webapp.models import (
    Answer,
    AreaAlert,
    CityBoundary,
    CitySettings,
    Department,
    Neighborhood,
    Service,
    ServiceRequest,
    User,
    utcnow,
)
from webapp.plumbing.extensions import db

BRANDING_DIR = "branding"


@dataclass
class Report:
    """What applying the pack did (or, on a dry run, would do)."""

    changes: list[str] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)
    dry_run: bool = False

    def add(self, line: str) -> None:
        """Record one change."""
        self.changes.append(line)


def _settings(pack: Pack, report: Report) -> None:
    row = db.session.get(CitySettings, 1)
    data = {
        **pack.settings,
        "logo": pack.logo[0] if pack.logo else None,
        "icons": icons.version_of(pack.icons) if pack.icons else None,
    }
    if row is None:
        db.session.add(
            CitySettings(id=1, data=data, fingerprint=pack.fingerprint, revision=1,
                         applied_at=utcnow())
        )
        report.add(f"settings: set for {data['name']} ({data['jurisdiction_id']})")
        return
    changed = sorted(k for k in set(data) | set(row.data) if data.get(k) != row.data.get(k))
    if changed:
        row.data = data
        row.revision += 1
        report.add(f"settings: changed {', '.join(changed)}")
    if row.fingerprint != pack.fingerprint:
        row.fingerprint = pack.fingerprint
        row.applied_at = utcnow()


def _boundary(pack: Pack, report: Report) -> None:
    rows = list(db.session.scalars(select(CityBoundary).order_by(CityBoundary.id)))
    for extra in rows[1:]:
        db.session.delete(extra)
    if not rows:
        db.session.add(CityBoundary(name=pack.settings["name"], geojson=pack.boundary))
        report.add("boundary: set")
    elif catalogue.assign(rows[0], {"name": pack.settings["name"], "geojson": pack.boundary}):
        report.add("boundary: changed")


def _in_use(hood: Neighborhood) -> bool:
    for model in (ServiceRequest, User, AreaAlert):
        if db.session.scalar(select(model.id).where(model.neighborhood_id == hood.id).limit(1)):
            return True
    return False


def _neighborhoods(pack: Pack, report: Report) -> None:
    existing = {n.name.lower(): n for n in db.session.scalars(select(Neighborhood))}
    for item in pack.neighborhoods:
        found = existing.pop(item["name"].lower(), None)
        if found is None:
            administration.save_neighborhood(item["name"], item["geojson"])
            report.add(f"neighborhood {item['name']}: created")
        elif found.geojson != item["geojson"] or found.name != item["name"]:
            administration.save_neighborhood(item["name"], item["geojson"], neighborhood=found)
            report.add(f"neighborhood {item['name']}: changed")
    for gone in existing.values():
        if _in_use(gone):
            report.add(f"neighborhood {gone.name}: not in the pack, kept (requests or "
                       "people refer to it)")
        else:
            db.session.delete(gone)
            report.add(f"neighborhood {gone.name}: removed")


def _departments(pack: Pack, report: Report) -> dict[str, Department]:
    result = {}
    for item in pack.departments:
        department, what = catalogue.upsert_department(item["name"], item["email"], item["phone"])
        if what:
            report.add(f"department {item['name']}: {what}")
        result[item["name"].lower()] = department
    return result


def _services(pack: Pack, report: Report, departments: dict[str, Department]) -> None:
    locales = pack.settings["languages"][1:]
    listed = set()
    for item in pack.services:
        listed.add(item["code"])
        values = {
            "service_code": item["code"],
            "name": item["name"],
            "description": item["description"],
            "group": item["group"],
            "keywords": item["keywords"],
            "sla_days": item["expected_days"],
            "public": item["public"],
        }
        questions = [
            {**q, "translations": {loc: q["es"] for loc in locales if loc == "es" and q["es"]}}
            for q in item["questions"]
        ]
        translations = {loc: item["es"] for loc in locales if loc == "es" and item["es"]}
        _service, changes = catalogue.upsert_service(
            values, departments[item["department"].lower()], questions, translations
        )
        if changes:
            report.add(f"service {item['code']}: {', '.join(changes)}")
    for service in db.session.scalars(select(Service).where(Service.active.is_(True))):
        if service.service_code not in listed:
            service.active = False
            service.public = False
            report.add(f"service {service.service_code}: not in the pack, retired")


def _answers(pack: Pack, report: Report) -> None:
    codes = {s.service_code: s.id for s in db.session.scalars(select(Service))}
    for item in pack.answers:
        answer = db.session.scalars(select(Answer).where(Answer.slug == item["slug"])).first()
        service_ids = sorted(codes[c] for c in item["services"] if c in codes)
        same = answer is not None and (
            answer.title == item["title"][:200]
            and answer.summary == item["summary"][:300]
            and answer.keywords == item["keywords"].strip()
            and answer.body == item["body"]
            and sorted(s.id for s in answer.services) == service_ids
            and answer.topics == sorted({t.strip().lower() for t in item["topics"]})
        )
        if not same:
            what = "created" if answer is None else "changed"
            answers_domain.save(
                slug=item["slug"],
                title=item["title"],
                summary=item["summary"],
                keywords=item["keywords"],
                body=item["body"],
                service_ids=service_ids,
                topics=item["topics"],
                answer=answer,
            )
            answer = db.session.scalars(select(Answer).where(Answer.slug == item["slug"])).one()
            report.add(f"answer {item['slug']}: {what}")
        for locale, texts in item["translations"].items():
            if catalogue.translate(answer, locale, texts):
                report.add(f"answer {item['slug']}: {locale} texts")


def _staff(pack: Pack, report: Report, departments: dict[str, Department]) -> list[User]:
    from webapp.domain.notifications import welcome

    hoods = {n.name.lower(): n for n in db.session.scalars(select(Neighborhood))}
    invited = []
    for person in pack.staff:
        department = departments.get((person["department"] or "").lower())
        hood = hoods.get((person["neighborhood"] or "").lower())
        user = accounts.find_by_email(person["email"])
        wanted = {
            "display_name": person["name"],
            "role": person["role"],
            "department_id": department.id if department else None,
            "neighborhood_id": hood.id if hood else None,
        }
        if user is None:
            user = accounts.create_user(
                person["email"],
                secrets.token_urlsafe(32),  # never told to anyone: the e-mail sets theirs
                person["name"],
                person["role"],
                neighborhood_id=wanted["neighborhood_id"],
                department_id=wanted["department_id"],
            )
            welcome.queue_set_password(user, base_url=_base_url(pack))
            invited.append(user)
            report.add(f"account {person['email']}: created ({person['role']}), "
                       "set-your-password e-mail queued")
        else:
            changed = catalogue.assign(user, wanted)
            if changed:
                report.add(f"account {person['email']}: changed {', '.join(changed)}")
    report.invited = [u.email for u in invited]
    return invited


def _base_url(pack: Pack) -> str:
    from webapp.domain.notifications import public_address

    return current_app.config.get("PUBLIC_URL") or pack.settings.get("public_url") or (
        public_address.base_url()
    )


def branding_dir() -> Path:
    """Where the pack's logo is kept (the instance folder, outside the code)."""
    return Path(current_app.instance_path) / BRANDING_DIR


def _logo_changed(pack: Pack) -> bool:
    if pack.logo is None:
        return False
    target = branding_dir() / pack.logo[0]
    return not target.is_file() or target.read_bytes() != pack.logo[1]


def apply_pack(pack: Pack, *, dry_run: bool = False) -> Report:
    """Apply ``pack`` in one transaction (rolled back on a dry run or any failure)."""
    report = Report(dry_run=dry_run)
    try:
        _settings(pack, report)
        _boundary(pack, report)
        _neighborhoods(pack, report)
        departments = _departments(pack, report)
        _services(pack, report, departments)
        db.session.flush()
        _answers(pack, report)
        _staff(pack, report, departments)
        db.session.flush()
        logo_changed = _logo_changed(pack)
        if logo_changed:
            report.add(f"logo {pack.logo[0]}: written")
        icons_changed = bool(pack.icons) and icons.changed(icons.folder(branding_dir()),
                                                           pack.icons)
        if icons_changed:
            source = pack.settings.get("icon") or pack.logo[0]
            report.add(f"app icons: drawn from {source} ({', '.join(pack.icons)})")
        if dry_run:
            db.session.rollback()
            return report
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise PackError([Problem("(pack)", error.message, field=error.field)]) from None
    except Exception:
        db.session.rollback()
        raise
    places._prepared.cache_clear()
    if logo_changed:
        folder = branding_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / pack.logo[0]).write_bytes(pack.logo[1])
    if icons_changed:
        icons.write(icons.folder(branding_dir()), pack.icons)
    from webapp.citypack import settings as city_settings

    city_settings.refresh(current_app, force=True)
    return report


def count_rows() -> dict[str, int]:
    """How many of each thing a pack sets exist (for reports and tests)."""
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Department, Service, Neighborhood, Answer, User, CityBoundary)
    }
