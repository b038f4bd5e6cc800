"""What a notification is about, and what became of the e-mail announcing it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    EMERGENCY_ACCESS = "emergency_access", _("Accès en urgence au dossier d'un patient")
    DOCUMENT_ADDED = "document_added", _("Nouveau document dans le dossier d'un patient")


# Kinds always announced by e-mail, whatever the recipient's preference: an emergency access
# to a patient's record must reach the referring physicians even when they are not logged in
# (security requirement C4). Every other kind follows the recipient's preference.
EMAIL_MANDATORY = frozenset({NotificationKind.EMERGENCY_ACCESS})


class EmailStatus(models.TextChoices):
    """What became of the e-mail announcing a notification, as set by the task worker."""

    PENDING = "pending", _("En attente d'envoi")
    RETRYING = "retrying", _("Nouvel essai prévu")
    SENT = "sent", _("Envoyé")
    GROUPED = "grouped", _("Regroupé avec un e-mail déjà envoyé")
    NOT_WANTED = "not_wanted", _("Non souhaité par le destinataire")
    READ_FIRST = "read_first", _("Lue avant l'envoi")
    NO_ADDRESS = "no_address", _("Destinataire sans adresse ou inactif")
    NOT_VISIBLE = "not_visible", _("Patient plus visible du destinataire")
    FAILED = "failed", _("Échec de l'envoi")
