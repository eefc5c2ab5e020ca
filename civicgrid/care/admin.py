"""Care records in the admin: read-only, since every write goes through the services
(idempotency, the grievance's case, the notice once per round)."""

from __future__ import annotations

from django.contrib import admin

from civicgrid.care.models import (
    Campaign,
    Distribution,
    Grievance,
    HealthNotice,
    PublicityEvent,
    Visit,
)
from civicgrid.core.admin import ReadOnlyAdmin


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ["pk", "visited_on", "grid", "house", "visitor", "kind", "follow_up_on"]
    list_filter = ["kind"]
    search_fields = ["house__code", "visitor__username"]
    exclude = ["person"]  # the person's record is read through the registry's logged reveal


@admin.register(Grievance)
class GrievanceAdmin(ReadOnlyAdmin):
    list_display = ["pk", "grid", "route", "state", "case", "created_at"]
    list_filter = ["route", "state"]


@admin.register(HealthNotice)
class HealthNoticeAdmin(ReadOnlyAdmin):
    list_display = ["pk", "kind", "round", "delivered_on", "delivered_by"]
    list_filter = ["kind", "round"]
    exclude = ["person"]


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ["title", "department", "starts_on", "ends_on"]


@admin.register(Distribution)
class DistributionAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "grid", "distributed_on", "quantity", "households_reached"]


@admin.register(PublicityEvent)
class PublicityEventAdmin(ReadOnlyAdmin):
    list_display = ["title", "kind", "grid", "held_on", "attendance"]
