"""The notifications page: one's own notifications, about patients one still sees."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from dcc.accounts.models import User
from dcc.audit.models import AuditEvent
from dcc.notifications import services
from dcc.notifications.choices import NotificationKind
from dcc.notifications.models import Notification
from dcc.notifications.tests.conftest import REASON
from dcc.patients import services as patients
from dcc.patients.models import CareTeamMember, Patient

pytestmark = pytest.mark.django_db

LIST = reverse("notifications:list")
ALL_READ = reverse("notifications:mark_all_read")


def mark_read_url(notification: Notification) -> str:
    return reverse("notifications:mark_read", args=[notification.uuid])


def test_the_page_lists_the_users_notifications_newest_first_unread_marked(
    logged_in: Any, break_glass: Any, oncologist: User
) -> None:
    break_glass()
    services.notify(
        recipients=[oncologist], kind=NotificationKind.EMERGENCY_ACCESS, title="Plus récente"
    )
    client = logged_in(oncologist)
    response = client.get(LIST)
    assert response.status_code == 200
    titles = [n.title for n in response.context["notifications"]]
    assert titles == [
        "Plus récente",
        "Accès en urgence au dossier de GARNIER Louis (12/09/1944) par Olivier DEHORS",
    ]
    page = response.content.decode()
    assert page.count("Non lue<") == 2
    assert REASON.replace("'", "&#x27;") in page
    assert "Notifications (2 non lues)" in page
    record = reverse("patients:record", args=[response.context["notifications"][1].patient.uuid])
    assert f'href="{record}"' in page


def test_reading_the_page_is_traced_once(
    logged_in: Any, break_glass: Any, oncologist: User
) -> None:
    break_glass()
    client = logged_in(oncologist)
    before = AuditEvent.objects.count()
    client.get(LIST)
    [event] = AuditEvent.objects.order_by("id")[before:]
    assert (event.action, event.resource_type, event.actor_user_id) == (
        "page.viewed",
        "NotificationList",
        str(oncologist.uuid),
    )


def test_others_notifications_are_not_listed(
    logged_in: Any, break_glass: Any, outsider: User
) -> None:
    break_glass()
    response = logged_in(outsider).get(LIST)
    assert list(response.context["notifications"]) == []
    assert "Vous n'avez aucune notification." in response.content.decode()


def test_a_notification_about_a_patient_no_longer_visible_disappears(
    logged_in: Any,
    break_glass: Any,
    oncologist: User,
    rcp_secretary: User,
    patient: Patient,
) -> None:
    break_glass()
    services.notify(recipients=[oncologist], kind=NotificationKind.EMERGENCY_ACCESS, title="Autre")
    patients.remove_from_care_team(
        actor=rcp_secretary, member=CareTeamMember.objects.get(patient=patient, user=oncologist)
    )
    client = logged_in(oncologist)
    response = client.get(LIST)
    assert [n.title for n in response.context["notifications"]] == ["Autre"]
    page = response.content.decode()
    assert "GARNIER" not in page
    assert "Notifications (1 non lue)" in page
    hidden = Notification.objects.get(recipient=oncologist, patient=patient)
    assert client.post(mark_read_url(hidden)).status_code == 404


def test_a_user_marks_their_own_notification_read(
    logged_in: Any, break_glass: Any, oncologist: User
) -> None:
    break_glass()
    notification = Notification.objects.get(recipient=oncologist)
    client = logged_in(oncologist)
    response = client.post(mark_read_url(notification))
    assert response.status_code == 302
    assert response["Location"] == LIST
    notification.refresh_from_db()
    assert notification.read_at is not None
    page = client.get(LIST).content.decode()
    assert "Non lue<" not in page
    assert ">Notifications<" in page


def test_someone_elses_notification_answers_404_and_stays_unread(
    logged_in: Any, break_glass: Any, oncologist: User, gp: User
) -> None:
    break_glass()
    theirs = Notification.objects.get(recipient=gp)
    response = logged_in(oncologist).post(mark_read_url(theirs))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_the_users_notifications(
    logged_in: Any, break_glass: Any, oncologist: User, gp: User
) -> None:
    break_glass()
    services.notify(recipients=[oncologist], kind=NotificationKind.EMERGENCY_ACCESS, title="T")
    response = logged_in(oncologist).post(ALL_READ)
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=oncologist, read_at__isnull=True).exists()
    assert Notification.objects.get(recipient=gp).read_at is None


def test_marking_read_needs_a_post(logged_in: Any, break_glass: Any, oncologist: User) -> None:
    break_glass()
    notification = Notification.objects.get(recipient=oncologist)
    client = logged_in(oncologist)
    assert client.get(mark_read_url(notification)).status_code == 405
    assert client.get(ALL_READ).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_the_page_runs_a_fixed_number_of_queries(
    logged_in: Any, oncologist: User, django_assert_max_num_queries: Any
) -> None:
    for number in range(25):
        services.notify(
            recipients=[oncologist], kind=NotificationKind.EMERGENCY_ACCESS, title=f"N{number}"
        )
    client = logged_in(oncologist)
    with django_assert_max_num_queries(12):
        response = client.get(LIST)
    assert len(response.context["notifications"]) == 25


def test_the_unread_count_costs_one_query_and_two_with_patients_to_check(
    logged_in: Any, break_glass: Any, oncologist: User, django_assert_num_queries: Any
) -> None:
    response = logged_in(oncologist).get(reverse("core:home"))
    unread = response.context["dcc_unread_notifications"]
    unread.cache_clear()
    with django_assert_num_queries(1):
        assert unread() == 0
        assert unread() == 0
    break_glass()
    unread.cache_clear()
    with django_assert_num_queries(2):
        assert unread() == 1
        assert unread() == 1


PREFERENCES = reverse("notifications:preferences")


def test_a_professional_chooses_which_notifications_also_come_by_e_mail(
    logged_in: Any, oncologist: User
) -> None:
    from dcc.notifications import selectors

    client = logged_in(oncologist)
    page = client.get(PREFERENCES).content.decode()
    assert 'name="document_added" checked' in page.replace(' id="id_document_added"', "")
    assert "Toujours envoyé" in page
    response = client.post(PREFERENCES, {}, follow=True)  # every box unchecked
    assert "Vos préférences ont été enregistrées." in response.content.decode()
    assert selectors.email_preferences(oncologist) == {
        NotificationKind.EMERGENCY_ACCESS: True,  # disabled field: cannot be turned off
        NotificationKind.DOCUMENT_ADDED: False,
    }
    event = AuditEvent.objects.get(action="notification.preferences_changed")
    assert event.resource_id == str(oncologist.uuid)
    again = client.post(PREFERENCES, {"emergency_access": ""}, follow=True)
    assert "Vos préférences n&#x27;ont pas changé." in again.content.decode()
    assert AuditEvent.objects.filter(action="notification.preferences_changed").count() == 1
    client.post(PREFERENCES, {"document_added": "on"})
    assert selectors.email_preferences(oncologist)[NotificationKind.DOCUMENT_ADDED]


def test_the_preferences_page_needs_a_login(client: Any) -> None:
    response = client.get(PREFERENCES)
    assert response.status_code == 302
    assert "/login" in response["Location"] or "connexion" in response["Location"]
