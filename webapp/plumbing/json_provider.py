"""The app's JSON answers, encoded by orjson.

A map page of a hundred requests is about 100 KB of JSON. Flask's own provider encodes
it with the standard library in about 1.1 ms, a fifth of the whole answer's cost;
orjson does the same in about 0.2 ms (``bench/README.md``). Every answer built with
``jsonify`` gains: the whole JSON API and Open311's errors (Open311's own documents are
written by ``webapp/open311/render.py``).

The text is the same JSON Flask would write, value for value: keys sorted, compact
(indented in debug mode), and whatever the standard encoder does not know handed to
Flask's own ``default`` (times as HTTP dates, decimals as text, dataclasses as dicts,
``__html__`` objects as their markup). Two differences, both still valid JSON with the
same values: non-ASCII letters are written as UTF-8 instead of ``\\u`` escapes (JSON's
own encoding, and shorter for Spanish), and the rare value orjson refuses (an integer
beyond 64 bits) is written by the standard library instead.

``read_json`` reads the JSON columns the database hands back (a request's attribute
answers on every row of a map page) with orjson too, and with the standard library
whatever orjson refuses (``NaN``, an integer past 64 bits, a lone surrogate), so every
value stored reads back as before.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

# Keys sorted as Flask sorts them; times, dates and dataclasses go to Flask's own
# ``default`` so they come out as Flask writes them, not in orjson's forms.
OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


LONG_NUMBER = re.compile(r"[0-9]{20}")
LONG_NUMBER_BYTES = re.compile(rb"[0-9]{20}")  # psycopg hands JSON over as bytes


def read_json(text: str | bytes) -> Any:
    """A stored JSON value as Python, as ``json.loads`` reads it, but faster.

    orjson reads an integer past 64 bits as a float; text with twenty digits in a row
    may hold one, so it is read the standard way.
    """
    if (LONG_NUMBER if isinstance(text, str) else LONG_NUMBER_BYTES).search(text):
        return json.loads(text)
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider with orjson doing the encoding."""

    def _encode(self, obj: Any, indent: bool) -> bytes:
        try:
            return orjson.dumps(
                obj, default=self.default, option=OPTIONS | (orjson.OPT_INDENT_2 if indent else 0)
            )
        except orjson.JSONEncodeError:
            # Values orjson will not write (an integer past 64 bits): the standard way.
            return super().dumps(
                obj, **({"indent": 2} if indent else {"separators": (",", ":")})
            ).encode()

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """JSON text; a caller that asks for the standard library's options gets it."""
        if kwargs:
            return super().dumps(obj, **kwargs)
        return self._encode(obj, indent=False).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """``jsonify``: the value as a JSON response, built from orjson's bytes."""
        obj = self._prepare_response_obj(args, kwargs)
        indent = (self.compact is None and self._app.debug) or self.compact is False
        return self._app.response_class(self._encode(obj, indent) + b"\n", mimetype=self.mimetype)


def init_app(app: Flask) -> None:
    """Make orjson the app's JSON encoder."""
    app.json = OrjsonProvider(app)
