"""The call-taker's side of live chat: take a waiting chat, answer it, end it.

The chat itself is shown on the desk page (``/staff/desk?chat=<id>``) beside the
resident's record and the desk's own request form; these views only act. The rules
live in ``webapp.domain.intake.chat``.
"""

from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp.domain.errors import DomainError
from webapp.domain.intake import chat as chat_domain
from webapp.plumbing.access import roles_required, wants_json
from webapp.plumbing.extensions import db
from webapp.resident import chat_stream
from webapp.staff.blueprint import bp


def _to_desk(chat):
    return redirect(
        url_for("staff.desk_page", chat=chat.id, q=chat_domain.record_query(chat) or None)
    )


@bp.get("/chats")
@roles_required("staff")
def chat_list():
    """The chats waiting at the desk (and this call-taker's own), for the desk's list."""
    chats = chat_domain.desk_list(current_user)
    return jsonify(
        [
            {
                "id": c.id,
                "status": c.status,
                "who": c.resident_name or c.resident_email or c.resident_phone or "",
                "since": c.created_at.isoformat(),
                "take_url": url_for("staff.chat_take", chat_id=c.id),
            }
            for c in chats
        ]
    )


@bp.post("/chats/<int:chat_id>/take")
@roles_required("staff")
def chat_take(chat_id: int):
    """Take the chat and open it on the desk, with the resident's record beside it."""
    chat = chat_domain.by_id(chat_id)
    try:
        chat_domain.take(chat, current_user, now=chat_domain.clock())
    except DomainError as error:
        db.session.rollback()
        if wants_json():
            raise
        flash(error.message, "error")
        return redirect(url_for("staff.desk_page"))
    if wants_json():
        return jsonify({"id": chat.id, "status": chat.status})
    return _to_desk(chat)


@bp.post("/chats/<int:chat_id>/messages")
@roles_required("staff")
def chat_answer(chat_id: int):
    """The call-taker's answer: 201 with the line (JSON), or back to the desk."""
    chat = chat_domain.by_id(chat_id)
    try:
        message = chat_domain.staff_writes(
            chat, current_user, request.form.get("body", ""), now=chat_domain.clock()
        )
    except DomainError as error:
        db.session.rollback()
        if wants_json():
            raise
        flash(error.message, "error")
        return _to_desk(chat)
    if wants_json():
        return jsonify(chat_domain.as_dict(message, chat)), 201
    return _to_desk(chat)


@bp.get("/chats/<int:chat_id>/events")
@roles_required("staff")
def chat_events(chat_id: int):
    """The chat's lines as Server-Sent Events, from the desk's last line."""
    chat = chat_domain.by_id(chat_id)
    if chat.status == "closed" and not chat_domain.lines_after(
        chat, chat_stream.resume_point(), limit=1
    ):
        return "", 204
    return chat_stream.stream(chat)


@bp.post("/chats/<int:chat_id>/close")
@roles_required("staff")
def chat_close(chat_id: int):
    """End the chat from the desk."""
    chat = chat_domain.by_id(chat_id)
    chat_domain.close(chat, now=chat_domain.clock())
    if wants_json():
        return jsonify({"status": chat.status})
    flash(_("Chat ended. The transcript is on the resident's record."))
    return redirect(url_for("staff.desk_page"))
