"""The resident's side of live chat: start one, write, read it live, end it.

A chat belongs to the browser that started it (its key is kept in the signed session)
and to the account signed in when it started; anyone else gets 404, as if it did not
exist. Works without JavaScript (the
page lists the lines and a plain form posts the next one); chat.js adds the live
stream. The rules live in ``webapp.domain.intake.chat``.
"""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from webapp.domain.errors import DomainError, NotFound
from webapp.domain.intake import chat as chat_domain
from webapp.models import Chat, ChatStatus
from webapp.plumbing import limits
from webapp.plumbing.access import public, wants_json
from webapp.plumbing.extensions import db, limiter
from webapp.plumbing.sessions import current_account, current_device
from webapp.resident import chat_stream
from webapp.resident.blueprint import bp

SESSION_KEY = "chat_keys"
KEPT_CHATS = 5


def _my_keys() -> list[str]:
    keys = session.get(SESSION_KEY)
    return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []


def _remember(chat: Chat) -> None:
    session[SESSION_KEY] = [*[k for k in _my_keys() if k != chat.key], chat.key][-KEPT_CHATS:]


def _mine(key: str) -> Chat:
    """The chat with ``key`` when this browser (or this signed-in account) started it;
    404 for anyone else's, as if it did not exist."""
    chat = chat_domain.by_key(key)
    account = current_account()
    if key in _my_keys() or (account is not None and chat.user_id == account.id):
        return chat
    raise NotFound(_("We could not find that chat."))


def _current_open_chat() -> Chat | None:
    for key in reversed(_my_keys()):
        try:
            chat = chat_domain.by_key(key)
        except NotFound:
            continue
        if chat.status != ChatStatus.CLOSED:
            return chat
    return None


@bp.get("/chat")
@public
def chat_start_page():
    """The start form (name, e-mail, first message); an open chat of this browser instead."""
    chat = _current_open_chat()
    if chat is not None:
        return redirect(url_for("resident.chat_page", chat_key=chat.key))
    account = current_account()
    return render_template(
        "resident/chat_start.html",
        desk_open=chat_domain.desk_open(chat_domain.clock(), current_app.config),
        started_from=request.args.get("from", "help")[:20],
        service_code=(request.args.get("service") or "")[:64],
        account=account,
    )


@bp.post("/chat")
@public
@limiter.limit(limits.chat_start_limit, key_func=limits.chat_start_key)
def chat_start():
    """Open a chat with its first line; the browser keeps its key."""
    account = current_account()
    try:
        chat = chat_domain.start(
            chat_domain.Resident(
                user=account,
                device=current_device(),
                name=request.form.get("name"),
                email=request.form.get("email"),
                phone=request.form.get("phone"),
            ),
            request.form.get("body", ""),
            now=chat_domain.clock(),
            locale=str(get_locale() or "en"),
            started_from=request.form.get("started_from", "help"),
            service_code=request.form.get("service_code"),
        )
    except DomainError as error:
        db.session.rollback()
        if wants_json():
            raise
        flash(error.message, "error")
        return redirect(url_for("resident.chat_start_page"))
    _remember(chat)
    if wants_json():
        response = jsonify({"key": chat.key, "url": url_for("resident.chat_page", chat_key=chat.key)})
        response.status_code = 201
        response.headers["Location"] = url_for("resident.chat_page", chat_key=chat.key)
        return response
    return redirect(url_for("resident.chat_page", chat_key=chat.key))


@bp.get("/chat/<chat_key>")
@public
def chat_page(chat_key: str):
    """The chat: every line so far (a reload keeps everything), the form for the next."""
    chat = _mine(chat_key)
    lines = chat_domain.lines_after(chat, 0)
    return render_template(
        "resident/chat.html",
        chat=chat,
        lines=lines,
        last_id=lines[-1].id if lines else 0,
        max_length=int(current_app.config.get("CHAT_MAX_MESSAGE", 2000)),
    )


@bp.post("/chat/<chat_key>/messages")
@public
def chat_write(chat_key: str):
    """The resident's next line: 201 with the line (JSON), or back to the page."""
    chat = _mine(chat_key)
    try:
        message = chat_domain.resident_writes(chat, request.form.get("body", ""), now=chat_domain.clock())
    except DomainError as error:
        db.session.rollback()
        if wants_json():
            raise
        flash(error.message, "error")
        return redirect(url_for("resident.chat_page", chat_key=chat_key)), 303
    if wants_json():
        return jsonify(chat_domain.as_dict(message, chat)), 201
    return redirect(url_for("resident.chat_page", chat_key=chat_key)), 303


@bp.get("/chat/<chat_key>/events")
@public
def chat_events(chat_key: str):
    """The chat's lines as Server-Sent Events, from the browser's last line."""
    chat = _mine(chat_key)
    if chat.status == ChatStatus.CLOSED and not chat_domain.lines_after(
        chat, chat_stream.resume_point(), limit=1
    ):
        return "", 204  # an ended chat the browser has in full: EventSource stops
    return chat_stream.stream(chat)


@bp.post("/chat/<chat_key>/close")
@public
def chat_close(chat_key: str):
    """The resident ends the chat."""
    chat = _mine(chat_key)
    chat_domain.close(chat, now=chat_domain.clock())
    if wants_json():
        return jsonify({"status": chat.status})
    return redirect(url_for("resident.chat_page", chat_key=chat_key)), 303
