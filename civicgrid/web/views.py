from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.geo import selectors


def home(request: HttpRequest) -> HttpResponse:
    summary = selectors.active_grids().aggregate(grids=Count("id"), households=Sum("households"))
    return render(
        request,
        "web/home.html",
        {
            "townships": selectors.townships(),
            "village_count": selectors.villages().count(),
            "grid_count": summary["grids"],
            "households": summary["households"] or 0,
        },
    )


@login_required
def township_map(request: HttpRequest) -> HttpResponse:
    return render(request, "web/map.html")
