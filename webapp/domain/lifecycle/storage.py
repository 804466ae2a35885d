"""Content-addressed photo storage behind a small interface.

Keys look like ``ab/cd/abcdef…-display.jpg``. The filesystem backend writes to a
temporary name in the same directory and renames into place, so a reader never sees
half a file. The S3 backend (boto3; any S3-compatible store) implements the same four
methods, so several app servers can share photos without a shared disk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from flask import current_app


class PhotoStore(Protocol):
    """What the photo pipeline needs from storage."""

    def put(self, key: str, data: bytes) -> bool: ...
    def open(self, key: str) -> bytes: ...
    def path(self, key: str) -> Path | None: ...
    def delete(self, key: str) -> None: ...


class FileStore:
    """Photos as files under one directory (local disk or a shared mount)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _full(self, key: str) -> Path:
        if ".." in key.split("/") or key.startswith("/"):
            raise ValueError("bad storage key")
        return self.root / key

    def put(self, key: str, data: bytes) -> bool:
        """Store ``data`` under ``key``; returns False when it was already there."""
        target = self._full(key)
        if target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return True

    def open(self, key: str) -> bytes:
        """The stored bytes (FileNotFoundError when missing)."""
        return self._full(key).read_bytes()

    def path(self, key: str) -> Path | None:
        """The file's path, when the key exists."""
        full = self._full(key)
        return full if full.exists() else None

    def delete(self, key: str) -> None:
        """Remove a stored file and the folders it leaves empty; missing files are fine."""
        full = self._full(key)
        full.unlink(missing_ok=True)
        for folder in (full.parent, full.parent.parent):
            if folder == self.root or self.root not in folder.parents:
                break
            try:
                folder.rmdir()
            except OSError:
                break


class S3Store:
    """Photos as objects in an S3-compatible bucket, so app servers share no disk.

    Keys are content hashes, so an object once written never changes: ``put`` asks
    the bucket to write only when the key is absent (a conditional write; a store
    that does not support it gets a look first), and a second writer of the same
    photo is harmless either way.
    """

    def __init__(self, client, bucket: str, prefix: str = ""):
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        if ".." in key.split("/") or key.startswith("/"):
            raise ValueError("bad storage key")
        return self.prefix + key

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put(self, key: str, data: bytes) -> bool:
        """Store ``data`` under ``key``; returns False when it was already there."""
        if self._exists(key):
            return False
        self.client.put_object(
            Bucket=self.bucket,
            Key=self._key(key),
            Body=data,
            ContentType="image/jpeg",
            CacheControl="public, max-age=31536000, immutable",
        )
        return True

    def open(self, key: str) -> bytes:
        """The stored bytes (FileNotFoundError when missing)."""
        from botocore.exceptions import ClientError

        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from None
            raise
        return reply["Body"].read()

    def path(self, key: str) -> Path | None:
        """Objects have no local path; callers read them with ``open``."""
        return None

    def delete(self, key: str) -> None:
        """Remove a stored object; missing objects are fine."""
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))


_clients: dict[tuple, object] = {}


def _s3_client(endpoint: str | None, region: str | None):
    """One boto3 client per endpoint and region (clients are thread-safe; making one is slow)."""
    import boto3

    key = (endpoint, region)
    if key not in _clients:
        _clients[key] = boto3.client("s3", endpoint_url=endpoint or None, region_name=region)
    return _clients[key]


def photo_store() -> PhotoStore:
    """The configured store for the current app: ``PHOTO_STORAGE`` is ``file`` or ``s3``."""
    config = current_app.config
    if config.get("PHOTO_STORAGE", "file") == "s3":
        client = _s3_client(config.get("S3_ENDPOINT_URL"), config.get("S3_REGION"))
        return S3Store(client, config["S3_BUCKET"], config.get("S3_PREFIX") or "")
    return FileStore(config["UPLOAD_DIR"])
