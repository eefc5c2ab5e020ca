"""The in-app inbox: the notices the case services leave for a user, on every page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from civicgrid.cases import selectors
from civicgrid.cases import services as case_services
from civicgrid.cases.models import Notification
from civicgrid.people.models import User
from civicgrid.people.scopes import not_for_health_center
from civicgrid.web.casework import case_url


def unread_count(request: HttpRequest) -> dict[str, Any]:
    """Template context: the header's count of unread notices (one query, signed in only)."""
    user = getattr(request, "user", None)
    if not isinstance(user, User) or not user.is_active:
        return {}
    return {"inbox_unread": selectors.unread_count(user)}


@login_required
@not_for_health_center
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    rows = selectors.inbox(user).select_related("case__category")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "web/inbox.html",
        {
            "page": page,
            "notices": [
                {
                    "notice": n,
                    "kind": Notification.Kind(n.kind).label,
                    "url": case_url(user, n.case.number),
                }
                for n in page
            ],
        },
    )


@login_required
@not_for_health_center
@require_POST
def inbox_read(request: HttpRequest) -> HttpResponse:
    """Mark one notice (``id``) or all of them read."""
    user = request.user
    assert isinstance(user, User)
    raw = request.POST.get("id", "")
    ids = [int(raw)] if raw.isdigit() else None
    changed = case_services.notifications_read(user=user, ids=ids)
    if ids is None:
        messages.success(request, _("%(n)d notices marked read.") % {"n": changed})
    return redirect("inbox")
