from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from civicgrid.cases.models import (
    CalendarDay,
    Case,
    CaseEvent,
    Category,
    Notification,
    WebhookDelivery,
    WebhookEndpoint,
    WorkingCalendar,
)
from civicgrid.core.admin import ReadOnlyAdmin


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "parent", "department_code", "verifier", "urban_kind",
                    "urban_code", "active"]  # fmt: skip
    list_filter = ["parent", "verifier", "urban_kind", "active"]
    search_fields = ["code", "name", "department_code", "urban_code"]


class CalendarDayInline(admin.TabularInline):
    model = CalendarDay
    extra = 1


@admin.register(WorkingCalendar)
class WorkingCalendarAdmin(admin.ModelAdmin):
    list_display = ["township", "periods"]
    inlines = [CalendarDayInline]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = readonly_fields = [  # type: ignore[assignment]
        "seq",
        "at",
        "actor",
        "role",
        "action",
        "from_state",
        "to_state",
        "note",
    ]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "state", "category", "grid", "department", "deadline",
                    "reported_at"]  # fmt: skip
    list_filter = ["state", "urgency", "category__parent", "department"]
    search_fields = ["number"]
    exclude = ["reporter_name", "reporter_phone", "follow_token_digest"]
    inlines = [CaseEventInline]


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "seq", "at", "actor", "role", "action", "from_state", "to_state"]
    list_filter = ["action", "role"]


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["user", "kind", "case", "created_at", "read_at"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "active"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["endpoint", "event", "attempts", "next_attempt_at", "delivered_at",
                    "failed_at", "last_error"]  # fmt: skip
