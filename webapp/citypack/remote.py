"""Reading another system's Open311 endpoint, bounded: a timeout on every call, a cap
on the size of an answer and on the time spent reading it, and clear words for what
went wrong (no answer, an HTTP error, XML or broken JSON instead of JSON)."""

from __future__ import annotations

import json
import time

import requests as http

MAX_BYTES = 32 * 1024 * 1024
CHUNK = 64 * 1024


class RemoteError(Exception):
    """The remote endpoint could not be read; the message says why, for a person."""


def get_json(url: str, params: dict | None = None, *, timeout: float,
             max_bytes: int = MAX_BYTES):
    """The JSON document at ``url`` (RemoteError when slow, failing, huge or malformed)."""
    deadline = time.monotonic() + timeout * 3
    try:
        answer = http.get(url, params=params, timeout=(timeout, timeout), stream=True,
                          headers={"Accept": "application/json",
                                   "User-Agent": "civic311-import"})
    except http.Timeout:
        raise RemoteError(f"{url} did not answer within {timeout:g} s") from None
    except http.RequestException as error:
        raise RemoteError(f"{url} cannot be reached ({type(error).__name__})") from None
    with answer:
        if answer.status_code >= 400:
            raise RemoteError(f"{answer.url} answered HTTP {answer.status_code}")
        body = bytearray()
        try:
            for chunk in answer.iter_content(CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise RemoteError(f"{answer.url} sent more than {max_bytes // 2**20} MB")
                if time.monotonic() > deadline:
                    raise RemoteError(f"{answer.url} is sending too slowly")
        except (http.RequestException, OSError) as error:
            raise RemoteError(f"{answer.url} stopped answering ({type(error).__name__})") from None
    text = bytes(body).decode("utf-8", errors="replace").strip()
    if text.startswith("<"):
        raise RemoteError(f"{answer.url} returned XML or HTML, not JSON; give the endpoint's "
                          ".json address")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise RemoteError(f"{answer.url} returned malformed JSON: {error.msg} at line "
                          f"{error.lineno}, column {error.colno}") from None
