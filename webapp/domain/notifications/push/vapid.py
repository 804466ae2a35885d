"""The app's VAPID key pair, which identifies us to every push service.

From ``VAPID_PRIVATE_KEY`` when configured (PEM, base64url DER or raw), else from the
instance folder's ``vapid_private.pem``, generated there once, by whichever process
needs it first. A configured public key must match the private one.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from flask import Flask
from py_vapid import Vapid

KEY_FILE = "vapid_private.pem"


def b64url(data: bytes) -> str:
    """Unpadded base64url, the encoding Web Push uses for keys."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Decode unpadded base64url (raises ValueError on rubbish)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _instance_dir(app: Flask) -> Path:
    return Path(app.config.get("INSTANCE_DIR") or app.instance_path)


def _load_private_key(text: str) -> Vapid:
    """A Vapid signer from a PEM, base64url DER or base64url raw private key."""
    text = text.strip()
    if "-----BEGIN" in text:
        return Vapid.from_pem(text.encode())
    return Vapid.from_string(text)


def _generate_key_file(path: Path) -> None:
    """Write a new private key to ``path`` unless another process already did."""
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Vapid()
    signer.generate_keys()
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(handle, "wb") as out:
        out.write(signer.private_pem())


def load_vapid(app: Flask) -> tuple[Vapid, str]:
    """The VAPID signer and its public key (base64url uncompressed point).

    From ``VAPID_PRIVATE_KEY`` when configured, else from the instance folder's
    ``vapid_private.pem``, generated there the first time it is needed.
    """
    configured = app.config.get("VAPID_PRIVATE_KEY")
    if configured:
        signer = _load_private_key(configured)
    else:
        path = _instance_dir(app) / KEY_FILE
        if not path.exists():
            _generate_key_file(path)
        signer = _load_private_key(path.read_text())
    derived = b64url(
        signer.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    configured_public = app.config.get("VAPID_PUBLIC_KEY")
    if configured_public and configured_public.rstrip("=") != derived:
        raise RuntimeError("VAPID_PUBLIC_KEY does not match VAPID_PRIVATE_KEY")
    return signer, derived
