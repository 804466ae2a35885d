"""A fake map tile server: a small grey PNG for every ``/{z}/{x}/{y}.png``."""

from __future__ import annotations

import io

from PIL import Image
from werkzeug.wrappers import Request, Response


def tile_png() -> bytes:
    """A 256×256 light grey PNG."""
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (220, 224, 222)).save(out, "PNG")
    return out.getvalue()


class FakeTileServer:
    """Answers tile requests and counts them (to prove tiles are never prefetched)."""

    def __init__(self):
        self.requested: list[str] = []
        self._png = tile_png()

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requested.append(request.path)
        if not request.path.endswith(".png"):
            return Response("not found", 404)(environ, start_response)
        response = Response(self._png, mimetype="image/png")
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response(environ, start_response)
