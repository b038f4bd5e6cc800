"""Who may administer what: permissions as functions, checked by views and services alike."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser

from dcc.accounts.choices import Role
from dcc.accounts.models import Membership, Structure, User

AnyUser = User | AnonymousUser


def _active_user(user: AnyUser) -> User | None:
    if isinstance(user, User) and user.is_active:
        return user
    return None


def is_platform_admin(user: AnyUser) -> bool:
    """Platform administrators (superusers) manage every structure."""
    active = _active_user(user)
    return bool(active and active.is_superuser)


_CACHE = "_dcc_administered_ids"


def administered_structure_ids(user: AnyUser) -> set[int]:
    """Structures the user administers: their own, and those below them (a network's members).

    Computed once per user object (that is, once per request) and cached on it; services that
    change roles or the structure tree call ``forget`` on the users they touch."""
    active = _active_user(user)
    if active is None:
        return set()
    cached: frozenset[int] | None = getattr(active, _CACHE, None)
    if cached is not None:
        return set(cached)
    roots = set(
        Membership.objects.active()
        .filter(user=active, role=Role.STRUCTURE_ADMIN)
        .order_by()
        .values_list("structure_id", flat=True)
    )
    found = set(roots)
    frontier = roots
    while frontier:
        children = (
            Structure.objects.filter(parent_id__in=frontier).order_by().values_list("id", flat=True)
        )
        frontier = set(children) - found
        found |= frontier
    setattr(active, _CACHE, frozenset(found))
    return found


def forget(*users: AnyUser) -> None:
    """Drop cached permission data after a change of roles or of the structure tree."""
    for user in users:
        if hasattr(user, _CACHE):
            delattr(user, _CACHE)


def can_administer(user: AnyUser) -> bool:
    return is_platform_admin(user) or bool(administered_structure_ids(user))


def can_create_structure(user: AnyUser, parent: Structure | None) -> bool:
    if is_platform_admin(user):
        return True
    return parent is not None and parent.pk in administered_structure_ids(user)


def can_manage_structure(user: AnyUser, structure: Structure) -> bool:
    return is_platform_admin(user) or structure.pk in administered_structure_ids(user)


def can_manage_user(actor: AnyUser, target: User) -> bool:
    """Administrators manage users who hold a role in one of their structures; nobody manages
    their own account this way, and only platform administrators manage one another."""
    if isinstance(actor, User) and actor.pk == target.pk:
        return False
    if is_platform_admin(actor):
        return True
    if target.is_superuser:
        return False
    structures = administered_structure_ids(actor)
    return bool(structures) and (
        Membership.objects.active().filter(user=target, structure_id__in=structures).exists()
    )


def can_grant_role(actor: AnyUser, structure: Structure, role: str) -> bool:
    if not can_manage_structure(actor, structure):
        return False
    # Only platform administrators name security officers: they read everyone's traces.
    return role != Role.SECURITY_OFFICER or is_platform_admin(actor)


def can_view_audit(user: AnyUser) -> bool:
    active = _active_user(user)
    if active is None:
        return False
    return active.is_superuser or (
        Membership.objects.active().filter(user=active, role=Role.SECURITY_OFFICER).exists()
    )


def can_publish_charter(user: AnyUser) -> bool:
    return is_platform_admin(user)
