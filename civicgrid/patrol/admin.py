from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from civicgrid.core.errors import ValidationFailed
from civicgrid.patrol import services
from civicgrid.patrol.models import Device, DutyDay, DutyExemption, DutySchedule, Shift


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["identifier", "user", "active", "registered_at"]
    list_filter = ["active"]
    search_fields = ["identifier", "user__username"]
    raw_id_fields = ["user"]
    fields = ["identifier", "user", "active"]

    def save_model(self, request: HttpRequest, obj: Device, form: Any, change: bool) -> None:
        if not change:
            obj.registered_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin):
    list_display = ["user", "started_at", "ended_at", "opened_by", "ending"]
    list_filter = ["opened_by", "ending"]
    search_fields = ["user__username"]
    readonly_fields = ["user", "started_at", "ended_at", "opened_by", "ending"]


@admin.register(DutyExemption)
class DutyExemptionAdmin(admin.ModelAdmin):
    list_display = ["user", "day", "reason", "recorded_by"]
    list_filter = ["reason"]
    search_fields = ["user__username"]
    readonly_fields = ["recorded_by"]
    raw_id_fields = ["user"]

    def save_model(self, request: HttpRequest, obj: DutyExemption, form: Any, change: bool) -> None:
        obj.recorded_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


@admin.register(DutyDay)
class DutyDayAdmin(admin.ModelAdmin):
    list_display = ["user", "day", "grid", "patrol_minutes", "in_grid_minutes", "rule"]
    list_filter = ["rule", "day"]
    search_fields = ["user__username"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class DutyScheduleForm(forms.ModelForm):
    """The API's checks in the admin too: weekday digits, hours not empty and not longer
    than a shift may stay open (the database only knows they are not empty)."""

    class Meta:
        model = DutySchedule
        fields = ["user", "weekdays", "starts", "ends", "active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("weekdays") and data.get("starts") and data.get("ends"):
            try:
                data["weekdays"] = services.schedule_checked(
                    data["weekdays"], data["starts"], data["ends"]
                )
            except ValidationFailed as exc:
                self.add_error(exc.field, str(exc.message))
        return data


@admin.register(DutySchedule)
class DutyScheduleAdmin(admin.ModelAdmin):
    form = DutyScheduleForm
    list_display = ["user", "weekdays", "starts", "ends", "active"]
    list_filter = ["active"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
    fields = ["user", "weekdays", "starts", "ends", "active"]

    def save_model(self, request: HttpRequest, obj: DutySchedule, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
