"""Notifications: what the DCC tells a professional about their patients."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dcc.core.models import BaseModel
from dcc.notifications.choices import NotificationKind


class Notification(BaseModel):
    """Something a professional must know about one of their patients, such as a colleague
    from outside the care team opening the record in an emergency.

    It is read in the DCC only: the e-mail that announces it carries neither the patient nor
    the title. The title names only what the recipient may already see about the patient; the
    details (the emergency reason) are shown on the notifications page. A notification is
    never deleted: read, it keeps when it was read."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    kind = models.CharField(_("type"), max_length=32, choices=NotificationKind.choices)
    patient = models.ForeignKey(
        "patients.Patient", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("détail"), blank=True)
    link = models.CharField(_("lien"), max_length=300, blank=True)
    read_at = models.DateTimeField(_("lue le"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient_idx"),
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
