"""The call-taker desk (/staff/desk): find the caller, read them an answer, log their
request or their question. Keyboard-first and usable without JavaScript.

Also the staff action that moves a request to another service (routing runs again).
"""

from __future__ import annotations

import re
import uuid

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.domain.errors import DomainError
from webapp.domain.intake import answers as answers_domain
from webapp.domain.intake import chat as chat_domain
from webapp.domain.intake import contacts, desk, routing
from webapp.domain.lifecycle import requests as requests_domain
from webapp.domain.lifecycle import submission
from webapp.models import Channel, Chat, Service
from webapp.plumbing.access import roles_required
from webapp.plumbing.extensions import db
from webapp.resident.views import _map_settings
from webapp.staff.blueprint import bp

CHAT_ID = re.compile(r"[0-9]{1,9}", re.ASCII)
DESK_CHANNELS = [(Channel.PHONE, "Phone"), (Channel.WALK_IN, "Walk-in")]


def _caller_from_form() -> desk.Caller:
    return desk.Caller(
        name=request.form.get("caller_name"),
        email=request.form.get("caller_email"),
        phone=request.form.get("caller_phone"),
        address=request.form.get("caller_address"),
    )


def _services() -> list[Service]:
    return list(
        db.session.scalars(
            select(Service)
            .where(Service.active.is_(True))
            .options(selectinload(Service.attributes))
            .order_by(Service.name)
        )
    )


def _float(name: str) -> float | None:
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise DomainError(_("%(name)s must be a number.", name=name), field=name) from None


def _attributes() -> dict:
    found: dict = {}
    for key in request.form:
        if key.startswith("attribute[") and key.endswith("][]"):
            found[key[len("attribute[") : -3]] = request.form.getlist(key)
        elif key.startswith("attribute[") and key.endswith("]"):
            found[key[len("attribute[") : -1]] = request.form[key]
    return found


def _prefill(record: contacts.CallerRecord, query: str) -> dict:
    """The new-request form's caller fields, from what the lookup found (or the query)."""
    looks_like_phone = contacts.normalise_phone(query) and not any(c.isalpha() for c in query)
    return {
        "caller_name": record.names[0] if record.names else "",
        "caller_email": record.emails[0] if record.emails else ("@" in query and query or ""),
        "caller_phone": record.phones[0] if record.phones else (query if looks_like_phone else ""),
        "caller_address": record.addresses[0] if record.addresses else "",
    }


def _open_chat() -> Chat | None:
    """The chat the desk shows (``?chat=<id>``), if any."""
    raw = request.args.get("chat") or ""
    return chat_domain.by_id(int(raw)) if CHAT_ID.fullmatch(raw) else None


def _chat_prefill(chat: Chat, prefill: dict) -> dict:
    """The request form from the chat: the resident's own details first, then their words."""
    return {
        **prefill,
        "caller_name": chat.resident_name or prefill.get("caller_name", ""),
        "caller_email": chat.resident_email or prefill.get("caller_email", ""),
        "caller_phone": chat.resident_phone or prefill.get("caller_phone", ""),
        "description": chat_domain.resident_words(chat),
        "service_code": chat.service_code or "",
    }


@bp.get("/desk")
@roles_required("staff")
def desk_page():
    """Lookup, the caller's record, answer search, new request and information-only call;
    the live chats waiting, and the chat being answered beside the resident's record."""
    chat = _open_chat()
    query = (request.args.get("q") or "").strip()[:200]
    if chat is not None and not query:
        query = chat_domain.record_query(chat) or ""
    answer_query = (request.args.get("aq") or "").strip()[:200]
    record = contacts.lookup(query) if query else None
    prefill = _prefill(record, query) if record else {}
    if chat is not None:
        prefill = _chat_prefill(chat, prefill)
    return render_template(
        "staff/desk.html",
        query=query,
        record=record,
        prefill=prefill,
        chat=chat,
        chat_lines=chat_domain.lines_after(chat, 0) if chat else [],
        chats=chat_domain.desk_list(current_user),
        answer_query=answer_query,
        found_answers=[
            (a, answers_domain.render(a.body))
            for a in (answers_domain.search(answer_query, limit=8) if answer_query else [])
        ],
        services=_services(),
        channels=[(Channel.CHAT, "Chat")] if chat else DESK_CHANNELS,
        client_uuid=str(uuid.uuid4()),
        map_settings=_map_settings(),
        created=request.args.get("created"),
    )


def _back(query: str | None, **extra):
    chat = request.form.get("chat_id") or None
    return redirect(url_for("staff.desk_page", q=query or None, chat=chat, **extra))


def _chat_of_form() -> Chat | None:
    """The chat a desk request is made from; the chat channel needs one."""
    raw = request.form.get("chat_id") or ""
    if raw:
        if not CHAT_ID.fullmatch(raw):
            raise DomainError(_("That is not a chat we know."), field="chat_id")
        chat = chat_domain.by_id(int(raw))
        chat_domain.check_can_become_request(chat)
        return chat
    if request.form.get("channel") == Channel.CHAT:
        raise DomainError(_("A chat request is made from its chat."), field="channel")
    return None


@bp.post("/desk/requests")
@roles_required("staff")
def desk_new_request():
    """Log a new request for the caller (phone or walk-in), by the app's rules."""
    caller = _caller_from_form()
    try:
        chat = _chat_of_form()
        result = desk.log_request(
            current_user,
            channel=Channel.CHAT if chat else request.form.get("channel", Channel.PHONE),
            service_code=request.form.get("service_code", ""),
            lat=_float("lat"),
            long=_float("long"),
            description=request.form.get("description", ""),
            attributes=_attributes(),
            address=request.form.get("address") or None,
            landmark=request.form.get("landmark") or None,
            caller=caller,
            client_uuid=request.form.get("client_uuid") or None,
            confirm_by_email=request.form.get("confirm_by_email") == "1",
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return _back(caller.phone or caller.email or caller.name)
    number = result.request.public_id
    if chat is not None and result.created:
        chat_domain.request_made(chat, result.request, current_user, now=chat_domain.clock())
    flash(_("Logged %(number)s. Read the number to the caller.", number=number))
    return _back(caller.phone or caller.email or caller.name or number, created=number)


@bp.post("/desk/requests/<public_id>/support")
@roles_required("staff")
def desk_add_supporter(public_id: str):
    """The caller's problem is already reported: add them as a supporter instead."""
    caller = _caller_from_form()
    try:
        target = requests_domain.get_by_public_id(public_id)
        desk.add_supporter(
            target, current_user, caller, channel=request.form.get("channel", Channel.PHONE)
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("The caller now supports %(number)s.", number=public_id))
    return _back(caller.phone or caller.email or caller.name)


@bp.post("/desk/information")
@roles_required("staff")
def desk_information_call():
    """Log a call that needed only an answer: a contact, not a request."""
    caller = _caller_from_form()
    answer = None
    try:
        if request.form.get("answer"):
            answer = answers_domain.get(request.form["answer"])
        desk.log_information_call(
            current_user,
            caller,
            channel=request.form.get("channel", Channel.PHONE),
            answer=answer,
            topic=request.form.get("topic"),
            note=request.form.get("note"),
        )
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Information call logged."))
    return _back(caller.phone or caller.email or caller.name)


@bp.post("/requests/<public_id>/service")
@roles_required("staff")
def change_service(public_id: str):
    """Move the request to another service; the routing rules decide its department again."""
    try:
        req = requests_domain.get_by_public_id(public_id)
        service = submission.find_service(
            request.form.get("service_code"), include_private=True
        )
        routing.recategorise(req, service, current_user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Category changed to %(name)s.", name=service.name))
    return redirect(url_for("staff.workbench", public_id=public_id))


@bp.get("/contacts")
@roles_required("staff")
def contact_figures():
    """Contacts per channel per week and the self-service share."""
    from webapp.domain.figures import channel_stats

    return render_template("staff/contacts.html", figures=channel_stats.weekly())


@bp.get("/export/contacts.csv")
@roles_required("staff")
def contacts_export():
    """contacts.csv with the callers' details (staff only, never cached)."""
    from flask import Response, stream_with_context

    from webapp.domain.figures import channel_stats

    response = Response(
        stream_with_context(channel_stats.contacts_csv(private=True)),
        mimetype="text/csv",
    )
    response.headers["Content-Disposition"] = 'attachment; filename="contacts-staff.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
