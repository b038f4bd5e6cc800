"""Password strength rule added to Django's validators."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


class CharacterClassValidator:
    """At least three of: lower-case, upper-case, digit, other character (ANSSI guidance)."""

    def validate(self, password: str, user: object = None) -> None:
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(
                _(
                    "Le mot de passe doit mêler au moins trois types de caractères parmi : "
                    "minuscules, majuscules, chiffres, caractères spéciaux."
                ),
                code="password_character_classes",
            )

    def get_help_text(self) -> str:
        return _(
            "Au moins trois types de caractères parmi minuscules, majuscules, chiffres et "
            "caractères spéciaux."
        )
