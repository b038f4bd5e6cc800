"""Notification e-mails go through the task queue to a real SMTP server (aiosmtpd, started by
the tests), follow each professional's preference, are grouped while the first call is
unanswered, are retried while the relay refuses for now or cannot be reached, and say nothing
about the patient."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dcc.accounts.models import User
from dcc.audit.models import AuditEvent
from dcc.notifications import selectors, services
from dcc.notifications.choices import EmailStatus, NotificationKind
from dcc.notifications.models import EmailPreference, Notification
from dcc.notifications.tests.conftest import REASON
from dcc.notifications.tests.smtp_server import SmtpServer
from dcc.patients.models import Patient

pytestmark = pytest.mark.django_db(transaction=True)

SECRETS = ("garnier", "louis", "1944", "compte rendu", "anatomopathologique", REASON.lower())


def document_added(patient: Patient, *recipients: User) -> list[Notification]:
    return services.notify(
        recipients=recipients,
        kind=NotificationKind.DOCUMENT_ADDED,
        title=f"Compte rendu anatomopathologique ajouté au dossier de {patient}",
        link=reverse("patients:record", args=[patient.uuid]),
        patient=patient,
    )


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


def state(notification: Notification) -> tuple[str, int]:
    notification.refresh_from_db()
    return notification.email_status, notification.email_attempts


def test_a_new_document_is_announced_by_an_e_mail_that_carries_only_a_link(
    smtp_server: SmtpServer, patient: Patient, oncologist: User, nurse: User
) -> None:
    first, second = document_added(patient, oncologist, nurse)
    assert smtp_server.received == []  # the action only enqueues: the worker sends
    run_worker()
    assert sorted(r.recipients[0] for r in smtp_server.received) == sorted(
        [oncologist.email, nurse.email]
    )
    for received in smtp_server.received:
        assert received.sender == "dcc@chu.test"
        assert received.message.get_content_type() == "text/plain"
        assert "https://dcc.chu.test/notifications/" in received.text
        for secret in SECRETS:
            assert secret not in received.text.lower(), secret
    assert state(first) == state(second) == (EmailStatus.SENT, 1)
    assert first.emailed_at is not None
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_a_professional_who_turned_document_e_mails_off_gets_none(
    smtp_server: SmtpServer, patient: Patient, oncologist: User, nurse: User
) -> None:
    services.set_email_preferences(actor=nurse, by_email={NotificationKind.DOCUMENT_ADDED: False})
    for_oncologist, for_nurse = document_added(patient, oncologist, nurse)
    run_worker()
    assert [r.recipients for r in smtp_server.received] == [[oncologist.email]]
    assert state(for_nurse) == (EmailStatus.NOT_WANTED, 0)
    assert Notification.objects.get(pk=for_nurse.pk).is_unread  # still shown in the DCC


def test_emergency_accesses_are_e_mailed_whatever_the_preference(
    smtp_server: SmtpServer, break_glass: Any, oncologist: User, gp: User
) -> None:
    with pytest.raises(PermissionDenied):
        services.set_email_preferences(
            actor=oncologist, by_email={NotificationKind.EMERGENCY_ACCESS: False}
        )
    # Even a row written behind the service's back is ignored.
    EmailPreference.objects.create(
        user=oncologist, kind=NotificationKind.EMERGENCY_ACCESS, by_email=False
    )
    assert selectors.email_preferences(oncologist)[NotificationKind.EMERGENCY_ACCESS]
    break_glass()
    run_worker()
    assert sorted(r.recipients[0] for r in smtp_server.received) == sorted(
        [oncologist.email, gp.email]
    )


def test_one_e_mail_calls_the_professional_until_they_log_in_again(
    smtp_server: SmtpServer, patient: Patient, oncologist: User
) -> None:
    (first,) = document_added(patient, oncologist)
    run_worker()
    (second,) = document_added(patient, oncologist)
    run_worker()
    assert len(smtp_server.received) == 1
    assert state(second) == (EmailStatus.GROUPED, 0)
    # Once they have logged in, the next new document calls them again.
    User.objects.filter(pk=oncologist.pk).update(last_login=timezone.now())
    (third,) = document_added(patient, oncologist)
    run_worker()
    assert len(smtp_server.received) == 2
    assert state(third) == (EmailStatus.SENT, 1)
    # An e-mailed notification read since does not hold back the next one either.
    services.mark_read(actor=oncologist, notification=third)
    services.mark_read(actor=oncologist, notification=first)
    (fourth,) = document_added(patient, oncologist)
    run_worker()
    assert state(fourth) == (EmailStatus.SENT, 1)


def test_the_first_call_expires_after_a_day(
    smtp_server: SmtpServer, patient: Patient, oncologist: User
) -> None:
    (first,) = document_added(patient, oncologist)
    run_worker()
    Notification.objects.filter(pk=first.pk).update(
        emailed_at=timezone.now() - dt.timedelta(hours=25)
    )
    (second,) = document_added(patient, oncologist)
    run_worker()
    assert state(second) == (EmailStatus.SENT, 1)


def test_a_temporary_refusal_is_retried_later(
    smtp_server: SmtpServer, patient: Patient, oncologist: User, settings: Any
) -> None:
    settings.NOTIFICATION_EMAIL_RETRY_SECONDS = 600
    smtp_server.handler.refusals = ["451 4.3.0 Mailbox temporarily unavailable"]
    (notification,) = document_added(patient, oncologist)
    before = timezone.now()
    run_worker()
    assert smtp_server.received == []
    assert state(notification) == (EmailStatus.RETRYING, 1)
    retry = DBTaskResult.objects.get(status="READY")
    assert retry.args_kwargs["args"][1:] == [str(notification.uuid), 2]
    assert retry.run_after >= before + dt.timedelta(seconds=600)
    run_worker()  # not due yet
    assert smtp_server.received == []
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
    run_worker()
    assert [r.recipients for r in smtp_server.received] == [[oncologist.email]]
    assert state(notification) == (EmailStatus.SENT, 2)


def test_an_unreachable_relay_is_retried_then_the_failure_is_traced(
    smtp_server: SmtpServer,
    patient: Patient,
    oncologist: User,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.NOTIFICATION_EMAIL_RETRY_SECONDS = 0
    settings.NOTIFICATION_EMAIL_ATTEMPTS = 3
    smtp_server.stop()
    (notification,) = document_added(patient, oncologist)
    with caplog.at_level(logging.INFO, logger="dcc.notifications"):
        run_worker()  # the retries are due at once: the batch runs all three attempts
    assert state(notification) == (EmailStatus.FAILED, 3)
    assert DBTaskResult.objects.count() == 3
    event = AuditEvent.objects.get(action="notification.email_failed")
    details = json.loads(event.details) if isinstance(event.details, str) else event.details
    assert details["attempts"] == 3
    assert details["recipient"] == str(oncologist.uuid)
    assert not details["permanent"]
    assert event.outcome == "error"
    logged = caplog.text.lower()
    assert "failed for good" in logged
    for secret in (*SECRETS, oncologist.email.lower()):
        assert secret not in logged, secret


def test_the_relay_coming_back_delivers_the_waiting_e_mail(
    smtp_server: SmtpServer, patient: Patient, oncologist: User, settings: Any
) -> None:
    settings.NOTIFICATION_EMAIL_RETRY_SECONDS = 3600
    smtp_server.stop()
    (notification,) = document_added(patient, oncologist)
    run_worker()
    assert state(notification) == (EmailStatus.RETRYING, 1)
    smtp_server.start()
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    run_worker()
    assert [r.recipients for r in smtp_server.received] == [[oncologist.email]]
    assert state(notification) == (EmailStatus.SENT, 2)


def test_a_permanent_refusal_is_not_retried(
    smtp_server: SmtpServer, patient: Patient, oncologist: User, settings: Any
) -> None:
    settings.NOTIFICATION_EMAIL_RETRY_SECONDS = 0
    smtp_server.handler.refusals = ["550 5.1.1 No such user"]
    (notification,) = document_added(patient, oncologist)
    run_worker()
    assert state(notification) == (EmailStatus.FAILED, 1)
    assert DBTaskResult.objects.count() == 1
    event = AuditEvent.objects.get(action="notification.email_failed")
    details = json.loads(event.details) if isinstance(event.details, str) else event.details
    assert details["permanent"] is True
    assert details["error"] == "SMTPRecipientsRefused 550"


def test_no_e_mail_about_a_patient_the_recipient_no_longer_sees(
    smtp_server: SmtpServer, patient: Patient, oncologist: User, rcp_secretary: User
) -> None:
    from dcc.patients import services as patients
    from dcc.patients.models import CareTeamMember

    (notification,) = document_added(patient, oncologist)
    patients.remove_from_care_team(
        actor=rcp_secretary, member=CareTeamMember.objects.get(patient=patient, user=oncologist)
    )
    run_worker()
    assert smtp_server.received == []
    assert state(notification) == (EmailStatus.NOT_VISIBLE, 0)


def test_a_duplicate_task_sends_nothing_more(
    smtp_server: SmtpServer, patient: Patient, oncologist: User
) -> None:
    from dcc.core.tasks import actor_payload
    from dcc.notifications.tasks import send_notification_email

    (notification,) = document_added(patient, oncologist)
    run_worker()
    send_notification_email.enqueue(actor_payload(), str(notification.uuid))
    run_worker()
    assert len(smtp_server.received) == 1
    assert state(notification) == (EmailStatus.SENT, 1)
