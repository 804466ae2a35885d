"""A stand-in for a client's photo host (the ``media_url`` of an Open311 report)."""

from __future__ import annotations

import io
import time

from PIL import Image
from werkzeug.wrappers import Request, Response


def jpeg(color=(30, 120, 200), size=(80, 60)) -> bytes:
    """A small real JPEG."""
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "JPEG")
    return buffer.getvalue()


class FakePhotoHost:
    """Serves ``/photo.jpg``, ``/other.jpg``, ``/text.jpg`` (not an image), ``/huge.jpg``
    (endless bytes), ``/slow.jpg`` (waits), ``/missing.jpg`` (404) and
    ``/redirect?to=URL``; records every path asked for."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append(request.full_path.rstrip("?"))
        path = request.path
        if path == "/photo.jpg":
            response = Response(jpeg(), content_type="image/jpeg")
        elif path == "/other.jpg":
            response = Response(jpeg((200, 60, 20)), content_type="image/jpeg")
        elif path == "/text.jpg":
            response = Response(b"hello, not a photo", content_type="image/jpeg")
        elif path == "/huge.jpg":
            chunk = b"\xff" * 65536

            def endless():
                for _ in range(4096):
                    yield chunk

            response = Response(endless(), content_type="image/jpeg")
        elif path == "/slow.jpg":
            time.sleep(3)
            response = Response(jpeg(), content_type="image/jpeg")
        elif path == "/redirect":
            response = Response(status=302, headers={"Location": request.args["to"]})
        else:
            response = Response("not here", status=404)
        return response(environ, start_response)
