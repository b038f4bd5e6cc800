"""Emergency access is reported to the patient's referring physicians, in-app, and announced
by an e-mail that says nothing about the patient."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, Structure, User
from dcc.audit.models import AuditEvent
from dcc.notifications import selectors, services
from dcc.notifications.choices import NotificationKind
from dcc.notifications.models import Notification
from dcc.notifications.tests.conftest import REASON, member
from dcc.patients import services as patients
from dcc.patients.models import CareTeamMember, EmergencyAccess, Patient


def recipients_of(access: EmergencyAccess) -> set[User]:
    return set(selectors.emergency_access_recipients(access))


@pytest.mark.django_db
def test_the_gp_and_the_care_team_physicians_are_told_of_an_emergency_access(
    break_glass: Any, oncologist: User, gp: User, patient: Patient
) -> None:
    access = break_glass()
    notified = Notification.objects.filter(kind=NotificationKind.EMERGENCY_ACCESS)
    assert {n.recipient for n in notified} == {oncologist, gp}
    for notification in notified:
        assert notification.patient == patient
        assert notification.title == (
            "Accès en urgence au dossier de GARNIER Louis (12/09/1944) par Olivier DEHORS"
        )
        assert notification.body == REASON
        assert notification.link == reverse("patients:record", args=[patient.uuid])
        assert notification.read_at is None
    assert access.reason == REASON


@pytest.mark.django_db
def test_nurses_and_secretaries_of_the_care_team_are_not_told(
    break_glass: Any, nurse: User, rcp_secretary: User, patient: Patient
) -> None:
    assert CareTeamMember.objects.filter(patient=patient, user=nurse).exists()
    assert CareTeamMember.objects.filter(patient=patient, user=rcp_secretary).exists()
    break_glass()
    assert not Notification.objects.filter(recipient__in=[nurse, rcp_secretary]).exists()


@pytest.mark.django_db
def test_a_physician_who_left_the_team_or_lost_the_role_is_not_told(
    break_glass: Any,
    oncologist: User,
    rcp_secretary: User,
    patient: Patient,
    structures: dict[str, Structure],
) -> None:
    former = member(
        "ancien@chu.test", structures["hospital"], Role.PHYSICIAN, first="A", last="Ancien"
    )
    patients.add_to_care_team(actor=rcp_secretary, patient=patient, member=former)
    patients.remove_from_care_team(
        actor=rcp_secretary, member=CareTeamMember.objects.get(patient=patient, user=former)
    )
    Membership.objects.filter(user=oncologist).update(revoked_at=timezone.now())
    break_glass()
    assert set(Notification.objects.values_list("recipient__email", flat=True)) == {
        "generaliste@cabinet.test"
    }


@pytest.mark.django_db
def test_a_gp_also_in_the_care_team_is_told_once(
    break_glass: Any, gp: User, rcp_secretary: User, patient: Patient
) -> None:
    patients.add_to_care_team(actor=rcp_secretary, patient=patient, member=gp)
    break_glass()
    assert Notification.objects.filter(recipient=gp).count() == 1


@pytest.mark.django_db
def test_the_professional_who_opened_the_access_is_never_told(
    oncologist: User, gp: User, patient: Patient
) -> None:
    access = EmergencyAccess(patient=patient, user=gp, reason=REASON, expires_at=timezone.now())
    assert recipients_of(access) == {oncologist}


@pytest.mark.django_db
def test_a_deactivated_physician_is_not_told(break_glass: Any, oncologist: User, gp: User) -> None:
    User.objects.filter(pk=gp.pk).update(is_active=False)
    break_glass()
    assert [n.recipient for n in Notification.objects.all()] == [oncologist]


@pytest.mark.django_db
def test_each_notification_is_audited_with_the_patient_under_the_emergency_purpose(
    break_glass: Any, outsider: User, patient: Patient
) -> None:
    break_glass()
    events = AuditEvent.objects.filter(action="notification.sent")
    assert events.count() == 2
    assert {e.resource_id for e in events} == {str(n.uuid) for n in Notification.objects.all()}
    for event in events:
        assert (event.patient_ref, event.purpose, event.actor_user_id) == (
            str(patient.uuid),
            "emergency",
            str(outsider.uuid),
        )
        assert "garnier" not in event.details.lower()
        assert REASON not in event.details


@pytest.mark.django_db
def test_the_notifications_roll_back_with_the_emergency_access(
    break_glass: Any, patient: Patient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**kwargs: Any) -> None:
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(services, "record_event", fail)
    with pytest.raises(RuntimeError):
        break_glass()
    assert not EmergencyAccess.objects.filter(patient=patient).exists()
    assert not Notification.objects.exists()
    assert not AuditEvent.objects.filter(action="patient.emergency_access_started").exists()


@pytest.mark.django_db(transaction=True)
def test_an_emergency_access_rolled_back_later_leaves_no_notification_and_sends_no_mail(
    break_glass: Any, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with pytest.raises(RuntimeError), transaction.atomic():
        break_glass()
        assert Notification.objects.count() == 2
        raise RuntimeError("the caller failed after opening the access")
    assert not Notification.objects.exists()
    assert not DBTaskResult.objects.exists()
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_mails_each_recipient_without_any_health_data(
    break_glass: Any, oncologist: User, gp: User, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://dcc.example.org/"
    break_glass()
    assert mail.outbox == []  # only once the worker runs
    assert DBTaskResult.objects.count() == 2
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([oncologist.email, gp.email])
    for message in mail.outbox:
        text = f"{message.subject}\n{message.body}".lower()
        for secret in ("garnier", "louis", "1944", "urgence", "inconscient", "dehors", REASON):
            assert secret.lower() not in text, secret
        assert "connectez-vous pour la consulter" in message.body
        assert "https://dcc.example.org/notifications/" in message.body
        assert not getattr(message, "alternatives", None)  # plain text only
        assert not message.attachments
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


@pytest.mark.django_db(transaction=True)
def test_no_mail_goes_out_for_a_notification_read_before_the_worker_ran(
    break_glass: Any, oncologist: User, gp: User, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    break_glass()
    services.mark_read(actor=gp, notification=Notification.objects.get(recipient=gp))
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert [m.to for m in mail.outbox] == [[oncologist.email]]


@pytest.mark.django_db
def test_a_notification_links_only_inside_the_dcc(oncologist: User) -> None:
    for link in ("https://ailleurs.test/", "//ailleurs.test/x", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            services.notify(
                recipients=[oncologist],
                kind=NotificationKind.EMERGENCY_ACCESS,
                title="Titre",
                link=link,
            )
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_marking_read_is_for_the_recipient_only(oncologist: User, outsider: User) -> None:
    [notification] = services.notify(
        recipients=[oncologist, oncologist], kind=NotificationKind.EMERGENCY_ACCESS, title="T"
    )  # the same recipient twice is notified once
    with pytest.raises(PermissionDenied):
        services.mark_read(actor=outsider, notification=notification)
    notification.refresh_from_db()
    assert notification.read_at is None
    services.mark_read(actor=oncologist, notification=notification)
    assert notification.read_at is not None


@pytest.mark.django_db
def test_the_rows_of_one_notification_are_written_in_one_statement(
    oncologist: User, gp: User, nurse: User, patient: Patient
) -> None:
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        created = services.notify(
            recipients=[oncologist, gp, nurse, gp],
            kind=NotificationKind.DOCUMENT_ADDED,
            title="Nouveau document : compte rendu",
            link="/",
            patient=patient,
        )
    statements = [query["sql"] for query in captured.captured_queries]
    # One insert for the rows, one audit event and one e-mail task each, no savepoint in the
    # caller's transaction.
    assert [sql.split()[2].strip('"') for sql in statements] == [
        "notifications_notification",
        *["audit_auditevent"] * 3,
        *["django_tasks_database_dbtaskresult"] * 3,
    ], statements
    assert [n.pk for n in created] == list(
        Notification.objects.order_by("id").values_list("pk", flat=True)
    )
    assert [n.recipient for n in Notification.objects.order_by("id")] == [oncologist, gp, nurse]
    events = AuditEvent.objects.filter(action="notification.sent").order_by("id")
    assert [e.resource_id for e in events] == [str(n.uuid) for n in created]


@pytest.mark.django_db(transaction=True)
def test_the_e_mail_tasks_are_written_in_the_actions_own_transaction(break_glass: Any) -> None:
    with transaction.atomic():
        break_glass()
        # Written with the notifications, before the commit: no commit of their own.
        assert DBTaskResult.objects.count() == 2
    assert DBTaskResult.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_queue_outside_the_database_is_told_only_after_the_commit(
    break_glass: Any, settings: Any
) -> None:
    from django_tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    with transaction.atomic():
        break_glass()
        assert Notification.objects.count() == 2
        assert default_task_backend.results == []  # type: ignore[attr-defined]
    assert len(default_task_backend.results) == 2  # type: ignore[attr-defined]
    assert not DBTaskResult.objects.exists()
