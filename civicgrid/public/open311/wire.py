"""Our records in GeoReport v2 words (service, service_request, status open|closed)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from civicgrid.public.models import PublicService
from civicgrid.public.selectors import PublicCase

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]


def w3c(moment: dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def service(row: PublicService) -> dict[str, Any]:
    category = row.category
    return {
        "service_code": category.code,
        "service_name": category.label,
        "description": category.parent.label if category.parent else None,
        "metadata": bool(row.attributes.all()),
        "type": "realtime",
        "keywords": row.keywords or None,
        "group": row.group or (category.parent.label if category.parent else None),
    }


def definition(row: PublicService) -> dict[str, Any]:
    attributes = []
    for attribute in row.attributes.all():
        out: dict[str, Any] = {
            "variable": True,
            "code": attribute.code,
            "datatype": attribute.datatype,
            "required": attribute.required,
            "datatype_description": None,
            "order": attribute.order,
            "description": attribute.description,
        }
        if attribute.values:
            out["values"] = [{"key": str(v.get("key")), "name": str(v.get("name"))}
                             for v in attribute.values]  # fmt: skip
        attributes.append(out)
    return {"service_code": row.category.code, "attributes": attributes}


def service_request(case: PublicCase, photo_url: Callable[[int], str]) -> dict[str, Any]:
    photos = case.after or case.before
    return {
        "service_request_id": case.number,
        "status": case.status,
        "status_notes": case.note or None,
        "service_name": case.service_name,
        "service_code": case.service_code,
        "description": case.description or None,
        "agency_responsible": case.department or None,
        "service_notice": None,
        "requested_datetime": w3c(case.reported_at),
        "updated_datetime": w3c(case.closed_at or case.updated_at),
        "expected_datetime": w3c(case.deadline),
        "address": case.address or None,
        "address_id": None,
        "zipcode": None,
        "lat": round(case.lat, 7),
        "long": round(case.lon, 7),
        "media_url": photo_url(photos[0].id) if photos else None,
    }


def created(number: str, token: str, notice: str | None, account_id: str) -> dict[str, Any]:
    return {
        "service_request_id": number,
        "token": token,
        "service_notice": notice,
        "account_id": account_id or None,
    }


def discovery(url: str, contact: str, key_service: str, changeset: str) -> dict[str, Any]:
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {"specification": SPECIFICATION, "url": url, "changeset": changeset,
             "type": "production", "formats": FORMATS},
        ],
    }  # fmt: skip
