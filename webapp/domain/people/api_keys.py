"""Open311 API keys: issued once in clear, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from webapp.models import ApiKey, User, utcnow
from webapp.plumbing.extensions import db

KEY_PREFIX = "c311_"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue(name: str, owner: User | None = None) -> tuple[str, ApiKey]:
    """Make a new key; the clear key is returned once and never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(24)
    record = ApiKey(
        name=name.strip() or "unnamed", prefix=key[:10], key_hash=_hash(key), owner=owner
    )
    db.session.add(record)
    db.session.flush()
    return key, record


def verify(key: str | None) -> ApiKey | None:
    """The active key matching ``key``, or None (unknown, revoked or empty)."""
    if not key or len(key) > 200:
        return None
    record = db.session.scalars(select(ApiKey).where(ApiKey.key_hash == _hash(key))).first()
    if record is None or record.revoked:
        return None
    record.last_used_at = utcnow()
    return record


def revoke(record: ApiKey) -> None:
    """Stop accepting a key."""
    if record.revoked_at is None:
        record.revoked_at = utcnow()
