"""Forms of the document screens (the file itself is streamed by ``upload.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dcc.accounts.models import Structure, User
from dcc.documents.choices import Confidentiality
from dcc.documents.services import Metadata
from dcc.interop.terminology import value_sets


def type_choices() -> list[Any]:
    """Oncology document types first, then every CI-SIS type (JDV_J07)."""
    first = [
        (code, concept.display)
        for code in value_sets.ONCOLOGY_DOCUMENT_TYPES
        if (concept := value_sets.document_type(code)) is not None
    ]
    taken = {code for code, _ in first}
    others = sorted(
        ((c.code, c.display) for c in value_sets.document_types() if c.code not in taken),
        key=lambda pair: pair[1].casefold(),
    )
    return [
        ("", _("— Choisir —")),
        (_("Documents de cancérologie"), first),
        (_("Autres types"), others),
    ]


class DocumentForm(forms.Form):
    # Shown and validated by the view (the content streams through ``upload.py``).
    file = forms.FileField(
        label=_("Fichier"),
        required=False,
        help_text=_("PDF, document CDA (XML), image JPEG ou PNG, ou texte."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".pdf,.xml,.jpg,.jpeg,.png,.txt,application/pdf,text/xml,image/jpeg,image/png,text/plain"
            }
        ),
    )
    type_code = forms.ChoiceField(label=_("Type de document"), choices=())
    title = forms.CharField(label=_("Titre"), max_length=255)
    act_date = forms.DateField(
        label=_("Date de l'acte"),
        # <input type="date"> takes ISO dates only, whatever the language of the page.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    author = forms.ModelChoiceField(
        label=_("Auteur"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("— Auteur hors DCC (à préciser ci-dessous) —"),
    )
    author_label = forms.CharField(
        label=_("Auteur hors DCC"),
        max_length=200,
        required=False,
        help_text=_("Par exemple : Dr Marie Durand, laboratoire d'anatomopathologie Pasteur."),
    )
    structure = forms.ModelChoiceField(
        label=_("Structure"), queryset=Structure.objects.none(), required=False
    )
    confidentiality = forms.ChoiceField(
        label=_("Confidentialité"),
        choices=Confidentiality.choices,
        initial=Confidentiality.NORMAL,
        help_text=_(
            "Restreinte : pas les participants de RCP hors équipe. Très restreinte : l'auteur, "
            "l'équipe de soins nommée et le médecin traitant seulement."
        ),
    )
    hidden_from_patient = forms.BooleanField(label=_("Masqué au patient"), required=False)

    def __init__(
        self,
        data: Any = None,
        *,
        authors: Any = None,
        structures: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self.fields["type_code"].choices = type_choices()  # type: ignore[attr-defined]
        if authors is not None:
            self.fields["author"].queryset = authors  # type: ignore[attr-defined]
        if structures is not None:
            self.fields["structure"].queryset = structures  # type: ignore[attr-defined]

    def clean_act_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["act_date"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("La date de l'acte ne peut pas être dans le futur."))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("author") and not (cleaned.get("author_label") or "").strip():
            self.add_error("author_label", _("Indiquez l'auteur du document."))
        return cleaned

    def metadata(self) -> Metadata:
        data = self.cleaned_data
        return Metadata(
            type_code=data["type_code"],
            title=data["title"],
            act_date=data["act_date"],
            author=data.get("author"),
            author_label=data.get("author_label") or "",
            structure=data.get("structure"),
            confidentiality=data["confidentiality"],
            hidden_from_patient=bool(data.get("hidden_from_patient")),
        )

    def add_service_errors(self, error: Any) -> None:
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                target = field if field in self.fields else None
                for message in messages:
                    self.add_error(target, message)
        else:
            for message in error.messages:
                self.add_error(None, message)


class ReplaceForm(DocumentForm):
    reason = forms.CharField(
        label=_("Motif de la nouvelle version"),
        max_length=300,
        min_length=5,
        help_text=_("Par exemple : compte rendu complété après relecture."),
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif de l'annulation"),
        max_length=300,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Le document reste dans le dossier, marqué annulé avec ce motif."),
    )


class FilterForm(forms.Form):
    type = forms.ChoiceField(label=_("Type"), required=False, choices=())
    author = forms.UUIDField(required=False, widget=forms.HiddenInput)
    structure = forms.UUIDField(required=False, widget=forms.HiddenInput)
    since = forms.DateField(
        label=_("Depuis le"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=_("Jusqu'au"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    cancelled = forms.BooleanField(label=_("Afficher les documents annulés"), required=False)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        choices = type_choices()
        choices[0] = ("", _("Tous les types"))
        self.fields["type"].choices = choices  # type: ignore[attr-defined]
