"""Reading notifications: a professional sees their own, and only about patients they still see.

A notification about a patient who has since left the user's patients (care team ended, the
record merged) disappears from the list and from the unread count, exactly as the record
itself does: the notification must not outlive the right to see the patient."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, User
from dcc.accounts.permissions import AnyUser
from dcc.core.compiled import INTEGER, CompiledQuery
from dcc.notifications.choices import EMAIL_MANDATORY, NotificationKind
from dcc.notifications.models import EmailPreference, Notification
from dcc.patients.models import CareTeamMember, EmergencyAccess
from dcc.patients.selectors import patients_visible_to

# The referring physicians of a patient: their GP and the physicians of their care team.
PHYSICIAN_ROLES = frozenset({Role.PHYSICIAN, Role.GENERAL_PRACTITIONER})


def notifications_for(user: AnyUser) -> QuerySet[Notification]:
    """The user's notifications, newest first, without those about patients they no longer
    see."""
    if not isinstance(user, User) or not user.is_active:
        return Notification.objects.none()
    # Each notification's own patient is checked (correlated EXISTS), rather than building the
    # whole set of visible patients (a sharing hospital registers 100,000 of them).
    visible = patients_visible_to(user).filter(pk=OuterRef("patient_id"))
    return Notification.objects.filter(
        Q(patient__isnull=True) | Exists(visible), recipient=user
    ).order_by("-created_at", "-id")


UNREAD_SHOWN_MAX = 99
# Compiled once (``dcc.core.compiled``): the navigation of every page runs it.
_UNREAD = CompiledQuery(
    lambda user: Notification.objects.filter(recipient_id=user, read_at__isnull=True).only(
        "patient"
    )[: UNREAD_SHOWN_MAX + 1],
    user=INTEGER,
)


def unread_count(user: AnyUser) -> int:
    """The figure shown in the navigation on every page: usually one small query (the unread
    notifications' patients), and the visibility check only for those patients, if any."""
    if not isinstance(user, User) or not user.is_active:
        return 0
    unread = [patient for (patient,) in _UNREAD.values(("patient_id",), user=user.pk)]
    about = {patient for patient in unread if patient is not None}
    if about:
        visible = set(patients_visible_to(user).filter(pk__in=about).values_list("pk", flat=True))
        unread = [patient for patient in unread if patient is None or patient in visible]
    return min(len(unread), UNREAD_SHOWN_MAX)


def emergency_access_recipients(access: EmergencyAccess) -> list[User]:
    """Who is told of an emergency access: the patient's GP and the members of their care team
    who hold an active physician role, each once, never the professional who opened it."""
    patient = access.patient
    physicians = Membership.objects.active().filter(role__in=PHYSICIAN_ROLES).values("user_id")
    team = CareTeamMember.objects.filter(
        patient=patient, ended_at__isnull=True, user_id__in=physicians
    ).values("user_id")
    referring = Q(pk__in=team)
    if patient.general_practitioner_id is not None:
        referring |= Q(pk=patient.general_practitioner_id)
    return list(
        User.objects.filter(referring, is_active=True).exclude(pk=access.user_id).order_by("pk")
    )


def email_preferences(user: User) -> dict[str, bool]:
    """For every kind of notification, whether the user is told of it by e-mail (kinds in
    ``EMAIL_MANDATORY`` always are; others unless the user turned them off)."""
    chosen = dict(EmailPreference.objects.filter(user=user).values_list("kind", "by_email"))
    return {
        kind: kind in EMAIL_MANDATORY or chosen.get(kind, True) for kind in NotificationKind.values
    }


def wants_email(user: User, kind: str) -> bool:
    if kind in EMAIL_MANDATORY:
        return True
    chosen = (
        EmailPreference.objects.filter(user=user, kind=kind)
        .values_list("by_email", flat=True)
        .first()
    )
    return True if chosen is None else chosen
