"""Home page per role, error pages and the CSRF failure page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from dcc.core import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", selectors.home_for(request))


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "json" in accept and "html" not in accept


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if _wants_json(request):
        # API clients get the same answer in JSON (FHIR endpoints give an OperationOutcome).
        return JsonResponse({"status": status, "title": title, "detail": message}, status=status)
    return render(
        request,
        "core/error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request, 400, _("Requête incorrecte"), _("La requête envoyée n'a pas pu être comprise.")
    )


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        403,
        _("Accès refusé"),
        _(
            "Vous n'avez pas le droit d'accéder à cette page. Si vous pensez que c'est une erreur, contactez l'administrateur de votre structure."
        ),
    )


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(
        request,
        404,
        _("Page introuvable"),
        _("Cette page n'existe pas ou vous n'y avez pas accès."),
    )


def server_error(request: HttpRequest) -> HttpResponse:
    # No template context processors here: the error may come from them.
    from django.template import loader

    template = loader.get_template("core/500.html")
    return HttpResponse(
        template.render({"request_id": getattr(request, "request_id", "")}), status=500
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(
        request,
        403,
        _("Formulaire expiré ou invalide"),
        _(
            "Pour votre sécurité, ce formulaire n'a pas été accepté (jeton de sécurité absent ou expiré). Rechargez la page et recommencez."
        ),
    )
