"""E-mails announcing notifications, sent by the task worker after the action committed.

One task per notification. The worker decides whether an e-mail is due (the recipient may
have read the notification meanwhile, turned e-mails off for that kind, lost sight of the
patient, or already have an unread e-mailed notification since they last logged in — one
e-mail is enough to bring them back), sends it over SMTP, and records the outcome on the
notification (``email_status``). A refusal the relay calls temporary, or a relay that cannot
be reached, is retried later with a doubling delay (``NOTIFICATION_EMAIL_ATTEMPTS``,
``NOTIFICATION_EMAIL_RETRY_SECONDS``); a permanent refusal or the last failed attempt marks
the e-mail failed and is audited. Neither the e-mail nor the technical log carries anything
about the patient."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from dcc.audit.choices import Action, Outcome
from dcc.audit.services import record_event
from dcc.core.context import current_actor
from dcc.core.tasks import actor_payload, runs_as_actor
from dcc.notifications import selectors
from dcc.notifications.choices import EMAIL_MANDATORY, EmailStatus
from dcc.notifications.models import Notification
from dcc.notifications.services import email_message

logger = logging.getLogger(__name__)

# Do not announce a new notification when one e-mailed less than this long ago is still unread
# and the recipient has not logged in since: they have not yet answered the first call.
GROUPING_WINDOW = dt.timedelta(hours=24)


@task()
@runs_as_actor
def send_notification_email(notification_uuid: str, attempt: int = 1) -> str:
    """Tell the recipient a notification waits for them; nothing of its content goes out.

    Returns the e-mail status the notification ends with (``retrying`` when another attempt
    was enqueued)."""
    notification = (
        Notification.objects.select_related("recipient").filter(uuid=notification_uuid).first()
    )
    if notification is None:
        return "missing"
    if notification.email_status not in (EmailStatus.PENDING, EmailStatus.RETRYING):
        return str(notification.email_status)  # already settled: a duplicate task
    status = _reason_not_to_send(notification)
    if status is not None:
        _record(notification, status, attempt - 1)
        return status
    subject, body = email_message()
    try:
        send_mail(subject, body, None, [notification.recipient.email])
    except (smtplib.SMTPException, OSError) as error:
        return _failed(notification, attempt, error)
    _record(notification, EmailStatus.SENT, attempt)
    logger.info("notification e-mail sent for %s (attempt %d)", notification.uuid, attempt)
    return EmailStatus.SENT


def _reason_not_to_send(notification: Notification) -> str | None:
    """Why no e-mail is due for this notification, or ``None`` when it is."""
    if notification.read_at is not None:
        return EmailStatus.READ_FIRST
    recipient = notification.recipient
    if not recipient.is_active or not recipient.email:
        return EmailStatus.NO_ADDRESS
    if not selectors.notifications_for(recipient).filter(pk=notification.pk).exists():
        return EmailStatus.NOT_VISIBLE
    if notification.kind in EMAIL_MANDATORY:
        return None
    if not selectors.wants_email(recipient, notification.kind):
        return EmailStatus.NOT_WANTED
    since = timezone.now() - GROUPING_WINDOW
    if recipient.last_login is not None and recipient.last_login > since:
        since = recipient.last_login
    already_called = (
        Notification.objects.filter(
            recipient=recipient,
            read_at__isnull=True,
            email_status=EmailStatus.SENT,
            emailed_at__gt=since,
        )
        .exclude(pk=notification.pk)
        .exists()
    )
    return EmailStatus.GROUPED if already_called else None


def _failed(notification: Notification, attempt: int, error: Exception) -> str:
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [answer[0] for answer in error.recipients.values()]
        code = min(codes) if codes else None
    # 5xx is final, except a refused login, which the operator can put right in time.
    permanent = (
        isinstance(code, int)
        and code >= 500
        and not isinstance(error, smtplib.SMTPAuthenticationError)
    )
    what = f"{type(error).__name__}{f' {code}' if code else ''}"
    if permanent or attempt >= settings.NOTIFICATION_EMAIL_ATTEMPTS:
        with transaction.atomic():
            _record(notification, EmailStatus.FAILED, attempt)
            record_event(
                action=Action.NOTIFICATION_EMAIL_FAILED,
                outcome=Outcome.ERROR,
                resource_type="Notification",
                resource_id=str(notification.uuid),
                details={
                    "recipient": str(notification.recipient.uuid),
                    "attempts": attempt,
                    "error": what,
                    "permanent": permanent,
                },
            )
        logger.warning(
            "notification e-mail for %s failed for good after %d attempt(s): %s",
            notification.uuid,
            attempt,
            what,
        )
        return EmailStatus.FAILED
    delay = settings.NOTIFICATION_EMAIL_RETRY_SECONDS * 2 ** (attempt - 1)
    send_notification_email.using(run_after=timezone.now() + dt.timedelta(seconds=delay)).enqueue(
        actor_payload(current_actor()), str(notification.uuid), attempt + 1
    )
    _record(notification, EmailStatus.RETRYING, attempt)
    logger.info(
        "notification e-mail for %s not sent (%s), attempt %d, next in %d s",
        notification.uuid,
        what,
        attempt,
        delay,
    )
    return EmailStatus.RETRYING


def _record(notification: Notification, status: str, attempts: int) -> None:
    now = timezone.now()
    Notification.objects.filter(pk=notification.pk).update(
        email_status=status, email_attempts=attempts, emailed_at=now, updated_at=now
    )
