"""Sending notifications and marking them read.

``notify`` writes the notifications and their audit events in the caller's transaction, so
they exist exactly when the action that caused them does; the e-mail that announces each one
is a task written in that same transaction (on a queue outside the database: enqueued after
the commit), so a rolled-back action mails no one, and says nothing but that a notification
is waiting: no patient, no title, no reason."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dcc.accounts.models import User
from dcc.accounts.selectors import actor_of
from dcc.audit.choices import Action
from dcc.audit.services import record_event
from dcc.core.context import Actor, current_actor
from dcc.core.tasks import actor_payload
from dcc.notifications import permissions, selectors
from dcc.notifications.choices import EMAIL_MANDATORY, NotificationKind
from dcc.notifications.models import EmailPreference, Notification
from dcc.patients.models import EmergencyAccess, Patient

TITLE_MAX = 200


def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    title: str,
    body: str = "",
    link: str = "",
    patient: Patient | None = None,
    actor: Actor | None = None,
) -> list[Notification]:
    """Notify each active recipient once, in the caller's transaction, and queue their e-mails.

    ``title`` must name nothing the recipients may not see in the DCC; ``link`` is a path in
    the DCC."""
    if kind not in NotificationKind.values:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    if link and (not link.startswith("/") or link.startswith("//")):
        raise ValueError("A notification links to a path of the DCC only.")
    title = " ".join(title.split())
    if not title:
        raise ValueError("A notification needs a title.")
    who = actor or current_actor()
    unique: dict[int, User] = {}
    for user in recipients:
        if user.is_active:
            unique.setdefault(user.pk, user)
    if not unique:
        return []
    # No savepoint of its own inside the caller's transaction: a failure here fails the
    # action that caused it, which rolls back whole (a savepoint would cost two statements).
    with transaction.atomic(savepoint=False):
        created = Notification.objects.bulk_create(
            Notification(
                recipient=user,
                kind=kind,
                patient=patient,
                title=title[:TITLE_MAX],
                body=body,
                link=link,
            )
            for user in unique.values()
        )
        for notification, user in zip(created, unique.values(), strict=True):
            record_event(
                actor=who,
                action=Action.NOTIFICATION_SENT,
                patient_ref=str(patient.uuid) if patient else "",
                resource_type="Notification",
                resource_id=str(notification.uuid),
                details={"kind": kind, "recipient": str(user.uuid)},
            )
        if created:
            payload = actor_payload(who)
            uuids = [str(notification.uuid) for notification in created]
            if _queue_in_transaction():
                _enqueue_emails(payload, uuids)
            else:
                # robust: the action is committed; a queue failure must not turn it into an
                # error.
                transaction.on_commit(lambda: _enqueue_emails(payload, uuids), robust=True)
    return created


def _queue_in_transaction() -> bool:
    """Whether the e-mail tasks are rows of the database the action writes to (the
    ``django-tasks-db`` backend, the default): they are then written in the action's own
    transaction, with the notifications they announce — both or neither, and no commit of
    their own. Another queue is only told after the commit."""
    from django.db import router
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    from dcc.notifications.tasks import send_notification_email

    return isinstance(send_notification_email.get_backend(), DatabaseBackend) and (
        router.db_for_write(DBTaskResult) == router.db_for_write(Notification)
    )


def _enqueue_emails(payload: dict[str, str], uuids: list[str]) -> None:
    from dcc.notifications.tasks import send_notification_email

    for uuid in uuids:
        send_notification_email.enqueue(payload, uuid)


def notify_emergency_access(access: EmergencyAccess) -> list[Notification]:
    """Tell the patient's referring physicians (GP, physicians of the care team) that someone
    outside the team opened the record in an emergency, and why. Call it in the transaction
    that opens the access."""
    patient, opener = access.patient, access.user
    # Stored once for every recipient: written in the platform's language, not the opener's.
    with translation.override(settings.LANGUAGE_CODE):
        title = _("Accès en urgence au dossier de %(patient)s par %(professional)s") % {
            "patient": str(patient),
            "professional": opener.full_name,
        }
    return notify(
        recipients=selectors.emergency_access_recipients(access),
        kind=NotificationKind.EMERGENCY_ACCESS,
        title=title,
        body=access.reason,
        link=reverse("patients:record", args=[patient.uuid]),
        patient=patient,
        actor=dataclasses.replace(actor_of(opener), purpose="emergency"),
    )


def mark_read(*, actor: User, notification: Notification) -> Notification:
    """Mark one of the actor's notifications read (already read: unchanged)."""
    if not permissions.can_mark_read(actor, notification):
        raise PermissionDenied(_("Cette notification ne vous est pas adressée."))
    with transaction.atomic():
        updated = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=timezone.now(), updated_at=timezone.now()
        )
    if updated:
        notification.refresh_from_db(fields=["read_at", "updated_at"])
    return notification


def mark_all_read(*, actor: User) -> int:
    """Mark read every notification the actor can see in their list; returns how many."""
    now = timezone.now()
    with transaction.atomic():
        return (
            selectors.notifications_for(actor)
            .filter(read_at__isnull=True)
            .update(read_at=now, updated_at=now)
        )


def set_email_preferences(*, actor: User, by_email: dict[str, bool]) -> dict[str, bool]:
    """Record which kinds of notification the actor wants announced by e-mail; kinds not
    named keep their setting, mandatory kinds cannot be turned off. Returns what changed."""
    unknown = set(by_email) - set(NotificationKind.values)
    if unknown:
        raise ValueError(f"Unknown notification kinds: {sorted(unknown)}.")
    refused = [kind for kind, wanted in by_email.items() if kind in EMAIL_MANDATORY and not wanted]
    if refused:
        raise PermissionDenied(
            _(
                "Les accès en urgence aux dossiers de vos patients vous sont toujours signalés par e-mail."
            )
        )
    with transaction.atomic():
        current = selectors.email_preferences(actor)
        changed = {
            str(kind): wanted
            for kind, wanted in by_email.items()
            if kind not in EMAIL_MANDATORY and current[kind] != wanted
        }
        for kind, wanted in changed.items():
            EmailPreference.objects.update_or_create(
                user=actor, kind=kind, defaults={"by_email": wanted}
            )
        if changed:
            record_event(
                actor=actor_of(actor),
                action=Action.NOTIFICATION_PREFERENCES_CHANGED,
                resource_type="User",
                resource_id=str(actor.uuid),
                details={"by_email": changed},
            )
    return changed


def email_message() -> tuple[str, str]:
    """Subject and body of the e-mail announcing a notification: deliberately content-free."""
    url = settings.SITE_URL.rstrip("/") + reverse("notifications:list")
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("DCC : une nouvelle notification vous attend")
        body = "\n\n".join(
            [
                _("Bonjour,"),
                _(
                    "Une nouvelle notification vous attend dans le DCC : connectez-vous pour la consulter."
                ),
                url,
                _("Ce message ne contient aucune information sur les patients ; n'y répondez pas."),
            ]
        )
    return subject, body + "\n"
