"""A fake Twilio: the REST API for outbound messages, MMS media, and signed webhooks.

- ``POST /2010-04-01/Accounts/<sid>/Messages.json`` with HTTP Basic auth (the account
  and its token) records the message and answers 201 with Twilio's JSON (``sid``,
  ``status`` …). ``mode = "down"`` answers 500, ``"refuse"`` 400 with Twilio's error
  21610 (the recipient unsubscribed).
- ``GET /media/<name>`` serves an MMS attachment put there with ``add_media`` (the
  same Basic auth required, like Twilio's "HTTP auth on media").
- ``webhook(client, …)`` posts what Twilio posts for an incoming message to
  ``/sms/incoming`` with an ``X-Twilio-Signature`` computed by the twilio package's
  own ``RequestValidator`` over ``PUBLIC_URL`` + path and the form, as Twilio does.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field

from twilio.request_validator import RequestValidator
from werkzeug.wrappers import Request, Response

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
CITY_NUMBER = "+14235550100"


@dataclass
class Sent:
    """One message the app sent through the REST API."""

    sid: str
    to: str
    from_: str
    body: str
    media: list[str] = field(default_factory=list)


class FakeSmsProvider:
    """The fake as a WSGI app; ``base_url`` is set once it is served."""

    def __init__(self):
        self.base_url = ""
        self.mode = "up"
        self.sent: list[Sent] = []
        self.media: dict[str, tuple[str, bytes]] = {}
        self.media_fetches = 0
        self.unauthorised = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # --- what the app calls -------------------------------------------------------

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            self.unauthorised += 1
            return False
        return True

    def __call__(self, environ, start_response):
        request = Request(environ)
        if not self._authorised(request):
            return Response("unauthorised", 401)(environ, start_response)
        path = request.path
        if request.method == "GET" and path.startswith("/media/"):
            self.media_fetches += 1
            found = self.media.get(path[len("/media/") :])
            if found is None:
                return Response("not found", 404)(environ, start_response)
            content_type, data = found
            return Response(data, 200, content_type=content_type)(environ, start_response)
        if request.method == "POST" and path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json":
            return self._create(request)(environ, start_response)
        return Response("not found", 404)(environ, start_response)

    def _create(self, request: Request) -> Response:
        if self.mode == "down":
            return Response(json.dumps({"code": 20500, "message": "down", "status": 500}), 500)
        if self.mode == "refuse":
            body = {"code": 21610, "message": "Attempt to send to unsubscribed recipient"}
            return Response(json.dumps({**body, "status": 400}), 400)
        form = request.form
        with self._lock:
            sid = f"SM{next(self._ids):032d}"
            self.sent.append(
                Sent(
                    sid,
                    form.get("To", ""),
                    form.get("From", ""),
                    form.get("Body", ""),
                    form.getlist("MediaUrl"),
                )
            )
        payload = {
            "sid": sid,
            "account_sid": ACCOUNT_SID,
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
        }
        return Response(json.dumps(payload), 201, content_type="application/json")

    # --- what the tests call -----------------------------------------------------

    def settings(self, public_url: str = "http://civic.test") -> dict:
        """The app settings that point it at this fake."""
        return {
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": CITY_NUMBER,
            "TWILIO_API_BASE": self.base_url,
            "PUBLIC_URL": public_url,
        }

    def add_media(self, name: str, data: bytes, content_type: str = "image/jpeg") -> str:
        """Serve ``data`` as an MMS attachment; returns its URL."""
        self.media[name] = (content_type, data)
        return f"{self.base_url}/media/{name}"

    def to(self, phone: str) -> list[Sent]:
        """The messages sent to ``phone``."""
        return [m for m in self.sent if m.to == phone]

    def webhook(
        self,
        client,
        phone: str,
        body: str = "",
        *,
        media: list[tuple[str, str]] | None = None,
        sid: str | None = None,
        public_url: str = "http://civic.test",
        token: str = AUTH_TOKEN,
        to: str = CITY_NUMBER,
        account: str = ACCOUNT_SID,
        signature: str | None = None,
    ):
        """Post an incoming message as Twilio does, signed (with ``token``, or the given
        ``signature``); returns the test client's response."""
        sid = sid or f"SM{next(self._ids) + 10_000_000:032d}"
        form = {
            "MessageSid": sid,
            "SmsSid": sid,
            "AccountSid": account,
            "From": phone,
            "To": to,
            "Body": body,
            "NumMedia": str(len(media or [])),
            "NumSegments": "1",
        }
        for n, (url, content_type) in enumerate(media or []):
            form[f"MediaUrl{n}"] = url
            form[f"MediaContentType{n}"] = content_type
        url = public_url.rstrip("/") + "/sms/incoming"
        if signature is None:
            signature = RequestValidator(token).compute_signature(url, form)
        return client.post("/sms/incoming", data=form, headers={"X-Twilio-Signature": signature})


def reply_text(response) -> str | None:
    """The text of a TwiML reply (None when the app answered with no message)."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(response.get_data(as_text=True))  # noqa: S314 - our own TwiML
    message = root.find("Message")
    return None if message is None else (message.text or "")
