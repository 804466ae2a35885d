"""Content-addressed photo storage behind a small interface.

Keys look like ``ab/cd/abcdef…-display.jpg``. The filesystem backend writes to a
temporary name in the same directory and renames into place, so a reader never sees
half a file. An object-store backend would implement the same four methods.
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


def photo_store() -> PhotoStore:
    """The configured store for the current app."""
    return FileStore(current_app.config["UPLOAD_DIR"])
