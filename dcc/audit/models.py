"""The audit trail: one append-only, hash-chained row per traced action."""

from __future__ import annotations

from uuid import uuid4

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dcc.audit.choices import Outcome, Purpose


class AuditEvent(models.Model):
    """Who did or saw what, when, from where, for which patient and why.

    Written in the same transaction as the action it traces (no trace, no action), never
    updated except once, by the sealer, to link it into the chain: ``row_mac`` is an
    HMAC-SHA-256 of the row's content with a key kept outside the database; ``chain_seq`` and
    ``chain_mac`` place it in a single hash chain in the order it was sealed."""

    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(_("date"))
    actor_kind = models.CharField(max_length=16)
    actor_user_id = models.CharField(max_length=36, blank=True)
    actor_rpps = models.CharField(max_length=11, blank=True)
    actor_structure_id = models.CharField(max_length=36, blank=True)
    actor_role = models.CharField(max_length=32, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=64)
    outcome = models.CharField(_("résultat"), max_length=16, choices=Outcome.choices)
    patient_ref = models.CharField(max_length=64, blank=True)
    resource_type = models.CharField(max_length=64, blank=True)
    resource_id = models.CharField(max_length=64, blank=True)
    resource_version = models.CharField(max_length=32, blank=True)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, default=Purpose.NORMAL)
    source_ip = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # Canonical JSON (sorted keys) kept as text: the MAC covers these exact bytes.
    details = models.TextField(blank=True)
    key_id = models.CharField(max_length=16)
    row_mac = models.CharField(max_length=64)
    chain_seq = models.BigIntegerField(null=True, unique=True)
    chain_mac = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["occurred_at"], name="audit_occurred_idx"),
            models.Index(fields=["actor_user_id", "occurred_at"], name="audit_actor_idx"),
            models.Index(fields=["patient_ref", "occurred_at"], name="audit_patient_idx"),
            models.Index(fields=["action", "occurred_at"], name="audit_action_idx"),
            models.Index(
                fields=["id"], condition=Q(chain_seq__isnull=True), name="audit_unsealed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.outcome}"
