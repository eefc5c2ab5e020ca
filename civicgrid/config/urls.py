from django.contrib import admin
from django.urls import include, path

from civicgrid.config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
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
