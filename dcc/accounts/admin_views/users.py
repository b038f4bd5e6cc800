"""Administration of professionals: identity, roles, activation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from dcc.accounts import permissions, selectors, services
from dcc.accounts.admin_views.common import (
    active_structures,
    add_service_errors,
    grantable_roles,
    paginate,
    post_data,
    query_without_page,
    require_administrator,
)
from dcc.accounts.choices import Role
from dcc.accounts.forms import (
    GrantRoleForm,
    ProfessionalFields,
    set_choices,
)
from dcc.accounts.models import Membership, Structure, User
from dcc.interop.terminology import value_sets


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
    user = require_administrator(request)
    form = UserFilterForm(request.GET, structures=list(selectors.structures_visible_to(user)))
    users = selectors.users_visible_to(user)
    if form.is_valid():
        users = _filter_users(users, form.cleaned_data)
    return render(
        request,
        "accounts/user_list.html",
        {
            "form": form,
            "page": paginate(request, users.order_by("last_name", "first_name", "id")),
            "query": query_without_page(request),
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
    form = GrantRoleForm(data, structures=active_structures(actor))
    set_choices(form, "role", grantable_roles(actor))
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
    actor = require_administrator(request)
    return _render_user_detail(request, actor, _visible_user(actor, uuid))


@login_required
@require_http_methods(["GET", "POST"])
def user_edit(request: HttpRequest, uuid: UUID) -> HttpResponse:
    actor = require_administrator(request)
    target = _visible_user(actor, uuid)
    if not _may_change_account(actor, target):
        raise PermissionDenied
    form = ProfessionalFields(
        post_data(request),
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
            add_service_errors(form, error)
        else:
            messages.success(request, _("Identité du professionnel enregistrée."))
            return redirect("administration:user_detail", uuid=target.uuid)
    return render(request, "accounts/user_form.html", {"form": form, "target": target})


@login_required
@require_POST
def user_grant_role(request: HttpRequest, uuid: UUID) -> HttpResponse:
    actor = require_administrator(request)
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
            add_service_errors(form, error)
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
    actor = require_administrator(request)
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
    actor = require_administrator(request)
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
