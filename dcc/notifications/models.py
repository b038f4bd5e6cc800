"""Notifications: what the DCC tells a professional about their patients."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dcc.core.models import BaseModel
from dcc.notifications.choices import EmailStatus, NotificationKind


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
    # Set by the worker that announces the notification by e-mail (never the content).
    email_status = models.CharField(
        _("e-mail"), max_length=16, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    email_attempts = models.PositiveSmallIntegerField(_("essais d'envoi"), default=0)
    emailed_at = models.DateTimeField(_("e-mail traité le"), null=True, blank=True)

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


class EmailPreference(BaseModel):
    """Whether a professional wants an e-mail for one kind of notification. Without a row, they
    do; kinds in ``EMAIL_MANDATORY`` are e-mailed whatever the row says."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="email_preferences"
    )
    kind = models.CharField(_("type"), max_length=32, choices=NotificationKind.choices)
    by_email = models.BooleanField(_("par e-mail"), default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="email_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.by_email}"
