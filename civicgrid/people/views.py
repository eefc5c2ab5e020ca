from __future__ import annotations

from typing import cast

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from civicgrid.people import scopes, selectors
from civicgrid.people.models import User


@login_required
def roster(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    teams = selectors.grid_teams(scopes.grids_visible_to(user))
    return render(
        request,
        "people/roster.html",
        {
            "teams": teams,
            "warning_count": sum(len(t.warnings) for t in teams),
            "min_size": selectors.MIN_ADMINISTRATORS,
            "max_size": selectors.MAX_ADMINISTRATORS,
        },
    )


@login_required
def access_log(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if not scopes.can_audit(user):
        raise Http404
    page = Paginator(selectors.access_log_for(user), 100).get_page(request.GET.get("page"))
    return render(request, "people/access_log.html", {"page": page, "rows": page.object_list})
