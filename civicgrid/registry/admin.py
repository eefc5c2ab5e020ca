"""Read-mostly admin: records are written through the services (history), not here."""

from __future__ import annotations

from django.contrib import admin

from civicgrid.core.admin import ReadOnlyAdmin
from civicgrid.people.privacy import masked_values
from civicgrid.registry.models import (
    House,
    LegalPerson,
    Licence,
    Person,
    RecordChange,
    UrbanComponent,
)


@admin.register(House)
class HouseAdmin(ReadOnlyAdmin):
    list_display = ("code", "address", "grid", "building_type", "use", "households")
    list_filter = ("use", "building_type")
    search_fields = ("code", "address")
    exclude = ("owner_name", "owner_phone", "lon", "lat")


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "masked_name", "registration_type", "house", "moved_out_on")
    list_filter = ("registration_type", "document_type")
    fields = (
        "document_type",
        "registration_type",
        "house",
        "moved_in_on",
        "moved_out_on",
        "employer",
    )

    @admin.display(description="name")
    def masked_name(self, obj: Person) -> str:
        return masked_values(obj)["full_name"]


class LicenceInline(admin.TabularInline):
    model = Licence
    extra = 0


@admin.register(LegalPerson)
class LegalPersonAdmin(ReadOnlyAdmin):
    list_display = ("name", "credit_code", "kind", "industry", "house")
    list_filter = ("kind", "industry")
    search_fields = ("name", "credit_code")
    exclude = ("representative_name", "representative_phone")
    inlines = [LicenceInline]


@admin.register(UrbanComponent)
class UrbanComponentAdmin(ReadOnlyAdmin):
    list_display = ("identifier", "category", "state", "grid")
    list_filter = ("state",)
    search_fields = ("identifier",)


@admin.register(RecordChange)
class RecordChangeAdmin(ReadOnlyAdmin):
    list_display = ("at", "model", "record_id", "action", "actor")
    list_filter = ("model", "action")
