"""One renderer for every Open311 answer: the same data as JSON or as GeoReport v2 XML.

Views build plain Python values (dicts in field order, lists, strings, numbers,
booleans, None); this module writes them as a bare JSON value or as an XML tree whose
list elements repeat a singular child (``<services><service>…``).
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from flask import Response

from webapp.open311.errors import xml_document

ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "photos": "photo",
    "notes": "note",
    "service_requests_updates": "request_update",
    "service_request_updates": "request_update",
}

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str | None:
    """How a scalar is written inside an XML element (booleans as true/false).

    Characters XML 1.0 cannot carry (control characters someone pasted into a
    description) are dropped, so every answer stays parseable.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _fill(element: Element, value: Any) -> None:
    """Write ``value`` into ``element``: children for dicts and lists, text otherwise."""
    if isinstance(value, dict):
        for name, item in value.items():
            _fill(SubElement(element, name), item)
    elif isinstance(value, list):
        child_tag = ITEM_TAGS.get(element.tag, "item")
        for item in value:
            _fill(SubElement(element, child_tag), item)
    else:
        element.text = _text(value)


def to_xml(root_tag: str, value: Any) -> Element:
    """The XML tree of ``value`` under ``root_tag``."""
    root = Element(root_tag)
    _fill(root, value)
    return root


def respond(fmt: str, root_tag: str, value: Any, status: int = 200) -> Response:
    """Answer ``value`` as a bare JSON value or as an XML document rooted at ``root_tag``."""
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        response = Response(body, content_type="application/json; charset=utf-8")
    else:
        response = xml_document(to_xml(root_tag, value))
    response.status_code = status
    return response
