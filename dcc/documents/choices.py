"""Code lists of the documents app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentStatus(models.TextChoices):
    CURRENT = "current", _("En vigueur")
    REPLACED = "replaced", _("Remplacé par une version ultérieure")
    CANCELLED = "cancelled", _("Annulé")


class Confidentiality(models.TextChoices):
    """XDS confidentialityCode (JDV_J08, HL7 Confidentiality 2.16.840.1.113883.5.25)."""

    NORMAL = "N", _("Normale")
    RESTRICTED = "R", _("Restreinte")
    VERY_RESTRICTED = "V", _("Très restreinte")


class ContentKind(models.TextChoices):
    """What the content was found to be (by its bytes, never by its name)."""

    PDF = "pdf", _("PDF")
    CDA = "cda", _("Document CDA R2 (XML)")
    JPEG = "jpeg", _("Image JPEG")
    PNG = "png", _("Image PNG")
    TEXT = "text", _("Texte")


# XDS formatCode / MIME type of each kind, as a DMP submission would declare it.
MIME_TYPES = {
    ContentKind.PDF: "application/pdf",
    ContentKind.CDA: "text/xml",
    ContentKind.JPEG: "image/jpeg",
    ContentKind.PNG: "image/png",
    ContentKind.TEXT: "text/plain",
}
