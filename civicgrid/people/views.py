from __future__ import annotations

from typing import cast

from django.apps import apps
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy

from civicgrid.people import scopes, selectors
from civicgrid.people.models import User
from civicgrid.people.scopes import not_for_health_center

CHANNEL_LABELS = {
    "detail": gettext_lazy("record page"),
    "list": gettext_lazy("list"),
    "export": gettext_lazy("export"),
    "reveal": gettext_lazy("reveal"),
    "search": gettext_lazy("search"),
}


@login_required
@not_for_health_center
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
@not_for_health_center
def access_log(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    if not scopes.can_audit(user):
        raise Http404
    page = Paginator(selectors.access_log_for(user), 100).get_page(request.GET.get("page"))
    rows = [
        {
            "at": row.at,
            "actor": row.actor,
            "model": _model_label(row.model),
            "record_ids": row.record_ids,
            "fields": [_field_label(row.model, name) for name in row.fields],
            "channel": CHANNEL_LABELS.get(row.channel, row.channel),
            "purpose": row.purpose,
        }
        for row in page.object_list
    ]
    return render(request, "people/access_log.html", {"page": page, "rows": rows})


def _model(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _model_label(label: str) -> str:
    model = _model(label)
    return str(model._meta.verbose_name) if model else label


def _field_label(label: str, name: str) -> str:
    model = _model(label)
    try:
        return str(model._meta.get_field(name).verbose_name) if model else name  # type: ignore[union-attr]
    except FieldDoesNotExist:
        return name
