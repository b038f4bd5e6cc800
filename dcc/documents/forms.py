"""Forms of the document screens (the file itself is streamed by ``upload.py``)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator, normalize_choices
from django.utils.translation import gettext_lazy as _

from dcc.accounts.models import Structure, User
from dcc.documents.choices import Confidentiality
from dcc.documents.services import Metadata
from dcc.interop.terminology import value_sets


def type_choices() -> list[Any]:
    """Oncology document types first, then every CI-SIS type (JDV_J07)."""
    first, others = _type_groups()
    return [
        ("", _("— Choisir —")),
        (_("Documents de cancérologie"), first),
        (_("Autres types"), others),
    ]


class _TypeChoices(BaseChoiceIterator):
    """``type_choices`` normalised once per process: a ``ChoiceField`` given the list would
    normalise its hundred-odd choices again on every form (the labels stay lazy: each page
    still shows them in its language)."""

    def __iter__(self) -> Iterator[Any]:
        return iter(_normalised_types())


@functools.cache
def _normalised_types() -> list[Any]:
    return list(normalize_choices(type_choices()))


@functools.cache
def _type_groups() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Sorted once per process: the value set does not change while it runs."""
    first = tuple(
        (code, concept.display)
        for code in value_sets.ONCOLOGY_DOCUMENT_TYPES
        if (concept := value_sets.document_type(code)) is not None
    )
    taken = {code for code, _ in first}
    others = tuple(
        sorted(
            ((c.code, c.display) for c in value_sets.document_types() if c.code not in taken),
            key=lambda pair: pair[1].casefold(),
        )
    )
    return first, others


class InstanceChoiceField(forms.ChoiceField):
    """A choice among model instances that a callable reads when first needed: all of them
    when the form is shown, once to find the posted key's when it is validated, not at all
    when nothing was chosen. Unlike ``ModelChoiceField``, nothing is built per request: the
    view reads the candidates with a compiled statement. The cleaned value is the instance
    (or None), and a key outside the candidates is refused as by ``ModelChoiceField``."""

    default_error_messages = {
        "invalid_choice": forms.ModelChoiceField.default_error_messages["invalid_choice"],
    }

    def __init__(self, *, empty_label: Any = "---------", **kwargs: Any) -> None:
        super().__init__(choices=(), **kwargs)
        self.empty_label = empty_label
        self._read: Callable[[], Sequence[models.Model]] = tuple
        self._known: dict[str, models.Model] = {}
        self._by_key: dict[str, models.Model] | None = None

    def set_candidates(
        self, read: Callable[[], Sequence[models.Model]], *, known: Sequence[models.Model] = ()
    ) -> None:
        """``read`` returns every candidate; ``known`` are some of them, already at hand: one
        of those, posted, is found without reading."""
        self._read = read
        self._known = {str(instance.pk): instance for instance in known}
        self._by_key = None
        self.choices = self._choices_now

    def _candidates(self) -> dict[str, models.Model]:
        if self._by_key is None:
            self._by_key = {str(instance.pk): instance for instance in self._read()}
        return self._by_key

    def _choices_now(self) -> list[tuple[str, Any]]:
        return [("", self.empty_label)] + [
            (key, str(instance)) for key, instance in self._candidates().items()
        ]

    def to_python(self, value: Any) -> models.Model | None:
        if value in self.empty_values:
            return None
        key = str(value)
        found = self._known.get(key) or self._candidates().get(key)
        if found is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return found

    def validate(self, value: Any) -> None:
        forms.Field.validate(self, value)  # ``to_python`` checked the choice

    def prepare_value(self, value: Any) -> Any:
        return value.pk if isinstance(value, models.Model) else value

    def has_changed(self, initial: Any, data: Any) -> bool:
        if self.disabled:
            return False
        initial = self.prepare_value(initial)
        return str("" if data is None else data) != str("" if initial is None else initial)


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
    type_code = forms.ChoiceField(label=_("Type de document"), choices=_TypeChoices())
    title = forms.CharField(label=_("Titre"), max_length=255)
    act_date = forms.DateField(
        label=_("Date de l'acte"),
        # <input type="date"> takes ISO dates only, whatever the language of the page.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    author = InstanceChoiceField(
        label=_("Auteur"),
        required=False,
        empty_label=_("— Auteur hors DCC (à préciser ci-dessous) —"),
    )
    author_label = forms.CharField(
        label=_("Auteur hors DCC"),
        max_length=200,
        required=False,
        help_text=_("Par exemple : Dr Marie Durand, laboratoire d'anatomopathologie Pasteur."),
    )
    structure = InstanceChoiceField(label=_("Structure"), required=False)
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
        authors: Callable[[], Sequence[User]] | None = None,
        structures: Callable[[], Sequence[Structure]] | None = None,
        user: User | None = None,
        **kwargs: Any,
    ) -> None:
        """``authors`` and ``structures`` read the candidates, when first needed; ``user``, who
        fills in the form, is always one of the authors (most often the one posted)."""
        super().__init__(data, **kwargs)
        if authors is not None:
            known = [user] if user is not None else []
            self.fields["author"].set_candidates(authors, known=known)  # type: ignore[attr-defined]
        if structures is not None:
            self.fields["structure"].set_candidates(structures)  # type: ignore[attr-defined]

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
