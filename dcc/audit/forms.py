"""Filters of the security officers' journal, validated before any query runs."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dcc.audit.choices import Action, Outcome

_RPPS = re.compile(r"^\d{11}$")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        # Browsers send and expect ISO dates; typed French dates (jj/mm/aaaa) are accepted too.
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class JournalFilterForm(forms.Form):
    date_from = forms.DateField(label=_("Du"), required=False, widget=DateInput)
    date_to = forms.DateField(label=_("Au"), required=False, widget=DateInput)
    action = forms.ChoiceField(
        label=_("Action"), required=False, choices=[("", _("Toutes")), *Action.choices]
    )
    outcome = forms.ChoiceField(
        label=_("Résultat"), required=False, choices=[("", _("Tous")), *Outcome.choices]
    )
    actor = forms.CharField(
        label=_("Auteur"),
        required=False,
        max_length=40,
        help_text=_("RPPS (11 chiffres) ou identifiant de l'utilisateur."),
    )
    patient_ref = forms.CharField(label=_("Référence patient"), required=False, max_length=64)
    request_id = forms.CharField(label=_("Identifiant de requête"), required=False, max_length=64)

    def clean_actor(self) -> str:
        value: str = self.cleaned_data["actor"].strip()
        if not value or _RPPS.match(value):
            return value
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise forms.ValidationError(
                _("Saisissez un RPPS (11 chiffres) ou un identifiant d'utilisateur (UUID).")
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("La date de fin précède la date de début."))
        return data

    def active_filters(self) -> dict[str, str]:
        """The filters actually applied, as text (recorded in the audit event of the view)."""
        return {name: str(value) for name, value in self.cleaned_data.items() if value}
