"""A damaged or missing urban component in the registry becomes a case.

Connected in ``CasesConfig.ready`` to ``civicgrid.registry.signals.component_broken``,
which the registry sends after commit; the registry itself knows nothing of cases.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from civicgrid.cases import workflow
from civicgrid.cases.models import Case, Category, UrbanKind
from civicgrid.cases.services.rules import _acting, _serves_grid
from civicgrid.cases.services.transitions import case_report
from civicgrid.cases.taxonomy import GENERAL_FACILITY
from civicgrid.cases.workflow import Action, Actor
from civicgrid.core.errors import PermissionDenied
from civicgrid.people.models import User
from civicgrid.registry.catalogue import category_label
from civicgrid.registry.models import ComponentState, UrbanComponent
from civicgrid.registry.services import BROKEN_STATES


def component_category(component: UrbanComponent) -> Category:
    """The sub-category whose urban code is the component's; else general public facilities."""
    subs = Category.objects.filter(active=True, parent__isnull=False)
    found = (
        subs.filter(urban_kind=UrbanKind.COMPONENT, urban_code=component.category)
        .order_by("code")
        .first()
    )
    if found is None:
        found = subs.filter(code=GENERAL_FACILITY).first()
    if found is None:  # the general one was retired locally: any public-facilities one
        found = subs.filter(parent__code=GENERAL_FACILITY[:2]).order_by("code").first()
    if found is None:
        raise LookupError("no active public-facilities sub-category to report a component in")
    return found


def _may_report(user: User | None, grid_id: int) -> bool:
    if user is None:
        return False
    transition = workflow.transition_for(None, Action.REPORT)
    assert transition is not None
    try:
        _acting(transition, user, None)
    except PermissionDenied:
        return False
    return _serves_grid(user, grid_id)


def component_case_report(*, component: UrbanComponent, actor: User | None) -> Case | None:
    """Report one case for a broken component, unless it already has an open case.

    The component row is locked while checking, so concurrent signals report once. The
    case is reported by ``actor`` when they may report in the component's grid, else by the
    system. Returns the new case, or ``None`` when nothing was reported.
    """
    with transaction.atomic():
        current = UrbanComponent.objects.select_for_update().filter(pk=component.pk).first()
        if current is None or current.state not in BROKEN_STATES:
            return None  # deleted or repaired since the change was committed
        if (
            Case.objects.filter(component=current)
            .exclude(state__in=workflow.CLOSED_STATES)
            .exists()
        ):
            return None
        category = component_category(current)
        description = _("Urban component %(identifier)s (%(category)s) is %(state)s. %(name)s") % {
            "identifier": current.identifier,
            "category": category_label(current.category),
            "state": ComponentState(current.state).label,
            "name": current.name,
        }
        by_user = _may_report(actor, current.grid_id)
        return case_report(
            actor=actor if by_user else None,
            acting_as=None if by_user else Actor.SYSTEM,
            category=category.code,
            description=description.strip(),
            lon=current.lon,
            lat=current.lat,
            address=current.name,
            component=current,
        ).case


def on_component_broken(sender: Any, *, component: UrbanComponent, actor: User | None,
                        **kwargs: Any) -> None:  # fmt: skip
    component_case_report(component=component, actor=actor)
