"""Telling every app server that a chat has a new line: Redis pub/sub, or nothing.

A chat line is stored in the database first (the record); only then is it announced.
With ``REDIS_URL`` set, the announcement is a PUBLISH on ``<CHAT_CHANNEL_PREFIX>chat:<id>``
and every server's open streams for that chat wake at once, whichever server the line
was written on. Without Redis the streams read the database every
``CHAT_POLL_SECONDS`` instead. Either way the database is what a stream sends from, so
a lost announcement (Redis down for a moment) only delays a line until the next read
or the browser's reconnect, it never loses one.
"""

from __future__ import annotations

import contextlib
import logging
import time

from flask import current_app

log = logging.getLogger(__name__)

_CLIENTS_KEY = "civic311_chat_redis"


def _channel(chat_id: int) -> str:
    prefix = current_app.config.get("CHAT_CHANNEL_PREFIX", "civic311:")
    return f"{prefix}chat:{chat_id}"


def _client():
    """One Redis client per app (it keeps its own connection pool), or None."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    clients = current_app.extensions.setdefault(_CLIENTS_KEY, {})
    if url not in clients:
        import redis

        clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=30)
    return clients[url]


def announce(chat_id: int, message_id: int) -> None:
    """Wake the streams of ``chat_id`` on every server (after the line is committed)."""
    client = _client()
    if client is None:
        return
    try:
        client.publish(_channel(chat_id), str(message_id))
    except Exception as error:  # noqa: BLE001 - Redis down: the streams' next read finds it
        log.warning("chat announcement for chat %s not published: %s", chat_id, error)


class Listener:
    """What a stream waits on between its reads of the database.

    ``wait(seconds)`` returns when a new line may be there: at an announcement (Redis),
    or after the polling interval (no Redis), or at ``seconds`` at the latest.
    """

    def __init__(self, chat_id: int):
        self.poll = float(current_app.config.get("CHAT_POLL_SECONDS", 1.0))
        self._pubsub = None
        client = _client()
        if client is not None:
            try:
                self._pubsub = client.pubsub(ignore_subscribe_messages=True)
                self._pubsub.subscribe(_channel(chat_id))
            except Exception as error:  # noqa: BLE001 - fall back to reading the database
                log.warning("chat stream falls back to polling: %s", error)
                self._pubsub = None

    @property
    def pushed(self) -> bool:
        """True when announcements arrive through Redis (no polling)."""
        return self._pubsub is not None

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when an announcement came (or it is time to poll)."""
        if seconds <= 0:
            return False
        if self._pubsub is None:
            time.sleep(min(seconds, self.poll))
            return True
        # get_message also returns None for the subscription's own confirmation, so
        # wait on until an announcement or the end of the time given.
        end = time.monotonic() + seconds
        try:
            while (left := end - time.monotonic()) > 0:
                if self._pubsub.get_message(timeout=left) is not None:
                    return True
            return False
        except Exception as error:  # noqa: BLE001 - Redis went away: poll from now on
            log.warning("chat stream lost Redis, polling instead: %s", error)
            self.close()
            return True

    def close(self) -> None:
        """Unsubscribe and give the connection back."""
        if self._pubsub is not None:
            with contextlib.suppress(Exception):  # closing a dead connection
                self._pubsub.close()
            self._pubsub = None
