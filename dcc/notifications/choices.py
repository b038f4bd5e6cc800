"""What a notification is about."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    EMERGENCY_ACCESS = "emergency_access", _("Accès en urgence au dossier d'un patient")
    DOCUMENT_ADDED = "document_added", _("Nouveau document dans le dossier d'un patient")
