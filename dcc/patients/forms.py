"""Patient forms: French labels, validated before any service is called."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from dcc.accounts.forms import set_choices
from dcc.accounts.models import Structure
from dcc.audit.forms import DateInput
from dcc.patients.choices import IdentityEvidence, IdentityStatus, InsKind, Sex
from dcc.patients.services import CONTACT_FIELDS, Contact, Identity


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


class IdentityForm(forms.Form):
    """The identity as typed from the identity document and the INSi answer. Field checks
    beyond "present and well-formed" are the service's (one set of rules for screens, APIs
    and HL7 intake)."""

    birth_name = forms.CharField(label=_("Nom de naissance"), max_length=100)
    birth_first_names = forms.CharField(
        label=_("Prénoms de naissance"),
        max_length=200,
        help_text=_(
            "Tous les prénoms de l'acte de naissance, dans l'ordre, séparés par un espace."
        ),
    )
    used_name = forms.CharField(label=_("Nom utilisé"), max_length=100, required=False)
    used_first_name = forms.CharField(label=_("Prénom utilisé"), max_length=100, required=False)
    sex = forms.ChoiceField(label=_("Sexe"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("Date de naissance"), widget=DateInput)
    birth_place_code = forms.CharField(
        label=_("Lieu de naissance (code INSEE)"),
        max_length=5,
        min_length=5,
        help_text=_("Code INSEE de la commune de naissance, ou 99 suivi du code du pays."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    ins_matricule = forms.CharField(
        label=_("Matricule INS"),
        max_length=21,
        required=False,
        help_text=_("15 caractères (NIR ou NIA), tel que renvoyé par le téléservice INSi."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    ins_kind = forms.ChoiceField(
        label=_("Type d'INS"), choices=[("", "—"), *InsKind.choices], required=False
    )
    identity_status = forms.ChoiceField(
        label=_("Statut de l'identité"),
        choices=IdentityStatus.choices,
        initial=IdentityStatus.PROVISIONAL,
    )
    identity_evidence = forms.ChoiceField(
        label=_("Pièce d'identité contrôlée"),
        choices=[("", "—"), *IdentityEvidence.choices],
        required=False,
    )

    def identity(self) -> Identity:
        data = self.cleaned_data
        return Identity(
            birth_name=data["birth_name"],
            birth_first_names=data["birth_first_names"],
            sex=data["sex"],
            birth_date=data["birth_date"],
            birth_place_code=data["birth_place_code"],
            used_name=data["used_name"],
            used_first_name=data["used_first_name"],
            ins_matricule=data["ins_matricule"],
            ins_kind=data["ins_kind"],
            identity_status=data["identity_status"],
            identity_evidence=data["identity_evidence"],
        )

    def add_service_errors(self, error: ValidationError) -> None:
        """Show the service's errors on the fields they name (the others on the form)."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


class RegistrationForm(IdentityForm):
    structure = forms.ChoiceField(label=_("Structure d'enregistrement"))
    ipp = forms.CharField(
        label=_("IPP (numéro de patient de l'établissement)"), max_length=64, required=False
    )
    not_a_duplicate = forms.BooleanField(
        label=_(
            "J'ai vérifié les dossiers ressemblants : il s'agit d'un autre patient, "
            "je crée un nouveau dossier."
        ),
        required=False,
    )

    field_order = ["structure", "ipp"]

    def __init__(self, *args: Any, structures: list[Structure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.structures = {str(s.uuid): s for s in structures}
        set_choices(self, "structure", [(str(s.uuid), s.name) for s in structures])

    def chosen_structure(self) -> Structure:
        return self.structures[self.cleaned_data["structure"]]


class IdentityChangeForm(IdentityForm):
    reason = forms.CharField(
        label=_("Motif de la modification"),
        max_length=300,
        help_text=_(
            "Par exemple : erreur de saisie corrigée sur présentation de la carte d'identité."
        ),
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Motif"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class MergeForm(forms.Form):
    other = forms.UUIDField(widget=forms.HiddenInput)
    keep = forms.ChoiceField(
        label=_("Dossier à conserver"),
        choices=[("this", _("Ce dossier")), ("other", _("L'autre dossier"))],
        widget=forms.RadioSelect,
        initial="this",
    )
    reason = forms.CharField(
        label=_("Motif de la fusion"),
        max_length=300,
        help_text=_("Ce qui prouve qu'il s'agit du même patient (INS, pièce d'identité…)."),
    )


class CareTeamAddForm(forms.Form):
    rpps = forms.CharField(
        label=_("RPPS du professionnel"),
        max_length=11,
        min_length=11,
        help_text=_("Le numéro RPPS à 11 chiffres du professionnel à ajouter à l'équipe de soins."),
    )

    def clean_rpps(self) -> str:
        value: str = self.cleaned_data["rpps"].strip()
        if not value.isdigit():
            raise forms.ValidationError(_("Le RPPS comporte 11 chiffres."))
        return value


class EmergencyForm(forms.Form):
    """Break-glass: who (exact identity), why, and proof that it is really the user."""

    ins_matricule = forms.CharField(
        label=_("Matricule INS"),
        max_length=21,
        required=False,
        help_text=_(
            "Le plus sûr. À défaut, nom de naissance, premier prénom et date de naissance."
        ),
    )
    birth_name = forms.CharField(label=_("Nom de naissance"), max_length=100, required=False)
    first_name = forms.CharField(label=_("Premier prénom"), max_length=100, required=False)
    birth_date = forms.DateField(label=_("Date de naissance"), required=False, widget=DateInput)
    reason = forms.CharField(
        label=_("Motif de l'urgence"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Au moins 20 caractères. Ce motif est conservé, montré au patient sur demande et "
            "communiqué à ses médecins."
        ),
    )
    otp_token = forms.CharField(
        label=_("Code à usage unique"),
        max_length=8,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_(
            "Confirmez votre identité avec le code de votre application d'authentification."
        ),
    )
    password = forms.CharField(
        label=_("Mot de passe"),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=_(
            "Si vous n'avez pas de second facteur, confirmez votre identité par votre mot de passe."
        ),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("ins_matricule") or "").strip() and not (
            (data.get("birth_name") or "").strip()
            and (data.get("first_name") or "").strip()
            and data.get("birth_date")
        ):
            raise forms.ValidationError(
                _(
                    "Identifiez le patient par son matricule INS, ou par son nom de naissance, "
                    "son premier prénom et sa date de naissance."
                )
            )
        return data


class ContactForm(forms.Form):
    address = forms.CharField(
        label=_("Adresse"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )
    postal_code = forms.CharField(label=_("Code postal"), required=False, max_length=10)
    city = forms.CharField(label=_("Commune"), required=False, max_length=100)
    phone = forms.CharField(
        label=_("Téléphone"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    email = forms.EmailField(label=_("Adresse électronique"), required=False)
    gp_rpps = forms.CharField(
        label=_("RPPS du médecin traitant"),
        required=False,
        max_length=11,
        help_text=_("Laissez vide si le patient n'a pas de médecin traitant inscrit au DCC."),
    )

    def contact(self) -> Contact:
        data = self.cleaned_data
        return Contact(**{name: data[name] for name in CONTACT_FIELDS})
