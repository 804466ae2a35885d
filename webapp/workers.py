"""Background work started with the app (the embedded notification worker).

The push-notification issue fills this in; until then nothing runs in the background.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Start background workers configured for this process."""
    return None
