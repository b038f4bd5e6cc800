"""Pro Santé Connect login views (authorization code flow with PKCE)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def start(request: HttpRequest) -> HttpResponse:
    raise Http404


def callback(request: HttpRequest) -> HttpResponse:
    raise Http404
