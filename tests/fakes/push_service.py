"""A fake Web Push service: checks what a real one checks, decrypts, records, and can be
told to answer 410, 429 or 500.

``FakePushService.subscription()`` makes the "browser" side: an EC P-256 key pair and a
16-byte auth secret, with an endpoint on this service. Every POST is checked for a valid
VAPID ``Authorization: vapid t=…, k=…`` (ES256 JWT verified against ``k``; ``aud`` is this
service's origin; ``exp`` within 24 h; ``sub`` a mailto: or https: URL), ``TTL``,
``Urgency``, ``Topic`` and ``Content-Encoding: aes128gcm``; the body is decrypted with
``http_ece`` and the plaintext recorded. A request that fails a check is answered 400/401
and listed in ``rejected``.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from werkzeug.wrappers import Request, Response

URGENCIES = {"very-low", "low", "normal", "high"}
MAX_EXP_SECONDS = 24 * 3600


def b64url(data: bytes) -> str:
    """Unpadded base64url."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode unpadded base64url."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class BrowserKeys:
    """The browser's half of a subscription: what the app stores and what decrypts."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def p256dh(self) -> str:
        """The public key as the browser reports it (base64url uncompressed point)."""
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        """The auth secret as the browser reports it (base64url)."""
        return b64url(self.auth_secret)

    def as_json(self) -> dict:
        """``PushSubscription.toJSON()``."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass
class Delivery:
    """One accepted message."""

    endpoint: str
    payload: dict
    ttl: int
    urgency: str | None
    topic: str | None
    claims: dict
    vapid_key: str


@dataclass
class FakePushService:
    """The WSGI app. ``verify=False`` only counts requests (for the benchmark's cheap mode);
    ``latency_seconds`` delays every answer like a push service across the internet."""

    verify: bool = True
    deliveries: list[Delivery] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    keys: dict[str, BrowserKeys] = field(default_factory=dict)
    _answers: dict[str, deque] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    latency_seconds: float = 0.0

    def subscription(self, base_url: str | None = None) -> BrowserKeys:
        """A new browser subscription whose endpoint is on this service."""
        token = secrets.token_urlsafe(16)
        keys = BrowserKeys(
            endpoint=f"{base_url or self.base_url}/push/{token}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=os.urandom(16),
        )
        self.keys[f"/push/{token}"] = keys
        return keys

    def answer(self, keys: BrowserKeys, *responses: int | tuple[int, dict]) -> None:
        """Queue the statuses (optionally with headers) the next POSTs to ``keys`` get."""
        path = "/push/" + keys.endpoint.rsplit("/push/", 1)[1]
        self._answers.setdefault(path, deque()).extend(responses)

    def payloads(self, keys: BrowserKeys | None = None) -> list[dict]:
        """Decrypted payloads received (for one subscription, or all)."""
        return [d.payload for d in self.deliveries if keys is None or d.endpoint == keys.endpoint]

    def __call__(self, environ, start_response):
        request = Request(environ)
        if self.latency_seconds:
            time.sleep(self.latency_seconds)  # a remote push service's round trip
        return self._handle(request)(environ, start_response)

    def _reject(self, status: int, why: str) -> Response:
        with self._lock:
            self.rejected.append(why)
        return Response(why, status)

    def _handle(self, request: Request) -> Response:
        if request.method != "POST" or not request.path.startswith("/push/"):
            return Response("not found", 404)
        with self._lock:
            self.attempts.append(request.path)
            queued = self._answers.get(request.path)
            programmed = queued.popleft() if queued else None
        if programmed is not None:
            status, headers = programmed if isinstance(programmed, tuple) else (programmed, {})
            if status >= 300:
                return Response("programmed answer", status, headers=headers)
        keys = self.keys.get(request.path)
        if keys is None:
            return Response("no such subscription", 410)
        body = request.get_data()
        if not self.verify:
            with self._lock:
                self.deliveries.append(Delivery(keys.endpoint, {}, 0, None, None, {}, ""))
            return Response("", 201)
        origin = request.host_url.rstrip("/")
        try:
            claims, vapid_key = verify_vapid(request.headers.get("Authorization", ""), origin)
        except ValueError as error:
            return self._reject(401, f"vapid: {error}")
        ttl = request.headers.get("TTL", "")
        if not ttl.isdigit():
            return self._reject(400, "TTL header missing or not a number")
        urgency = request.headers.get("Urgency")
        if urgency is not None and urgency not in URGENCIES:
            return self._reject(400, f"bad Urgency {urgency!r}")
        topic = request.headers.get("Topic")
        if topic is not None and (
            len(topic) > 32 or not all(c.isalnum() or c in "-_" for c in topic)
        ):
            return self._reject(400, f"bad Topic {topic!r}")
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return self._reject(415, "Content-Encoding must be aes128gcm")
        if len(body) > 4096:
            return self._reject(413, "payload over 4096 bytes")
        try:
            plaintext = http_ece.decrypt(
                body,
                private_key=keys.private_key,
                auth_secret=keys.auth_secret,
                version="aes128gcm",
            )
            payload = json.loads(plaintext)
        except Exception as error:  # any failure to decrypt is the sender's fault
            return self._reject(400, f"could not decrypt: {error!r}")
        with self._lock:
            self.deliveries.append(
                Delivery(keys.endpoint, payload, int(ttl), urgency, topic, claims, vapid_key)
            )
        return Response("", 201, headers={"Location": f"{request.path}/m/{secrets.token_hex(4)}"})


def verify_vapid(header: str, origin: str) -> tuple[dict, str]:
    """Check an RFC 8292 ``vapid t=<jwt>, k=<key>`` header; returns (claims, k)."""
    scheme, _, rest = header.partition(" ")
    if scheme.lower() != "vapid":
        raise ValueError(f"scheme is {scheme!r}, not vapid")
    params = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        params[name] = value
    if "t" not in params or "k" not in params:
        raise ValueError("t= and k= are required")
    try:
        signing_input, _, signature = params["t"].rpartition(".")
        header_b64, _, claims_b64 = signing_input.partition(".")
        jwt_header = json.loads(unb64url(header_b64))
        claims = json.loads(unb64url(claims_b64))
        raw = unb64url(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(params["k"]))
    except (ValueError, TypeError) as error:
        raise ValueError(f"malformed token: {error}") from None
    if jwt_header.get("alg") != "ES256" or len(raw) != 64:
        raise ValueError("token is not ES256")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise ValueError("signature does not verify against k") from None
    if claims.get("aud") != origin:
        raise ValueError(f"aud {claims.get('aud')!r} is not {origin!r}")
    now = time.time()
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + MAX_EXP_SECONDS:
        raise ValueError(f"exp {exp!r} is not within 24 hours")
    sub = claims.get("sub", "")
    if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
        raise ValueError(f"sub {sub!r} is not a mailto: or https: URL")
    return claims, params["k"]
