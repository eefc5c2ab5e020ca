"""Checklists are edited here by system administrators; a template a visit used is read-only
(make a new version with the action). Visits and findings are read-only records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from civicgrid.core.admin import ReadOnlyAdmin
from civicgrid.inspections import services
from civicgrid.inspections.models import Finding, Frequency, Item, Template, Visit


class ItemInline(admin.StackedInline):
    model = Item
    extra = 0

    def _locked(self, obj: Template | None) -> bool:
        return obj is not None and services.template_in_use(obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._locked(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._locked(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._locked(obj) and super().has_delete_permission(request, obj)


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("area", "version", "title_en", "title_zh", "active")
    list_filter = ("area", "active")
    inlines = [ItemInline]
    actions = ["new_version"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and services.template_in_use(obj):
            return ("area", "version", "title_en", "title_zh", "active")
        return ("version",)

    @admin.action(description=_("Make a new version (the copy is used from now on)"))
    def new_version(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        for template in queryset:
            copy = services.template_new_version(template=template, actor=None)
            self.message_user(request, f"{copy}", messages.SUCCESS)


@admin.register(Frequency)
class FrequencyAdmin(admin.ModelAdmin):
    list_display = ("area", "risk", "every_days")
    list_editable = ("every_days",)
    list_filter = ("risk",)


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdmin):
    list_display = ("number", "premises_name", "grid", "inspector", "visited_at", "failed")
    search_fields = ("number", "premises_name")
    exclude = ("lon", "lat")


@admin.register(Finding)
class FindingAdmin(ReadOnlyAdmin):
    list_display = ("visit", "item", "severity", "state", "rectify_by", "case")
    list_filter = ("state", "severity", "area")
