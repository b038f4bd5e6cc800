"""Patient screens: search, registration, record, care team, emergency access, merge.

Every view reaches a patient through ``patients.access.patient_for`` (404 outside the user's
patients, read-only under emergency access) and calls services for writes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from dcc.patients.forms import SearchForm
from dcc.patients.search import search_patients

PAGE_SIZE = 20


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Find a patient by name prefix, birth date, INS or IPP among the user's patients."""
    form = SearchForm(request.GET if request.GET else None)
    context: dict[str, Any] = {"form": form, "results": None}
    if form.is_bound and form.is_valid() and not form.cleaned_data.get("empty"):
        page = form.cleaned_data.get("page") or 1
        found = search_patients(
            request.user,
            text=form.cleaned_data["q"] or "",
            birth_date=form.cleaned_data["naissance"],
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
        params = request.GET.copy()
        params.pop("page", None)
        context.update(
            results=found[:PAGE_SIZE],
            page=page,
            has_next=len(found) > PAGE_SIZE,
            query=params.urlencode(),
        )
    template = (
        "patients/partials/search_results.html"
        if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
        else "patients/search.html"
    )
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
