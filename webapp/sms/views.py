"""``POST /sms/incoming``: one text message from the provider, answered in TwiML."""

from __future__ import annotations

from flask import Response, abort, current_app, request

from webapp.domain.texting import inbound
from webapp.plumbing.access import provider_signed
from webapp.plumbing.deployment import public_url_setting
from webapp.plumbing.text_provider import is_configured, provider
from webapp.sms.blueprint import bp

MAX_FIELD = 2000
FALLBACK_URL = "http://localhost:5000"


def _webhook_url() -> str:
    """The address the provider signed: the public one, never the caller's ``Host``."""
    base = public_url_setting(current_app.config) or FALLBACK_URL
    return base.rstrip("/") + request.path


def _twiml(reply: str | None) -> Response:
    from twilio.twiml.messaging_response import MessagingResponse

    answer = MessagingResponse()
    if reply:
        answer.message(reply)
    return Response(str(answer), mimetype="application/xml")


def _media(form) -> list[tuple[str, str]]:
    try:
        count = min(int(form.get("NumMedia") or 0), inbound.MAX_MEDIA)
    except ValueError:
        count = 0
    found = []
    for n in range(max(count, 0)):
        url = (form.get(f"MediaUrl{n}") or "")[:MAX_FIELD]
        if url:
            found.append((url, (form.get(f"MediaContentType{n}") or "")[:100]))
    return found


@bp.post("/incoming")
@provider_signed
def incoming():
    """The provider's webhook for a message to the city's number."""
    config = current_app.config
    if not is_configured(config):
        abort(404)
    form = request.form
    signature = request.headers.get("X-Twilio-Signature", "")
    if not provider(config).verify(_webhook_url(), form.to_dict(flat=True), signature):
        abort(403)
    # A signed call about another account or number is not ours to answer.
    if (
        form.get("AccountSid") != config["TWILIO_ACCOUNT_SID"]
        or form.get("To") != config["TWILIO_FROM_NUMBER"]
    ):
        abort(403)
    sid = (form.get("MessageSid") or form.get("SmsSid") or "").strip()
    phone = (form.get("From") or "").strip()
    if not sid or len(sid) > 64 or not phone or len(phone) > 40:
        abort(400)
    reply = inbound.handle(
        inbound.Incoming(sid=sid, phone=phone, body=form.get("Body") or "", media=_media(form))
    )
    return _twiml(reply)
