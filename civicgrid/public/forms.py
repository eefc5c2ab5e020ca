from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.geo.crs import Crs
from civicgrid.public import selectors
from civicgrid.public.services import DESCRIPTION_MAX


class ReportForm(forms.Form):
    service = forms.ChoiceField(label=_("What is the problem?"))
    description = forms.CharField(
        label=_("Describe it"), max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 4})
    )
    lat = forms.FloatField(
        widget=forms.HiddenInput,
        min_value=-90,
        max_value=90,
        error_messages={"required": _("Set the place on the map.")},
    )
    lon = forms.FloatField(
        widget=forms.HiddenInput,
        min_value=-180,
        max_value=180,
        error_messages={"required": _("Set the place on the map.")},
    )
    crs = forms.ChoiceField(
        widget=forms.HiddenInput, choices=[(c.value, c.value) for c in Crs], initial=Crs.WGS84
    )
    address = forms.CharField(
        label=_("Address or landmark (optional)"), max_length=200, required=False
    )
    phone = forms.CharField(
        label=_("Phone for updates (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    # Left empty by people (it is hidden); bots that fill every field give themselves away.
    website = forms.CharField(
        required=False,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    submission = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No problem chosen at first (the browser asks for one), grouped by area.
        groups: dict[str, list[tuple[str, str]]] = {}
        for service in selectors.public_services():
            area = service.category.parent
            groups.setdefault(area.label if area else "", []).append(
                (service.category.code, service.category.label)
            )
        self.fields["service"].choices = [  # type: ignore[attr-defined]
            ("", _("Choose the problem")),
            *groups.items(),
        ]
        if not self.is_bound:
            self.initial.setdefault("submission", secrets.token_hex(16))


class TrackForm(forms.Form):
    number = forms.CharField(label=_("Case number"), max_length=20)
    phone = forms.CharField(label=_("The phone number you gave"), max_length=20)


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("Your rating"),
        coerce=int,
        choices=[(n, str(n)) for n in range(5, 0, -1)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    reopen = forms.BooleanField(
        label=_("Not solved: ask to reopen (ratings 1 and 2)"), required=False
    )


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it not solved?"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
