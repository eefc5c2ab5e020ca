"""The registries' personal fields, registered with people.privacy at start-up.

Names, document numbers, phones, birth dates, health and welfare facts and the exact
home (room, and the coordinates of a house) are masked by default; every unmasked read
goes through ``personal_data_read`` and writes one access-log row.
"""

from __future__ import annotations

from civicgrid.people.privacy import Kind, register_personal_fields

HOUSE_FIELDS = {
    "owner_name": Kind.NAME,
    "owner_phone": Kind.PHONE,
    "lon": Kind.HOME_LOCATION,
    "lat": Kind.HOME_LOCATION,
}
PERSON_FIELDS = {
    "full_name": Kind.NAME,
    "id_number": Kind.ID_NUMBER,
    "phone": Kind.PHONE,
    "birth_date": Kind.BIRTH_DATE,
    "room": Kind.HOME_LOCATION,
    "pregnant_until": Kind.HEALTH,
    "disability": Kind.HEALTH,
    "living_alone": Kind.HEALTH,
    "widowed": Kind.HEALTH,
    "orphaned": Kind.HEALTH,
    "low_income": Kind.HEALTH,
    "special_needs": Kind.HEALTH,
}
LEGAL_PERSON_FIELDS = {
    "representative_name": Kind.NAME,
    "representative_phone": Kind.PHONE,
}

SITE_FIELDS = {
    "contact_name": Kind.NAME,
    "contact_phone": Kind.PHONE,
}

register_personal_fields("registry.House", HOUSE_FIELDS)
register_personal_fields("registry.Person", PERSON_FIELDS)
register_personal_fields("registry.LegalPerson", LEGAL_PERSON_FIELDS)
register_personal_fields("registry.Site", SITE_FIELDS)
