from typing import Any

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from civicgrid.config.api import api

# The API's routes that every case action and report goes through, tried first: Django
# tries the patterns in order, and these sat behind some fifty others (geo, people, the
# registry), a tenth of a trivial request's time. No other route can match a path under
# them (each router has its own prefix), so the order decides nothing else
# (``config/tests/test_urls.py`` resolves every route both ways).
API_FIRST = ("cases",)


def hot_first(
    urls: tuple[list[URLPattern | URLResolver], str, str], prefixes: tuple[str, ...]
) -> tuple[list[URLPattern | URLResolver], str, str]:
    """``api.urls`` with the routes under ``prefixes`` moved to the front, in their order."""
    patterns, app_name, namespace = urls

    def hot(pattern: Any) -> bool:
        route = str(pattern.pattern)
        return any(route == p or route.startswith(f"{p}/") for p in prefixes)

    first = [p for p in patterns if hot(p)]
    return [*first, *(p for p in patterns if not hot(p))], app_name, namespace


urlpatterns = [
    path("api/v1/", hot_first(api.urls, API_FIRST)),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("people/", include("civicgrid.people.urls")),
    path("registry/", include("civicgrid.registry.urls")),
    path("inspections/", include("civicgrid.inspections.urls")),
    path("care/", include("civicgrid.care.urls")),
    path("", include("civicgrid.patrol.urls")),
    path("", include("civicgrid.evaluation.urls")),
    path("", include("civicgrid.public.urls")),
    path("", include("civicgrid.web.urls")),
]

handler404 = "civicgrid.web.views.not_found"
