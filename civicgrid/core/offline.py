"""The field apps' service worker, one script for each scope that works offline.

A service worker controls the pages under the path it is served from, so each field app
(/field/, /care/field/, …) serves the same script from its own path with the files its
pages need. The script itself is the template ``web/field/sw.js``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse

# What every field page needs offline: the styles, the shared queue, the field script and
# the map.
FIELD_ASSETS = (
    "web/base.css",
    "web/queue.js",
    "web/field.js",
    "leaflet/leaflet.css",
    "leaflet/leaflet.js",
)


def service_worker_response(assets: Iterable[str] = FIELD_ASSETS) -> HttpResponse:
    """The service worker caching ``assets`` (static paths) and the offline page."""
    script = render_to_string(
        "web/field/sw.js",
        {
            "offline_url": json.dumps(reverse("field_offline")),
            "assets": json.dumps([static(a) for a in assets]),
        },
    )
    return HttpResponse(script, content_type="text/javascript; charset=utf-8")
