"""Administration screens: structures, professionals, invitations and roles."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from dcc.accounts import permissions, selectors


@login_required
def index(request: HttpRequest) -> HttpResponse:
    if not permissions.can_administer(request.user):
        raise PermissionDenied
    return render(
        request,
        "accounts/admin_index.html",
        {"structures": selectors.structures_visible_to(request.user)},
    )
