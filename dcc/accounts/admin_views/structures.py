"""Administration of structures (FINESS), and the administration home page."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from dcc.accounts import permissions, selectors, services
from dcc.accounts.admin_views.common import (
    active_structures,
    add_service_errors,
    descendant_ids,
    paginate,
    post_data,
    query_without_page,
    require_administrator,
)
from dcc.accounts.choices import StructureKind
from dcc.accounts.forms import (
    StructureForm,
)
from dcc.accounts.models import Membership


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request)
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
    user = require_administrator(request)
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
            "page": paginate(request, structures.order_by("name", "id")),
            "query": query_without_page(request),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def structure_create(request: HttpRequest) -> HttpResponse:
    user = require_administrator(request)
    form = StructureForm(post_data(request), parents=active_structures(user))
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
            add_service_errors(form, error)
        else:
            messages.success(request, _("Structure « %(name)s » créée.") % {"name": structure})
            return redirect("administration:structure_detail", uuid=structure.uuid)
    return render(request, "accounts/structure_form.html", {"form": form, "structure": None})


@login_required
def structure_detail(request: HttpRequest, uuid: UUID) -> HttpResponse:
    user = require_administrator(request)
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
    user = require_administrator(request)
    visible = selectors.structures_visible_to(user)
    structure = get_object_or_404(visible, uuid=uuid)
    excluded = descendant_ids(structure) | {structure.pk}
    parents = list(visible.exclude(id__in=excluded))
    parent_locked = structure.parent is not None and structure.parent not in parents
    if parent_locked and structure.parent is not None:
        # Only whoever administers the current parent may detach a structure from it.
        parents.insert(0, structure.parent)
    form = StructureForm(
        post_data(request),
        parents=parents,
        editing=True,
        initial={
            "name": structure.name,
            "kind": structure.kind,
            "national_id_type": structure.national_id_type,
            "national_id": structure.national_id,
            "parent": str(structure.parent.uuid) if structure.parent else "",
            "is_active": structure.is_active,
            "shares_registered_patients": structure.shares_registered_patients,
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
                shares_registered_patients=data["shares_registered_patients"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Structure enregistrée."))
            return redirect("administration:structure_detail", uuid=structure.uuid)
    return render(
        request,
        "accounts/structure_form.html",
        {"form": form, "structure": structure, "parent_locked": parent_locked},
    )
