"""Open311 GeoReport v2 errors: a JSON array or ``<errors>`` XML of ``{code, description}``."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Response, jsonify, request

# Characters XML 1.0 cannot hold, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """``value`` with every character XML 1.0 forbids replaced by U+FFFD, so that a
    document echoing hostile input stays well-formed."""
    return _NOT_XML.sub("\ufffd", value)


def open311_format() -> str:
    """``xml`` or ``json``, from the path's extension (GeoReport v2 defaults to XML)."""
    return "json" if request.path.endswith(".json") else "xml"


def xml_document(root: Element) -> Response:
    """Serialize ``root`` with an XML declaration as ``text/xml; charset=utf-8``."""
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(
        root, encoding="utf-8", xml_declaration=False
    )
    return Response(body, content_type="text/xml; charset=utf-8")


def open311_error_response(status: int, description: str) -> Response:
    """An error in the GeoReport v2 shape, in the format the path asked for."""
    if open311_format() == "json":
        response = jsonify([{"code": status, "description": description}])
    else:
        root = Element("errors")
        error = SubElement(root, "error")
        SubElement(error, "code").text = str(status)
        SubElement(error, "description").text = xml_text(description)
        response = xml_document(root)
    response.status_code = status
    return response
