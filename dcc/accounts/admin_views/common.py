"""Helpers shared by the administration screens."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict

from dcc.accounts import permissions, selectors
from dcc.accounts.choices import Role
from dcc.accounts.models import Structure, User

PAGE_SIZE = 50


# --- Helpers -------------------------------------------------------------------------------


def require_administrator(request: HttpRequest) -> User:
    user = selectors.request_user(request)
    if not permissions.can_administer(user):
        raise PermissionDenied
    return user


def post_data(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form, tied to the field it names when there is one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, ValidationError(errors))
    else:
        form.add_error(None, error)


def paginate(request: HttpRequest, items: QuerySet[Any]) -> Page[Any]:
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def grantable_roles(user: User) -> list[tuple[str, str]]:
    return [
        (value, str(label))
        for value, label in Role.choices
        if permissions.is_platform_admin(user) or value != Role.SECURITY_OFFICER
    ]


def active_structures(user: User) -> list[Structure]:
    return list(selectors.structures_visible_to(user).filter(is_active=True))


def descendant_ids(structure: Structure) -> set[int]:
    found: set[int] = set()
    frontier = {structure.pk}
    while frontier:
        frontier = (
            set(Structure.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
            - found
        )
        found |= frontier
    return found
