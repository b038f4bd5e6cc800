"""The e-mail preferences form. Marking notifications read is a bare POST (CSRF-protected)
without input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dcc.notifications.choices import EMAIL_MANDATORY, NotificationKind


class EmailPreferencesForm(forms.Form):
    """One checkbox per kind of notification: "also tell me by e-mail". Mandatory kinds are
    shown checked and disabled (a disabled field keeps its initial value whatever is posted)."""

    def __init__(self, *args: Any, current: dict[str, bool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in NotificationKind:
            mandatory = kind in EMAIL_MANDATORY
            self.fields[kind.value] = forms.BooleanField(
                label=kind.label,
                required=False,
                initial=current[kind.value],
                disabled=mandatory,
                help_text=_("Toujours envoyé : exigé par la politique de sécurité.")
                if mandatory
                else "",
            )

    def by_email(self) -> dict[str, bool]:
        return {
            kind: bool(self.cleaned_data[kind])
            for kind in NotificationKind.values
            if kind not in EMAIL_MANDATORY
        }
