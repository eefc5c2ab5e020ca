from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from civicgrid.public.models import (
    HiddenCase,
    Open311Key,
    PublicReport,
    PublicService,
    ReopenRequest,
    ServiceAttribute,
)
from civicgrid.public.services import open311_key_create


class ServiceAttributeInline(admin.TabularInline):
    model = ServiceAttribute
    extra = 0


@admin.register(PublicService)
class PublicServiceAdmin(admin.ModelAdmin):
    list_display = ["category", "public", "about_home", "group"]
    list_filter = ["public", "about_home"]
    inlines = [ServiceAttributeInline]


@admin.register(Open311Key)
class Open311KeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "active", "created_at", "last_used_at"]
    fields = ["name", "active"]

    def save_model(self, request: HttpRequest, obj: Open311Key, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw = open311_key_create(name=obj.name)
        obj.pk, obj.prefix, obj.digest = key.pk, key.prefix, key.digest
        # Shown once: only the digest is kept.
        messages.warning(request, _("The new key (shown only now): %(key)s") % {"key": raw})


@admin.register(PublicReport)
class PublicReportAdmin(admin.ModelAdmin):
    list_display = ["case", "source", "api_key", "created_at"]
    list_filter = ["source"]
    fields = readonly_fields = [  # type: ignore[assignment]
        "case",
        "source",
        "api_key",
        "created_at",
        "attributes",
        "media_url",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ReopenRequest)
class ReopenRequestAdmin(admin.ModelAdmin):
    list_display = ["case", "rating", "status", "created_at", "follow_up", "decided_by"]
    list_filter = ["status"]
    # Decided by a dispatcher on the center's case page (a workflow transition), not here.
    readonly_fields = ["case", "rating", "reason", "status", "follow_up", "decided_by",
                       "decided_at", "decision_note", "created_at"]  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(HiddenCase)
class HiddenCaseAdmin(admin.ModelAdmin):
    list_display = ["case", "reason", "hidden_by", "hidden_at"]
    raw_id_fields = ["case"]

    def save_model(self, request: HttpRequest, obj: HiddenCase, form: Any, change: bool) -> None:
        obj.hidden_by = obj.hidden_by or request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
