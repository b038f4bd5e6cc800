"""HTML forms of the accounts app (French labels, errors tied to fields)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from dcc.accounts.choices import Role, StructureIdType, StructureKind
from dcc.accounts.models import Structure
from dcc.interop.terminology import value_sets


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(name)
    field.choices = choices


class LoginForm(forms.Form):
    email = forms.EmailField(label=_("Adresse électronique"), max_length=254)
    password = forms.CharField(
        label=_("Mot de passe"), strip=False, widget=forms.PasswordInput, max_length=256
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code à 6 chiffres de votre application d'authentification"),
        max_length=8,
        min_length=6,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["token"].widget.attrs.update(
            {
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "pattern": "[0-9 ]*",
            }
        )


class CharterAcceptForm(forms.Form):
    accept = forms.BooleanField(
        label=_("J'ai lu la charte d'utilisation et je m'engage à la respecter."), required=True
    )


class CharterPublishForm(forms.Form):
    title = forms.CharField(label=_("Titre"), max_length=200)
    body = forms.CharField(
        label=_("Texte de la charte"), widget=forms.Textarea(attrs={"rows": 16}), max_length=100_000
    )


def _structure_choices(structures: Any) -> list[tuple[str, str]]:
    return [("", "—")] + [(str(s.uuid), s.name) for s in structures]


class StructureForm(forms.Form):
    name = forms.CharField(label=_("Nom"), max_length=200)
    kind = forms.ChoiceField(label=_("Type de structure"), choices=StructureKind.choices)
    national_id_type = forms.ChoiceField(
        label=_("Type d'identifiant national"), choices=StructureIdType.choices
    )
    national_id = forms.CharField(
        label=_("Identifiant national"),
        max_length=32,
        help_text=_("FINESS : 9 caractères ; SIRET : 14 chiffres."),
    )
    parent = forms.ChoiceField(label=_("Rattachement (réseau, 3C, établissement)"), required=False)
    is_active = forms.BooleanField(label=_("Structure active"), required=False, initial=True)
    shares_registered_patients = forms.BooleanField(
        label=_(
            "Les professionnels de santé de la structure voient tous les patients qui y sont "
            "enregistrés (sinon, seulement ceux de leurs équipes de soins)"
        ),
        required=False,
    )

    def __init__(self, *args: Any, parents: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parents = {str(s.uuid): s for s in parents}
        set_choices(self, "parent", _structure_choices(parents))
        if editing:
            for name in ("national_id_type", "national_id"):
                self.fields[name].disabled = True
                self.fields[name].required = False
        else:
            del self.fields["is_active"]
            del self.fields["shares_registered_patients"]

    def clean_parent(self) -> Structure | None:
        value = self.cleaned_data.get("parent") or ""
        return self.parents.get(value) if value else None


class ProfessionalFields(forms.Form):
    first_name = forms.CharField(label=_("Prénom"), max_length=100)
    last_name = forms.CharField(label=pgettext_lazy("nom de famille", "Nom"), max_length=100)
    rpps = forms.RegexField(
        label=_("RPPS"),
        regex=r"^\d{11}$",
        required=False,
        error_messages={"invalid": _("Le RPPS compte 11 chiffres.")},
        help_text=_("11 chiffres, obligatoire pour les professionnels de santé."),
    )
    profession_code = forms.ChoiceField(label=_("Profession"), required=False)
    specialty_code = forms.ChoiceField(label=_("Spécialité"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "profession_code", [("", "—"), *value_sets.profession_choices()])
        set_choices(self, "specialty_code", [("", "—"), *value_sets.specialty_choices()])


class InvitationForm(ProfessionalFields):
    email = forms.EmailField(label=_("Adresse électronique"), max_length=254)
    structure = forms.ChoiceField(label=_("Structure"))
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices)

    field_order = [
        "email",
        "first_name",
        "last_name",
        "rpps",
        "profession_code",
        "specialty_code",
        "structure",
        "role",
    ]

    def __init__(self, *args: Any, structures: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.structures = {str(s.uuid): s for s in structures}
        set_choices(self, "structure", [(key, s.name) for key, s in self.structures.items()])

    def clean_structure(self) -> Structure:
        value = self.cleaned_data["structure"]
        if value not in self.structures:
            raise forms.ValidationError(_("Structure inconnue."))
        structure: Structure = self.structures[value]
        return structure


class GrantRoleForm(forms.Form):
    structure = forms.ChoiceField(label=_("Structure"))
    role = forms.ChoiceField(label=_("Rôle"), choices=Role.choices)

    def __init__(self, *args: Any, structures: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.structures = {str(s.uuid): s for s in structures}
        set_choices(self, "structure", [(key, s.name) for key, s in self.structures.items()])

    def clean_structure(self) -> Structure:
        value = self.cleaned_data["structure"]
        if value not in self.structures:
            raise forms.ValidationError(_("Structure inconnue."))
        structure: Structure = self.structures[value]
        return structure


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("Mot de passe"), strip=False, widget=forms.PasswordInput, max_length=256
    )
    password2 = forms.CharField(
        label=_("Confirmation du mot de passe"),
        strip=False,
        widget=forms.PasswordInput,
        max_length=256,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
        return data


class ContextForm(forms.Form):
    membership = forms.UUIDField(label=_("Je travaille pour"))
