"""A Spanish-speaking resident at phone size (390×844): switch language, report a pothole
(a service with questions, its answer shown first), read its status, see My requests,
find and read an answer in /help, and go offline. Every screen is in Spanish, passes axe,
and is kept under test-artifacts/es/."""

from __future__ import annotations

import re

from tests.browser.axe import assert_no_serious_axe_violations
from tests.browser.pwa.conftest import answer_no_nearby, stored_requests, wait_for
from tests.browser.worker import service_worker_ready
from webapp.models import Service
from webapp.plumbing.extensions import db
from webapp.seed import chattanooga_es


def spanish_pothole(app) -> None:
    """The demo city's Spanish for the test city's pothole question."""
    from webapp.content_i18n import set_translation

    with app.app_context():
        pothole = db.session.query(Service).filter_by(service_code="pothole").one()
        set_translation(pothole, "es", {"name": "Bache", "group": "Calles"})
        question, choices = chattanooga_es.QUESTIONS[("pothole", "size")]
        set_translation(
            pothole.attributes[0],
            "es",
            {"description": question, "values": {"small": "Pequeño", "large": "Grande"}},
        )
        for code in ("graffiti", "streetlight"):
            service = db.session.query(Service).filter_by(service_code=code).one()
            set_translation(service, "es", {"name": chattanooga_es.SERVICES[code][0]})
        set_translation(pothole.attributes[1], "es", {"description": "¿En qué carril?"})
        from webapp.domain.intake import answers
        from webapp.seed.answers_es import ANSWERS_ES

        answer = answers.save(
            slug="how-potholes-are-repaired",
            title="How potholes are repaired",
            summary="Most potholes are patched within five working days of a report.",
            body="Crews patch potholes in the order they are reported, but **deep holes on "
            "busy streets go first**.",
            service_ids=[pothole.id],
        )
        title, summary, keywords, body = ANSWERS_ES[answer.slug]
        set_translation(
            answer, "es", {"title": title, "summary": summary, "keywords": keywords, "body": body}
        )
        db.session.commit()
        db.session.remove()


def test_spanish_resident_reports_follows_and_goes_offline(
    live_app, browser_context, page, artifacts_dir
):
    folder = artifacts_dir / "es"
    folder.mkdir(exist_ok=True)

    def shot(name: str) -> None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    def lang() -> str:
        return page.evaluate("document.documentElement.lang")

    spanish_pothole(live_app)
    browser_context.route("**/api/v1/requests/nearby*", answer_no_nearby)

    # The browser says English; the header switcher (a plain form) makes it Spanish.
    page.goto("/")
    assert lang() == "en"
    switch = page.locator(".language-switch button[lang=es]")
    box = switch.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44
    switch.click()
    page.wait_for_selector("#step-progress:has-text('Paso 1')")
    assert lang() == "es"
    assert page.locator("h1").first.inner_text() == "Reportar un problema"
    shot("1-foto")
    assert_no_serious_axe_violations(page)

    page.click("#step-next")
    page.wait_for_selector("#step-category-title:visible")
    assert "Bache" in page.locator("label[for=service-pothole]").inner_text()
    assert page.locator(".service-group legend").first.inner_text() == "Calles"
    page.check("#service-pothole")
    answers_panel = page.locator("#report-answers")
    answers_panel.wait_for(state="visible")
    assert "Antes de reportar…" in answers_panel.inner_text()
    assert "Cómo se reparan los baches" in answers_panel.inner_text()
    size = page.locator("label[for=attr-pothole-size]")
    assert "¿Qué tan grande es?" in size.inner_text()
    assert "Pequeño" in page.locator("#attr-pothole-size").inner_text()
    page.select_option("#attr-pothole-size", "small")
    shot("2-categoria")
    assert_no_serious_axe_violations(page)
    page.click("#step-next")
    page.wait_for_selector("#step-location-title:visible")
    page.click("#use-location")
    page.wait_for_selector("#location-status:has-text('con precisión de unos')")
    assert page.get_attribute(".leaflet-control-zoom-in", "title") == "Acercar"
    shot("3-ubicacion")
    assert_no_serious_axe_violations(page)
    page.click("#step-next")

    page.fill("#description", "Hueco profundo frente a la escuela")
    shot("4-descripcion")
    page.click("#step-next")
    shot("5-contacto")
    page.click("#step-next")
    page.wait_for_selector("#step-review-title:visible")
    assert "Bache" in page.locator("#review-summary").inner_text()
    shot("6-revision")
    assert_no_serious_axe_violations(page)
    page.click("#send-report")
    page.wait_for_selector("#report-done:visible")
    page.wait_for_selector("#outbox-summary:has-text('Todos sus reportes se enviaron')")
    assert "¡Enviado!" in page.locator("#report-done-message").inner_text()
    shot("7-enviado")
    assert_no_serious_axe_violations(page)

    [request] = wait_for(page, lambda: stored_requests(live_app))
    assert request.attribute_values == {"size": "small"}

    page.goto(f"/requests/{request.public_id}")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("Bache") and request.public_id in heading
    assert "La ciudad tiene su reporte" in page.locator("main").inner_text()
    shot("8-estado")
    assert_no_serious_axe_violations(page)

    # Closed by an English-speaking staff member: the resident is asked in Spanish.
    with live_app.app_context():
        from tests import factories
        from webapp.domain.lifecycle import workflow as requests_domain
        from webapp.models import ServiceRequest

        staff = factories.gen_user("staff")
        row = db.session.get(ServiceRequest, request.id)
        requests_domain.transition(row, "in_progress", staff, note="")
        requests_domain.transition(
            row, "closed", staff, note="Bache tapado esta mañana.", resolution="fixed"
        )
        db.session.commit()
        db.session.remove()
    page.goto(f"/requests/{request.public_id}")
    closure = page.locator("#after-closure")
    assert "¿Está resuelto?" in closure.inner_text()
    assert "No está resuelto" in closure.locator(".verdict-row").inner_text()
    # The rating, asked and thanked in Spanish.
    assert "Enviar calificación" in closure.inner_text()
    page.locator(".rating-row label[for='rating-4']").click()
    page.click("#rating-form button[type=submit]")
    page.wait_for_selector("#after-closure:has-text('Usted calificó la atención con 4 de 5')")
    page.click("#not-fixed")
    page.wait_for_selector("#reopen-form:visible")
    assert "¿Qué sigue mal?" in closure.inner_text()
    page.fill("#reopen-comment", "Sigue igual")
    shot("8b-despues-del-cierre")
    assert_no_serious_axe_violations(page)
    page.click("#reopen-form button[type=submit]")
    page.wait_for_selector(".flash:has-text('Su solicitud está abierta de nuevo')")
    shot("8c-reabierta")

    page.goto("/my")
    assert page.locator("h1").inner_text() == "Mis solicitudes"
    assert re.search(r"Bache\s+" + request.public_id, page.locator("main").inner_text())
    shot("9-mis-solicitudes")
    assert_no_serious_axe_violations(page)

    # Help in Spanish: the answer is listed, found by its Spanish words, and read whole.
    page.goto("/help")
    assert page.locator("h1").inner_text() == "Ayuda y respuestas"
    assert "Cómo se reparan los baches" in page.locator("#help-results").inner_text()
    page.fill("#help-q", "baches hondos")
    page.click("#help-search button[type=submit]")
    page.wait_for_url("**/help?q=baches*")
    results = page.locator("#help-results a").all_inner_texts()
    assert results == ["Cómo se reparan los baches"]
    shot("9b-ayuda")
    assert_no_serious_axe_violations(page)
    page.click("#help-results a")
    page.wait_for_selector("h1:has-text('Cómo se reparan los baches')")
    body = page.locator(".answer-body").inner_text()
    assert "los baches hondos en calles muy transitadas van primero" in body
    assert "Reportar: Bache" in page.locator("article").inner_text()
    shot("9c-respuesta")
    assert_no_serious_axe_violations(page)

    # Offline, a page never saved on this phone opens the Spanish offline page.
    service_worker_ready(page)
    page.wait_for_function("!!navigator.serviceWorker.controller")
    page.reload()  # this page tells the now-controlling worker the reader's language
    page.wait_for_timeout(300)
    browser_context.set_offline(True)
    try:
        page.goto("/map", wait_until="domcontentloaded")
        page.wait_for_selector("h1:has-text('Está sin conexión')")
        assert lang() == "es"
        shot("10-sin-conexion")
        assert_no_serious_axe_violations(page)
    finally:
        browser_context.set_offline(False)
    assert page.console.errors == []
