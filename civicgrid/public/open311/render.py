"""GeoReport v2 documents as JSON or XML, shaped like the specification's examples."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import orjson
from django.http import HttpResponse

# In XML a list is an element of the plural name holding one element per item.
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(parent: ET.Element, value: Any, tag: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            child = ET.SubElement(parent, key)
            _fill(child, inner, key)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS.get(tag, "item")
        for inner in value:
            child = ET.SubElement(parent, item_tag)
            _fill(child, inner, item_tag)
    else:
        parent.text = _text(value)


def to_xml(root: str, body: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, body, root)
    ET.indent(element)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(
        element, encoding="utf-8", xml_declaration=False
    )


def respond(fmt: str, root: str, body: Any, status: int = 200) -> HttpResponse:
    """``root`` names the XML document element; JSON is the body as is."""
    if fmt == "xml":
        return HttpResponse(to_xml(root, body), status=status,
                            content_type="text/xml; charset=utf-8")  # fmt: skip
    return HttpResponse(orjson.dumps(body), status=status,
                        content_type="application/json; charset=utf-8")  # fmt: skip


def errors(fmt: str, status: int, description: str) -> HttpResponse:
    return respond(fmt, "errors", [{"code": status, "description": description}], status=status)
