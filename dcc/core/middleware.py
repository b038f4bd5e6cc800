"""Request-scoped context: request id, source address and the acting user."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from dcc.core.context import ANONYMOUS, Actor, new_request_id, set_actor

_REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def client_ip(request: HttpRequest) -> str:
    """The client address; X-Forwarded-For is trusted only behind the configured proxy count."""
    proxies = int(settings.TRUSTED_PROXY_COUNT)
    if proxies:
        header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        forwarded = [part.strip() for part in header.split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies][:45]
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


class RequestContextMiddleware:
    """Give every request an id (reused from a well-formed X-Request-ID) and an anonymous actor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id  # type: ignore[attr-defined]
        request.source_ip = client_ip(request)  # type: ignore[attr-defined]
        set_actor(Actor(kind="anonymous", source_ip=request.source_ip, request_id=request_id))  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            set_actor(ANONYMOUS)
        response["X-Request-ID"] = request_id
        return response


class ActorMiddleware:
    """Once the user is known, stamp the actor context with their identity and current role."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from dcc.accounts.selectors import actor_for_request

        set_actor(actor_for_request(request))
        return self.get_response(request)
