"""E-mails announcing notifications, sent by the task worker after the action committed."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django_tasks import task

from dcc.core.tasks import runs_as_actor
from dcc.notifications.models import Notification
from dcc.notifications.services import email_message

logger = logging.getLogger(__name__)


@task()
@runs_as_actor
def send_notification_email(notification_uuid: str) -> bool:
    """Tell the recipient a notification waits for them; nothing of its content goes out.

    Skipped when the notification was read in the meantime or the account was deactivated."""
    notification = (
        Notification.objects.select_related("recipient").filter(uuid=notification_uuid).first()
    )
    if notification is None or notification.read_at is not None:
        return False
    recipient = notification.recipient
    if not recipient.is_active or not recipient.email:
        return False
    subject, body = email_message()
    send_mail(subject, body, None, [recipient.email])
    logger.info("notification e-mail sent for %s", notification.uuid)
    return True
