"""A fake Nominatim: ``/search`` and ``/reverse`` in Nominatim's JSON shape.

``mode`` is ``up`` (answers), ``down`` (500) or ``slow`` (sleeps past any test timeout).
Every request is recorded so tests can check the parameters the app sent.
"""

from __future__ import annotations

import json
import re
import time

from werkzeug.wrappers import Request, Response

PLACES = [
    {
        "place_id": 1,
        "lat": "35.0456",
        "lon": "-85.3097",
        "display_name": "101, East 11th Street, Downtown, Chattanooga, Hamilton County, "
        "Tennessee, 37402, United States",
        "address": {
            "house_number": "101",
            "road": "East 11th Street",
            "city": "Chattanooga",
            "postcode": "37402",
        },
    },
    {
        "place_id": 2,
        "lat": "35.0531",
        "lon": "-85.2650",
        "display_name": "Riverside Drive, Chattanooga, Tennessee, 37406, United States",
        "address": {"road": "Riverside Drive", "city": "Chattanooga", "postcode": "37406"},
    },
]

ABBREVIATIONS = {"st": "street", "ave": "avenue", "rd": "road", "dr": "drive"}


def place(place_id: int, number: str, road: str, lat: float, lon: float) -> dict:
    """A street address in Chattanooga, in Nominatim's shape."""
    return {
        "place_id": place_id,
        "lat": str(lat),
        "lon": str(lon),
        "display_name": f"{number}, {road}, Chattanooga, Hamilton County, Tennessee, "
        "37402, United States",
        "address": {"house_number": number, "road": road, "city": "Chattanooga"},
    }


class FakeNominatim:
    """The fake server as a WSGI app; set ``mode`` to change how it behaves."""

    def __init__(
        self,
        mode: str = "up",
        slow_seconds: float = 2.0,
        places: list[dict] | None = None,
        strict: bool = False,
    ):
        self.mode = mode
        self.slow_seconds = slow_seconds
        self.requests: list[dict] = []
        # ``strict``: a place is found only when every word of the query is in its
        # name (as a real geocoder would not find "2 big potholes in the road").
        self.places = PLACES + list(places or [])
        self.strict = strict

    def paths(self) -> list[str]:
        """The paths asked for, in order."""
        return [r["path"] for r in self.requests]

    def _search(self, request: Request) -> list[dict]:
        query = request.args.get("q", "").lower()
        if self.strict:
            words = [ABBREVIATIONS.get(w, w) for w in re.findall(r"\w+", query)]
            found = [
                p
                for p in self.places
                if words and set(words) <= set(re.findall(r"\w+", p["display_name"].lower()))
            ]
        else:
            found = [
                p for p in self.places if any(w in p["display_name"].lower() for w in query.split())
            ]
        if "nowhere" in query:
            found = []
        return found[: int(request.args.get("limit", 10))]

    def _reverse(self, request: Request) -> dict:
        lat, lon = float(request.args["lat"]), float(request.args["lon"])
        if lat > 35.09:  # the river: nothing to name
            return {"error": "Unable to geocode"}
        return {**PLACES[0], "lat": str(lat), "lon": str(lon)}

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(
            {
                "path": request.path,
                "args": dict(request.args),
                "user_agent": request.headers.get("User-Agent"),
            }
        )
        if self.mode == "down":
            return Response("Service unavailable", 500)(environ, start_response)
        if self.mode == "slow":
            time.sleep(self.slow_seconds)
        if request.path == "/search":
            body = self._search(request)
        elif request.path == "/reverse":
            body = self._reverse(request)
        else:
            return Response("not found", 404)(environ, start_response)
        return Response(json.dumps(body), mimetype="application/json")(environ, start_response)
