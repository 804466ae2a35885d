"""``flask city apply``: the example pack on an empty database, applied twice, changed,
dry-run; the settings reach the app; staff get a single-use set-your-password link."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from webapp.citypack.apply import count_rows
from webapp.content_i18n import localized
from webapp.models import (
    Answer,
    NotificationOutbox,
    Service,
    ServiceAttribute,
    User,
)
from webapp.plumbing.extensions import db


def _outbox() -> int:
    return db.session.scalar(select(func.count(NotificationOutbox.id)))


def test_example_pack_sets_up_the_whole_city_and_twice_changes_nothing(app, city_cli, pack, client):
    result = city_cli("apply", str(pack))
    assert result.exit_code == 0, result.output
    assert "Evanston" in result.output
    rows = count_rows()
    assert rows["services"] >= 40
    assert rows["answers"] >= 25
    assert rows["neighborhoods"] == 6
    assert rows["city_boundary"] == 1
    pothole = db.session.scalars(select(Service).where(Service.service_code == "pothole")).one()
    assert pothole.department.name == "Public Works Agency"
    assert pothole.sla_days == 5
    assert localized(pothole, "name", "es") == "Bache"
    size = next(a for a in pothole.attributes if a.code == "size")
    assert size.required and [v["key"] for v in size.values] == ["small", "medium", "large"]
    assert size.translations["es"]["values"]["large"] == "Más grande que una llanta"
    answer = db.session.scalars(select(Answer).where(Answer.slug == "report-a-pothole")).one()
    assert answer.translations["es"]["title"] == "Cómo se reparan los baches"
    assert {s.service_code for s in answer.services} == {"alley_pothole", "pothole"}
    assert _outbox() == 5

    body = client.get("/open311/v2/discovery.json").get_json()
    assert body and app.config["JURISDICTION_ID"] == "cityofevanston.org"
    assert app.config["CITY_NAME"] == "Evanston"
    assert app.extensions["babel"].default_timezone == "America/Chicago"
    assert "Evanston 311" in client.get("/").get_data(as_text=True)

    before = (count_rows(), db.session.scalar(select(func.count(ServiceAttribute.id))))
    again = city_cli("apply", str(pack))
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
    assert (count_rows(), db.session.scalar(select(func.count(ServiceAttribute.id)))) == before
    assert _outbox() == 5  # nobody is invited twice


def test_a_changed_pack_reports_each_change_and_a_dry_run_writes_nothing(app, city_cli, pack):
    assert city_cli("apply", str(pack)).exit_code == 0
    services = (pack / "services.csv").read_text(encoding="utf-8")
    services = services.replace("pothole,Pothole,Bache", "pothole,Pothole or sinkhole,Bache")
    services = "\n".join(line for line in services.splitlines() if not line.startswith("graffiti"))
    (pack / "services.csv").write_text(services + "\n", encoding="utf-8")
    questions = (pack / "questions.csv").read_text(encoding="utf-8")
    questions = "\n".join(q for q in questions.splitlines() if not q.startswith("graffiti"))
    (pack / "questions.csv").write_text(questions + "\n", encoding="utf-8")
    toml = (pack / "city.toml").read_text(encoding="utf-8")
    (pack / "city.toml").write_text(toml.replace("#4e2a84", "#3b1f66"), encoding="utf-8")

    dry = city_cli("apply", str(pack), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "service pothole: name" in dry.output
    assert "service graffiti: not in the pack, retired" in dry.output
    assert "settings: changed colours" in dry.output
    assert "Dry run: nothing was written." in dry.output
    db.session.expire_all()
    pothole = db.session.scalars(select(Service).where(Service.service_code == "pothole")).one()
    assert pothole.name == "Pothole"

    real = city_cli("apply", str(pack))
    assert real.exit_code == 0, real.output
    db.session.expire_all()
    pothole = db.session.scalars(select(Service).where(Service.service_code == "pothole")).one()
    graffiti = db.session.scalars(select(Service).where(Service.service_code == "graffiti")).one()
    assert pothole.name == "Pothole or sinkhole"
    assert not graffiti.active and not graffiti.public
    assert app.config["CITY_BRAND"]["primary"] == "#3b1f66"


def test_staff_set_their_password_once_from_the_welcome_link(app, city_cli, pack, client):
    assert city_cli("apply", str(pack)).exit_code == 0
    row = db.session.scalars(
        select(NotificationOutbox).where(NotificationOutbox.email_to == "desk@evanston.example")
    ).one()
    assert row.kind == "set_password"
    path = re.search(r"https?://[^/\s]+(/auth/set-password/\S+)", row.payload["text"]).group(1)
    page = client.get(path)
    assert page.status_code == 200 and "desk@evanston.example" in page.get_data(as_text=True)
    weak = client.post(path, data={"password": "password12", "confirm": "password12"})
    assert weak.status_code == 200  # refused, the link still works
    strong = "violet harbour ladder 4417"
    done = client.post(path, data={"password": strong, "confirm": strong})
    assert done.status_code == 302
    assert client.post(
        "/auth/sign-in", data={"email": "desk@evanston.example", "password": strong}
    ).status_code == 302
    assert client.get(path).status_code == 410
    user = db.session.scalars(select(User).where(User.email == "desk@evanston.example")).one()
    assert user.role == "staff" and user.department.name == "Public Works Agency"


def test_a_pack_may_list_its_catalogue_as_services_json(app, city_cli, pack):
    import json

    (pack / "services.csv").unlink()
    (pack / "questions.csv").unlink()
    for path in (pack / "answers").glob("*.md"):
        path.unlink()
    (pack / "services.json").write_text(json.dumps({"services": [{
        "code": "pothole", "name": "Pothole", "name_es": "Bache", "group": "Streets",
        "group_es": "Calles", "department": "Public Works Agency", "expected_days": 5,
        "keywords": ["hole", "road"],
        "questions": [{"code": "size", "datatype": "singlevaluelist", "required": True,
                       "question": "How big?", "question_es": "¿Qué tan grande?",
                       "choices": [{"key": "s", "name": "Small"}, {"key": "l", "name": "Large"}],
                       "choices_es": {"s": "Pequeño", "l": "Grande"}}],
    }]}), encoding="utf-8")
    result = city_cli("apply", str(pack))
    assert result.exit_code == 0, result.output
    service = db.session.scalars(select(Service)).one()
    assert service.keywords == "hole, road" and localized(service, "group", "es") == "Calles"
    question = service.attributes[0]
    assert question.translations["es"] == {"description": "¿Qué tan grande?",
                                           "values": {"s": "Pequeño", "l": "Grande"}}
