"""Administration screens: structures, professionals, invitations and roles.

Every object is fetched through the ``*_visible_to`` selectors, so one the user may not
administer answers 404 exactly like one that does not exist. Every write goes through
``dcc.accounts.services``, which checks the policy again and records the audit event."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dcc.accounts import permissions, selectors, services
from dcc.accounts.choices import Role, StructureKind
from dcc.accounts.forms import (
    GrantRoleForm,
    InvitationForm,
    ProfessionalFields,
    StructureForm,
    set_choices,
)
from dcc.accounts.models import Invitation, Membership, Structure, User
from dcc.interop.terminology import value_sets

PAGE_SIZE = 50


# --- Helpers -------------------------------------------------------------------------------


def _administrator(request: HttpRequest) -> User:
    user = selectors.request_user(request)
    if not permissions.can_administer(user):
        raise PermissionDenied
    return user


def _post_data(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form, tied to the field it names when there is one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, ValidationError(errors))
    else:
        form.add_error(None, error)


def _page(request: HttpRequest, items: QuerySet[Any]) -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _grantable_roles(user: User) -> list[tuple[str, str]]:
    return [
        (value, str(label))
        for value, label in Role.choices
        if permissions.is_platform_admin(user) or value != Role.SECURITY_OFFICER
    ]


def _active_structures(user: User) -> list[Structure]:
    return list(selectors.structures_visible_to(user).filter(is_active=True))


def _descendant_ids(structure: Structure) -> set[int]:
    found: set[int] = set()
    frontier = {structure.pk}
    while frontier:
        frontier = (
            set(Structure.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
            - found
        )
        found |= frontier
    return found


# --- Index ---------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _administrator(request)
    now = timezone.now()
    counts = {
        "structures": selectors.structures_visible_to(user).count(),
        "users": selectors.users_visible_to(user).count(),
        "pending_invitations": selectors.invitations_visible_to(user)
        .filter(accepted_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now)
        .count(),
    }
    return render(
        request,
        "accounts/admin_index.html",
        {"counts": counts, "is_platform_admin": permissions.is_platform_admin(user)},
    )


# --- Structures ----------------------------------------------------------------------------


class StructureFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Nom ou identifiant"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=gettext_lazy("Type de structure"),
        required=False,
        choices=[("", gettext_lazy("Tous les types")), *StructureKind.choices],
    )


@login_required
def structure_list(request: HttpRequest) -> HttpResponse:
    user = _administrator(request)
    form = StructureFilterForm(request.GET)
    structures = selectors.structures_visible_to(user).annotate(
        member_count=Count("memberships", filter=Q(memberships__revoked_at__isnull=True))
    )
    if form.is_valid():
        if text := form.cleaned_data["q"].strip():
            structures = structures.filter(
                Q(name__icontains=text) | Q(national_id__icontains=text.upper())
            )
        if kind := form.cleaned_data["kind"]:
            structures = structures.filter(kind=kind)
    return render(
        request,
        "accounts/structure_list.html",
        {
            "form": form,
            "page": _page(request, structures.order_by("name", "id")),
            "query": _query_without_page(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def structure_create(request: HttpRequest) -> HttpResponse:
    user = _administrator(request)
    form = StructureForm(_post_data(request), parents=_active_structures(user))
    if not permissions.is_platform_admin(user):
        # Only platform administrators create top-level structures.
        form.fields["parent"].required = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            structure = services.create_structure(
                actor=user,
                name=data["name"],
                kind=data["kind"],
                national_id_type=data["national_id_type"],
                national_id=data["national_id"],
                parent=data["parent"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Structure « %(name)s » créée.") % {"name": structure})
            return redirect("administration:structure_detail", uuid=structure.uuid)
    return render(request, "accounts/structure_form.html", {"form": form, "structure": None})


@login_required
def structure_detail(request: HttpRequest, uuid: UUID) -> HttpResponse:
    user = _administrator(request)
    structure = get_object_or_404(selectors.structures_visible_to(user), uuid=uuid)
    members = (
        Membership.objects.filter(structure=structure, revoked_at__isnull=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "role")
    )
    invitations = selectors.invitations_visible_to(user).filter(
        structure=structure,
        accepted_at__isnull=True,
        cancelled_at__isnull=True,
        expires_at__gt=timezone.now(),
    )
    return render(
        request,
        "accounts/structure_detail.html",
        {
            "structure": structure,
            "members": members,
            "children": structure.children.order_by("name"),
            "invitations": invitations,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def structure_edit(request: HttpRequest, uuid: UUID) -> HttpResponse:
    user = _administrator(request)
    visible = selectors.structures_visible_to(user)
    structure = get_object_or_404(visible, uuid=uuid)
    excluded = _descendant_ids(structure) | {structure.pk}
    parents = list(visible.exclude(id__in=excluded))
    parent_locked = structure.parent is not None and structure.parent not in parents
    if parent_locked and structure.parent is not None:
        # Only whoever administers the current parent may detach a structure from it.
        parents.insert(0, structure.parent)
    form = StructureForm(
        _post_data(request),
        parents=parents,
        editing=True,
        initial={
            "name": structure.name,
            "kind": structure.kind,
            "national_id_type": structure.national_id_type,
            "national_id": structure.national_id,
            "parent": str(structure.parent.uuid) if structure.parent else "",
            "is_active": structure.is_active,
        },
    )
    form.fields["parent"].disabled = parent_locked
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_structure(
                actor=user,
                structure=structure,
                name=data["name"],
                kind=data["kind"],
                parent=data["parent"],
                is_active=data["is_active"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Structure enregistrée."))
            return redirect("administration:structure_detail", uuid=structure.uuid)
    return render(
        request,
        "accounts/structure_form.html",
        {"form": form, "structure": structure, "parent_locked": parent_locked},
    )


# --- Professionals -------------------------------------------------------------------------


class UserFilterForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Nom, adresse électronique ou RPPS"), required=False, max_length=100
    )
    structure = forms.ChoiceField(label=gettext_lazy("Structure"), required=False)
    role = forms.ChoiceField(
        label=gettext_lazy("Rôle"),
        required=False,
        choices=[("", gettext_lazy("Tous les rôles")), *Role.choices],
    )
    status = forms.ChoiceField(
        label=gettext_lazy("Compte"),
        required=False,
        choices=[
            ("", gettext_lazy("Actifs et désactivés")),
            ("active", gettext_lazy("Actifs")),
            ("inactive", gettext_lazy("Désactivés")),
        ],
    )

    def __init__(self, *args: Any, structures: list[Structure], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(
            self,
            "structure",
            [("", _("Toutes les structures")), *((str(s.uuid), s.name) for s in structures)],
        )


def _filter_users(users: QuerySet[User], data: dict[str, Any]) -> QuerySet[User]:
    for term in data["q"].split()[:5]:
        users = users.filter(
            Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
            | Q(email__icontains=term)
            | Q(rpps=term)
        )
    held: dict[str, Any] = {}
    if data["structure"]:
        held["memberships__structure__uuid"] = data["structure"]
    if data["role"]:
        held["memberships__role"] = data["role"]
    if held:
        # One filter() call, so structure and role must match on the same membership.
        users = users.filter(memberships__revoked_at__isnull=True, **held).distinct()
    if data["status"]:
        users = users.filter(is_active=data["status"] == "active")
    return users


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    user = _administrator(request)
    form = UserFilterForm(request.GET, structures=list(selectors.structures_visible_to(user)))
    users = selectors.users_visible_to(user)
    if form.is_valid():
        users = _filter_users(users, form.cleaned_data)
    return render(
        request,
        "accounts/user_list.html",
        {
            "form": form,
            "page": _page(request, users.order_by("last_name", "first_name", "id")),
            "query": _query_without_page(request),
        },
    )


def _visible_user(actor: User, uuid: UUID) -> User:
    return get_object_or_404(selectors.users_visible_to(actor), uuid=uuid)


def _may_change_account(actor: User, target: User) -> bool:
    """Nobody closes or rewrites their own account here, and only a platform administrator
    touches another platform administrator's, even one holding a role in their structure."""
    if actor.pk == target.pk:
        return False
    return permissions.is_platform_admin(actor) or not target.is_superuser


def _grant_form(actor: User, data: QueryDict | None = None) -> GrantRoleForm:
    form = GrantRoleForm(data, structures=_active_structures(actor))
    set_choices(form, "role", _grantable_roles(actor))
    return form


def _render_user_detail(
    request: HttpRequest,
    actor: User,
    target: User,
    *,
    grant_form: GrantRoleForm | None = None,
    status: int = 200,
) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(user=target)
        .select_related("structure", "granted_by", "revoked_by")
        .order_by("structure__name", "role", "-created_at")
    )
    administered = (
        None
        if permissions.is_platform_admin(actor)
        else permissions.administered_structure_ids(actor)
    )
    current = [m for m in memberships if m.revoked_at is None]
    revoked = sorted(
        (m for m in memberships if m.revoked_at is not None),
        key=lambda m: m.revoked_at or m.created_at,
        reverse=True,
    )
    may_change_own = actor.pk != target.pk or actor.is_superuser
    revocable = {
        m.pk
        for m in current
        if may_change_own and (administered is None or m.structure_id in administered)
    }
    return render(
        request,
        "accounts/user_detail.html",
        {
            "target": target,
            "profession": value_sets.display(target.profession_code)
            if target.profession_code
            else "",
            "specialty": value_sets.display(target.specialty_code) if target.specialty_code else "",
            "current": current,
            "revoked": revoked,
            "revocable": revocable,
            "grant_form": grant_form or _grant_form(actor),
            "is_self": actor.pk == target.pk,
            "may_change_account": _may_change_account(actor, target),
        },
        status=status,
    )


@login_required
def user_detail(request: HttpRequest, uuid: UUID) -> HttpResponse:
    actor = _administrator(request)
    return _render_user_detail(request, actor, _visible_user(actor, uuid))


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, uuid: UUID) -> HttpResponse:
    actor = _administrator(request)
    target = _visible_user(actor, uuid)
    if not _may_change_account(actor, target):
        raise PermissionDenied
    form = ProfessionalFields(
        _post_data(request),
        initial={
            "first_name": target.first_name,
            "last_name": target.last_name,
            "rpps": target.rpps or "",
            "profession_code": target.profession_code,
            "specialty_code": target.specialty_code,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_professional(
                actor=actor,
                user=target,
                first_name=data["first_name"],
                last_name=data["last_name"],
                rpps=data["rpps"],
                profession_code=data["profession_code"],
                specialty_code=data["specialty_code"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(request, _("Identité du professionnel enregistrée."))
            return redirect("administration:user_detail", uuid=target.uuid)
    return render(request, "accounts/user_form.html", {"form": form, "target": target})


@login_required
@require_POST
def user_grant_role(request: HttpRequest, uuid: UUID) -> HttpResponse:
    actor = _administrator(request)
    target = _visible_user(actor, uuid)
    form = _grant_form(actor, request.POST)
    if form.is_valid():
        try:
            membership = services.grant_role(
                actor=actor,
                user=target,
                structure=form.cleaned_data["structure"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Rôle « %(role)s » attribué dans %(structure)s.")
                % {"role": membership.get_role_display(), "structure": membership.structure},
            )
            return redirect("administration:user_detail", uuid=target.uuid)
    return _render_user_detail(request, actor, target, grant_form=form, status=400)


@login_required
@require_POST
def user_revoke_role(request: HttpRequest, uuid: UUID, membership: UUID) -> HttpResponse:
    actor = _administrator(request)
    target = _visible_user(actor, uuid)
    held = get_object_or_404(
        Membership.objects.select_related("structure", "user"),
        uuid=membership,
        user=target,
        revoked_at__isnull=True,
        structure__in=selectors.structures_visible_to(actor),
    )
    try:
        services.revoke_role(actor=actor, membership=held)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("Rôle « %(role)s » retiré dans %(structure)s.")
            % {"role": held.get_role_display(), "structure": held.structure},
        )
    if selectors.users_visible_to(actor).filter(pk=target.pk).exists():
        return redirect("administration:user_detail", uuid=target.uuid)
    # The professional no longer holds a role anywhere this administrator manages.
    return redirect("administration:user_list")


@login_required
@require_http_methods(["GET", "POST"])
def user_set_active(request: HttpRequest, uuid: UUID, active: bool) -> HttpResponse:
    actor = _administrator(request)
    target = _visible_user(actor, uuid)
    if not _may_change_account(actor, target):
        raise PermissionDenied
    if target.is_active == active:
        return redirect("administration:user_detail", uuid=target.uuid)
    if request.method == "POST":
        services.set_user_active(actor=actor, user=target, active=active)
        if active:
            messages.success(request, _("Compte réactivé."))
        else:
            messages.success(request, _("Compte désactivé : ses sessions ouvertes sont fermées."))
        return redirect("administration:user_detail", uuid=target.uuid)
    return render(
        request, "accounts/user_confirm_active.html", {"target": target, "active": active}
    )


# --- Invitations ---------------------------------------------------------------------------


class InvitationStatus:
    PENDING = "pending"
    EXPIRED = "expired"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"


INVITATION_STATUS_LABELS = {
    InvitationStatus.PENDING: gettext_lazy("En attente"),
    InvitationStatus.EXPIRED: gettext_lazy("Expirée"),
    InvitationStatus.ACCEPTED: gettext_lazy("Acceptée"),
    InvitationStatus.CANCELLED: gettext_lazy("Annulée"),
}


class InvitationFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("État"),
        required=False,
        choices=[("", gettext_lazy("Toutes")), *INVITATION_STATUS_LABELS.items()],
    )


def _invitation_status(invitation: Invitation, now: dt.datetime) -> str:
    if invitation.cancelled_at:
        return InvitationStatus.CANCELLED
    if invitation.accepted_at:
        return InvitationStatus.ACCEPTED
    if invitation.expires_at <= now:
        return InvitationStatus.EXPIRED
    return InvitationStatus.PENDING


def _filter_invitations(
    invitations: QuerySet[Invitation], status: str, now: dt.datetime
) -> QuerySet[Invitation]:
    open_ = Q(accepted_at__isnull=True, cancelled_at__isnull=True)
    conditions = {
        InvitationStatus.PENDING: open_ & Q(expires_at__gt=now),
        InvitationStatus.EXPIRED: open_ & Q(expires_at__lte=now),
        InvitationStatus.ACCEPTED: Q(accepted_at__isnull=False),
        InvitationStatus.CANCELLED: Q(cancelled_at__isnull=False),
    }
    return invitations.filter(conditions[status]) if status in conditions else invitations


@dataclass(frozen=True)
class InvitationRow:
    invitation: Invitation
    status: str

    @property
    def status_label(self) -> str:
        return str(INVITATION_STATUS_LABELS[self.status])

    @property
    def cancellable(self) -> bool:
        return self.status == InvitationStatus.PENDING


@login_required
def invitation_list(request: HttpRequest) -> HttpResponse:
    user = _administrator(request)
    now = timezone.now()
    form = InvitationFilterForm(request.GET)
    invitations = selectors.invitations_visible_to(user)
    if form.is_valid():
        invitations = _filter_invitations(invitations, form.cleaned_data["status"], now)
    page = _page(request, invitations.order_by("-created_at", "-id"))
    rows = [InvitationRow(invitation, _invitation_status(invitation, now)) for invitation in page]
    return render(
        request,
        "accounts/invitation_list.html",
        {"form": form, "page": page, "rows": rows, "query": _query_without_page(request)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def invitation_create(request: HttpRequest) -> HttpResponse:
    user = _administrator(request)
    form = InvitationForm(
        _post_data(request),
        structures=_active_structures(user),
        initial={"structure": request.GET.get("structure", "")},
    )
    set_choices(form, "role", _grantable_roles(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            invitation, token = services.invite_user(
                actor=user,
                email=data["email"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                structure=data["structure"],
                role=data["role"],
                rpps=data["rpps"],
                profession_code=data["profession_code"],
                specialty_code=data["specialty_code"],
            )
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            # Shown once, in this response only: e-mail may not be configured, and only a
            # hash of the token is kept.
            link = settings.SITE_URL.rstrip("/") + reverse("accounts:invitation", args=[token])
            return render(
                request,
                "accounts/admin_invitation_created.html",
                {"invitation": invitation, "link": link, "days": settings.INVITATION_DAYS},
            )
    return render(request, "accounts/invitation_form.html", {"form": form})


@login_required
@require_POST
def invitation_cancel(request: HttpRequest, uuid: UUID) -> HttpResponse:
    user = _administrator(request)
    invitation = get_object_or_404(selectors.invitations_visible_to(user), uuid=uuid)
    if _invitation_status(invitation, timezone.now()) != InvitationStatus.PENDING:
        messages.error(request, _("Seule une invitation en attente peut être annulée."))
    else:
        services.cancel_invitation(actor=user, invitation=invitation)
        messages.success(
            request, _("Invitation de %(email)s annulée.") % {"email": invitation.email}
        )
    return redirect("administration:invitation_list")
