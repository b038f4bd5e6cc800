"""Clinical documents: one row per version, content encrypted in a blob store.

A document is a *set* of versions sharing ``set_id``; replacing it adds a version, cancelling
it marks the version cancelled with who, when and why. Nothing is ever deleted, and the
content of a version never changes: on both databases triggers refuse ``DELETE`` and any
``UPDATE`` of what a version says (migration 0002); only its status, its patient (when records
are merged) and its confidentiality change, through the services."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dcc.core.models import BaseModel
from dcc.documents.choices import Confidentiality, ContentKind, DocumentStatus


class StoredBlob(BaseModel):
    """The encrypted content of one version, where it is, and how to check and open it.

    ``sha256`` and ``size`` are those of the clear content, checked on every read. The
    content is encrypted with its own data key (AES-256-GCM, in authenticated segments of
    ``segment_size`` bytes); that key is stored only wrapped by the master key ``key_id``
    (``wrapped_key``), which ``dcc documents_rewrap`` re-wraps under a new master key without
    touching the content."""

    store = models.CharField(max_length=8)
    key = models.CharField(max_length=128)
    kind = models.CharField(max_length=8, choices=ContentKind.choices)
    mime_type = models.CharField(max_length=64)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255)
    segment_size = models.PositiveIntegerField()
    nonce_prefix = models.BinaryField(max_length=7)
    key_id = models.CharField(max_length=32)
    wrapped_key = models.BinaryField(max_length=64)
    flags = models.JSONField(default=list, blank=True)

    class Meta:
        # Declared here rather than as ``unique=True`` / ``db_index=True`` on the fields: on
        # PostgreSQL those add a second, ``varchar_pattern_ops`` copy of each index for
        # ``LIKE`` searches no query makes (~150 bytes per document at 10 M documents).
        constraints = [models.UniqueConstraint(fields=["key"], name="document_blob_key")]
        indexes = [models.Index(fields=["sha256"], name="document_blob_sha256")]

    def __str__(self) -> str:
        return self.key


class Document(BaseModel):
    """One version of a clinical document of a patient."""

    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, related_name="documents"
    )
    set_id = models.UUIDField(_("identifiant du document"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next_version"
    )
    type_code = models.CharField(_("type de document"), max_length=32)
    class_code = models.CharField(_("classe de document"), max_length=32, blank=True)
    title = models.CharField(_("titre"), max_length=255)
    act_date = models.DateField(_("date de l'acte"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("auteur"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    author_label = models.CharField(_("auteur (hors DCC)"), max_length=200, blank=True)
    structure = models.ForeignKey(
        "accounts.Structure",
        verbose_name=_("structure"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confidentiality = models.CharField(
        _("confidentialité"),
        max_length=1,
        choices=Confidentiality.choices,
        default=Confidentiality.NORMAL,
    )
    hidden_from_patient = models.BooleanField(_("masqué au patient"), default=False)
    blob = models.OneToOneField(StoredBlob, on_delete=models.PROTECT, related_name="document")
    version_reason = models.CharField(_("motif de la nouvelle version"), max_length=300, blank=True)
    status = models.CharField(
        _("statut"), max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.CURRENT
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancel_reason = models.CharField(_("motif d'annulation"), max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["set_id", "version"], name="document_set_version"),
            models.CheckConstraint(condition=Q(version__gte=1), name="document_version_positive"),
            models.CheckConstraint(
                condition=Q(status="cancelled", cancelled_at__isnull=False)
                | (~Q(status="cancelled") & Q(cancelled_at__isnull=True)),
                name="document_cancellation_complete",
            ),
        ]
        indexes = [
            # The record's timeline: a patient's documents, newest act first.
            models.Index(fields=["patient", "-act_date", "-id"], name="document_timeline_idx"),
            models.Index(fields=["set_id"], name="document_set_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    @property
    def is_cancelled(self) -> bool:
        return self.status == DocumentStatus.CANCELLED
