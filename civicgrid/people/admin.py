from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from civicgrid.core.admin import ReadOnlyAdmin
from civicgrid.core.errors import DomainError
from civicgrid.core.refs import record_id
from civicgrid.people import services
from civicgrid.people.models import (
    AccessLog,
    ApiToken,
    Department,
    Examination,
    GridAssignment,
    RoleGrant,
    Training,
    User,
    WorkPermit,
)
from civicgrid.people.privacy import Channel, Kind, mask, personal_data_read


class RoleGrantInline(admin.TabularInline):
    model = RoleGrant
    fk_name = "user"
    extra = 0
    fields = ("role", "granted_at", "granted_by")
    readonly_fields = ("granted_at", "granted_by")
    verbose_name = _("role")
    verbose_name_plural = _("roles")


class TrainingInline(admin.TabularInline):
    model = Training
    extra = 0


class ExaminationInline(admin.TabularInline):
    model = Examination
    extra = 0
    readonly_fields = ("passed",)


class WorkPermitInline(admin.TabularInline):
    model = WorkPermit
    extra = 0


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Profile"), {"fields": ("full_name", "phone", "employment_source")}),
        (_("Workplace"), {"fields": ("township", "village", "department")}),
        (_("Equipment"), {"fields": ("uniform_issued_on", "id_card_issued_on")}),
    )
    list_display = ("username", "masked_name", "department", "employment_source", "is_active")
    list_filter = ("is_active", "is_staff", "role_grants__role", "employment_source", "department")
    search_fields = ("username",)
    inlines = (RoleGrantInline, TrainingInline, ExaminationInline, WorkPermitInline)

    @admin.display(description=_("full name"))
    def masked_name(self, obj: User) -> str:
        return mask(Kind.NAME, obj.full_name)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The change form shows the unmasked name and phone: that is a logged read.
        response = super().change_view(request, object_id, form_url, extra_context)
        pk = record_id(object_id)
        target = User.objects.filter(pk=pk).first() if pk is not None else None
        if request.method == "GET" and response.status_code == 200 and target is not None:
            personal_data_read(
                actor=cast(User, request.user),
                records=[target],
                purpose=str(_("account administration")),
                channel=Channel.DETAIL,
            )
        return response


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "township", "area_list")
    list_filter = ("township",)
    search_fields = ("code", "name")

    @admin.display(description=_("management areas"))
    def area_list(self, obj: Department) -> str:
        return ", ".join(obj.area_labels())


@admin.register(RoleGrant)
class RoleGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "granted_at", "granted_by")
    list_filter = ("role",)
    search_fields = ("user__username",)
    readonly_fields = ("granted_at", "granted_by")


class GridAssignmentAddForm(forms.ModelForm):
    """Placing someone on a team checks the service's rules (certification, team size)."""

    actor: User | None = None

    class Meta:
        model = GridAssignment
        fields = ("user", "grid", "position", "starts_on")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            services.grid_assignment_check(
                user=cleaned["user"],
                grid=cleaned["grid"],
                position=cleaned["position"],
                starts_on=cleaned["starts_on"],
                actor=self.actor,
            )
        except DomainError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))
        return cleaned


@admin.register(GridAssignment)
class GridAssignmentAdmin(admin.ModelAdmin):
    """Added through the service, which checks certification and team size; never changed
    here (an assignment ends through the service too)."""

    list_display = ("grid", "user", "position", "starts_on", "ends_on")
    list_filter = ("position", "grid__village")
    search_fields = ("user__username", "grid__code")
    readonly_fields = (
        "user",
        "grid",
        "position",
        "starts_on",
        "ends_on",
        "created_at",
        "created_by",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        acting = type("GridAssignmentAddForm", (GridAssignmentAddForm,), {"actor": request.user})
        return super().get_form(request, obj, change=change, form=acting, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        created = services.grid_assignment_create(
            user=obj.user,
            grid=obj.grid,
            position=obj.position,
            starts_on=obj.starts_on,
            actor=cast(User, request.user),
        )
        obj.pk, obj.created_at, obj.created_by = created.pk, created.created_at, created.created_by

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Training)
class TrainingAdmin(admin.ModelAdmin):
    list_display = ("user", "course", "completed_on", "hours", "passed")
    list_filter = ("passed",)
    search_fields = ("user__username", "course")


@admin.register(Examination)
class ExaminationAdmin(admin.ModelAdmin):
    list_display = ("user", "taken_on", "score", "pass_mark", "passed")
    list_filter = ("passed",)
    search_fields = ("user__username",)
    readonly_fields = ("passed",)


@admin.register(WorkPermit)
class WorkPermitAdmin(admin.ModelAdmin):
    list_display = ("number", "user", "issued_on", "expires_on", "revoked_on")
    search_fields = ("number", "user__username")
    date_hierarchy = "expires_on"


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyAdmin):
    """Append-only: nobody adds, changes or deletes rows here, not even a superuser."""

    list_display = ("at", "actor", "model", "channel", "field_list", "purpose")
    list_filter = ("channel", "model")
    search_fields = ("actor__username", "purpose")
    date_hierarchy = "at"

    @admin.display(description=_("fields"))
    def field_list(self, obj: AccessLog) -> str:
        return ", ".join(obj.fields)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A raw token is shown once, at creation, by `civicgrid token create`.
        return False
