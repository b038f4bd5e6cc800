"""Patient forms: French labels, validated before any service is called."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from dcc.audit.forms import DateInput


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Nom, INS ou IPP"),
        required=False,
        max_length=100,
        help_text=_(
            "Début du nom de naissance ou d'usage (sans accents ni majuscules nécessaires), "
            "matricule INS à 15 caractères ou numéro de patient de l'établissement (IPP)."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    naissance = forms.DateField(label=_("Date de naissance"), required=False, widget=DateInput)
    page = forms.IntegerField(required=False, min_value=1, max_value=1000, widget=forms.HiddenInput)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if not (data.get("q") or "").strip() and not data.get("naissance"):
            # An empty search shows the empty form, not an error.
            data["empty"] = True
        return data
