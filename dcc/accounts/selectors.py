"""Reads of accounts data that depend on who asks."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest

from dcc.accounts import permissions
from dcc.accounts.models import Charter, CharterAcceptance, Invitation, Membership, Structure, User
from dcc.core.compiled import INTEGER, CompiledQuery
from dcc.core.context import Actor, current_actor


def structures_visible_to(user: permissions.AnyUser) -> QuerySet[Structure]:
    qs = Structure.objects.select_related("parent")
    if permissions.is_platform_admin(user):
        return qs
    return qs.filter(id__in=permissions.administered_structure_ids(user))


def users_visible_to(user: permissions.AnyUser) -> QuerySet[User]:
    active_memberships = Prefetch(
        "memberships",
        queryset=Membership.objects.active().select_related("structure"),
        to_attr="active_memberships",
    )
    qs = User.objects.prefetch_related(active_memberships)
    if permissions.is_platform_admin(user):
        return qs
    structures = permissions.administered_structure_ids(user)
    return qs.filter(
        memberships__structure_id__in=structures, memberships__revoked_at__isnull=True
    ).distinct()


def invitations_visible_to(user: permissions.AnyUser) -> QuerySet[Invitation]:
    qs = Invitation.objects.select_related("structure", "invited_by")
    if permissions.is_platform_admin(user):
        return qs
    return qs.filter(structure_id__in=permissions.administered_structure_ids(user))


def active_memberships(user: User) -> list[Membership]:
    """The user's current roles, with their structures (every page's navigation shows them)."""
    return _ACTIVE_MEMBERSHIPS.run(user=user.pk)


_ACTIVE_MEMBERSHIPS = CompiledQuery(
    lambda user: Membership.objects.active().filter(user_id=user).select_related("structure"),
    user=INTEGER,
)


def current_charter() -> Charter | None:
    """The charter in force (checked on every request by the charter gate)."""
    found = _CURRENT_CHARTER.run()
    return found[0] if found else None


_CURRENT_CHARTER = CompiledQuery(lambda: Charter.objects.order_by("-version")[:1])


def has_accepted_current_charter(user: User) -> bool:
    charter = current_charter()
    if charter is None:
        return True
    return CharterAcceptance.objects.filter(user=user, charter=charter).exists()


def request_user(request: HttpRequest) -> User:
    """The authenticated professional behind a request (views behind ``login_required``)."""
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied
    return user


def actor_for_request(request: HttpRequest) -> Actor:
    """The acting professional, with the structure and role chosen for this session."""
    user = request.user
    source_ip = getattr(request, "source_ip", "")
    request_id = getattr(request, "request_id", "")
    if not isinstance(user, User) or not user.is_authenticated:
        return Actor(kind="anonymous", source_ip=source_ip, request_id=request_id)
    return Actor(
        kind="user",
        user_id=str(user.uuid),
        rpps=user.rpps or "",
        structure_id=str(request.session.get("dcc_structure", "")),
        role=str(request.session.get("dcc_role", "")),
        label=user.email,
        source_ip=source_ip,
        request_id=request_id,
    )


def actor_of(user: User) -> Actor:
    """The audit actor for ``user`` acting now: the request's context when it is theirs (it
    carries their structure and role), else their identity with the context's address and
    request id (a management command or a task acting on their behalf)."""
    context = current_actor()
    if context.kind == "user" and context.user_id == str(user.uuid):
        return context
    return Actor(
        kind="user",
        user_id=str(user.uuid),
        rpps=user.rpps or "",
        # Through a command or a task, the trace says so (e.g. "dcc seed_demo").
        label=context.label if context.kind == "system" else user.email,
        source_ip=context.source_ip,
        request_id=context.request_id,
        purpose=context.purpose,
    )
