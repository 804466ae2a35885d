"""A service's answers come before its form; "This answered my question" is counted;
/help searches the saved copy when offline."""

from sqlalchemy import select

from tests.browser.axe import format_violations, serious_axe_violations
from tests.browser.pwa.conftest import wait_for
from tests.browser.worker import service_worker_ready
from webapp.domain.intake import answers
from webapp.models import Contact, Service
from webapp.plumbing.extensions import db


def _seed_answers(app):
    with app.app_context():
        pothole = db.session.scalars(select(Service).where(Service.service_code == "pothole")).one()
        answers.save(
            title="How potholes are repaired",
            summary="Patched within five days.",
            body="Crews patch potholes **in order**.",
            service_ids=[pothole.id],
        )
        answers.save(
            title="Bulky item pickup",
            summary="Sofas and fridges.",
            body="Book a free pickup.",
            keywords="couch",
            topics=["bulky pickup"],
        )
        db.session.commit()
        db.session.remove()


def _contacts(app):
    with app.app_context():
        rows = [
            (c.kind, c.channel, c.answer.slug if c.answer else None)
            for c in db.session.scalars(select(Contact))
        ]
        db.session.remove()
        return rows


def test_answers_come_first_and_this_answered_my_question_is_counted(live_app, page, flow):
    _seed_answers(live_app)
    flow.open()
    flow.photo()
    flow.location()
    page.wait_for_selector("#step-category-title:visible")
    page.check("#service-pothole")
    panel = page.locator("#report-answers")
    panel.wait_for(state="visible")
    assert "Before you report" in panel.inner_text()
    page.click("#report-answers summary:has-text('How potholes are repaired')")
    assert page.locator("#report-answers .answer-body strong").inner_text() == "in order"
    flow.shot("3-before-you-report")

    page.check("#service-graffiti")  # no answers for graffiti: the panel goes away
    panel.wait_for(state="hidden")
    page.check("#service-pothole")
    panel.wait_for(state="visible")
    page.click("#report-answers-skip")  # "Report it anyway"
    panel.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.name") == "attribute[size]"

    page.check("#service-graffiti")
    page.check("#service-pothole")
    panel.wait_for(state="visible")
    page.click("#report-answers summary:has-text('How potholes are repaired')")
    page.click("#report-answers button:has-text('This answered my question')")
    page.wait_for_selector("#report-answers-thanks:visible")
    assert wait_for(page, lambda: _contacts(live_app)) == [
        ("self_service", "pwa", "how-potholes-are-repaired")
    ]
    assert page.console.errors == []


def test_help_search_works_offline_from_the_last_copy(live_app, page, browser_context):
    _seed_answers(live_app)
    page.goto("/help")
    service_worker_ready(page)
    page.reload()
    wait_for(page, lambda: page.evaluate("!!navigator.serviceWorker.controller"))
    page.fill("#help-q", "couch")
    page.click("#help-search button[type=submit]")
    page.wait_for_url("**/help?q=couch")
    assert page.locator("#help-results li").all_inner_texts()[0].startswith("Bulky item pickup")
    assert serious_axe_violations(page) == [], format_violations(serious_axe_violations(page))

    browser_context.set_offline(True)
    page.fill("#help-q", "pothole")
    page.click("#help-search button[type=submit]")
    page.wait_for_selector("#help-status:has-text('offline')")
    assert page.locator("#help-results a").all_inner_texts() == ["How potholes are repaired"]
    browser_context.set_offline(False)
