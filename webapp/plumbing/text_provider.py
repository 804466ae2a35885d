"""The text-message provider behind one small interface: ``send(to, body, media)`` →
the provider's message id, ``verify(url, params, signature)`` → whether a webhook call
really comes from the provider, and ``fetch_media(url)`` → an MMS attachment's bytes.

``TwilioProvider`` is Twilio through its official library: ``RequestValidator`` checks
the ``X-Twilio-Signature`` (HMAC-SHA1 of the public webhook address and the POSTed
fields with the account's auth token), ``Client.messages.create`` sends. Another
provider is one more class with these three methods (``provider()`` picks it).

``TWILIO_API_BASE`` points the REST client at another address (the local fake in
tests): the library builds every URL from its domain's ``base_url``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import requests
from flask import current_app

MAX_MEDIA_BYTES = 12 * 1024 * 1024
CHUNK = 64 * 1024
TWILIO_API = "https://api.twilio.com"


class ProviderError(Exception):
    """The provider refused or could not be reached; ``permanent`` means do not retry."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


@dataclass
class Media:
    """One MMS attachment as downloaded (``data`` None and ``error`` set when refused)."""

    content_type: str
    data: bytes | None
    error: str | None = None


class TextProvider(Protocol):
    """What the text door needs of a provider."""

    def send(self, to: str, body: str, media: list[str] | None = None) -> str: ...

    def verify(self, url: str, params: dict, signature: str) -> bool: ...

    def fetch_media(self, url: str, max_bytes: int = MAX_MEDIA_BYTES) -> Media: ...


def is_configured(config) -> bool:
    """The text door is open only when the account, its token and the number are set."""
    return all(
        config.get(name)
        for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
    )


class TwilioProvider:
    """Twilio, through the ``twilio`` package."""

    def __init__(self, config):
        self.account_sid = config["TWILIO_ACCOUNT_SID"]
        self.auth_token = config["TWILIO_AUTH_TOKEN"]
        self.from_number = config["TWILIO_FROM_NUMBER"]
        self.api_base = (config.get("TWILIO_API_BASE") or TWILIO_API).rstrip("/")
        self.timeout = float(config.get("TEXT_TIMEOUT") or 10)

    def _client(self):
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        client = Client(
            self.account_sid,
            self.auth_token,
            http_client=TwilioHttpClient(timeout=self.timeout),
        )
        client.api.base_url = self.api_base
        return client

    def send(self, to: str, body: str, media: list[str] | None = None) -> str:
        """Send one message; returns its id (``SM…``). A 4xx answer is permanent (a bad
        or unreachable number, an opted-out recipient), anything else is retried."""
        from twilio.base.exceptions import TwilioException, TwilioRestException

        try:
            message = self._client().messages.create(
                to=to, from_=self.from_number, body=body, media_url=media or None
            )
        except TwilioRestException as error:
            raise ProviderError(
                f"provider answered {error.status}: {error.msg}",
                permanent=400 <= (error.status or 0) < 500 and error.status != 429,
            ) from None
        except (TwilioException, requests.RequestException) as error:
            raise ProviderError(f"provider unreachable: {type(error).__name__}: {error}") from None
        return message.sid

    def verify(self, url: str, params: dict, signature: str) -> bool:
        """Whether ``signature`` is the provider's for ``url`` and ``params``."""
        from twilio.request_validator import RequestValidator

        if not signature:
            return False
        return bool(RequestValidator(self.auth_token).validate(url, params, signature))

    def fetch_media(self, url: str, max_bytes: int = MAX_MEDIA_BYTES) -> Media:
        """Download an attachment from the provider's own media host (never another:
        the address came in a message anyone could have sent), at most ``max_bytes``,
        read in chunks whatever Content-Length says."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or parts.netloc != urlsplit(self.api_base).netloc:
            return Media("", None, "not the provider's media address")
        try:
            with requests.get(
                url,
                auth=(self.account_sid, self.auth_token),
                timeout=self.timeout,
                stream=True,
            ) as response:
                if response.status_code != 200:
                    return Media("", None, f"media answered {response.status_code}")
                content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
                data = bytearray()
                for chunk in response.iter_content(CHUNK):
                    data.extend(chunk)
                    if len(data) > max_bytes:
                        return Media(content_type, None, "too large")
                return Media(content_type, bytes(data))
        except requests.RequestException as error:
            return Media("", None, f"media unreachable: {type(error).__name__}")


def provider(config=None) -> TextProvider:
    """The configured provider (Twilio)."""
    return TwilioProvider(config or current_app.config)
