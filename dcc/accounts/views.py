"""Login (password + TOTP), logout, user charter, invitations and the working context."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from dcc.accounts import otp, selectors, services
from dcc.accounts.choices import LoginMethod
from dcc.accounts.forms import (
    CharterAcceptForm,
    CharterPublishForm,
    ContextForm,
    LoginForm,
    SetPasswordForm,
    TokenForm,
)
from dcc.accounts.models import Membership, User
from dcc.accounts.permissions import can_publish_charter
from dcc.audit.choices import Action
from dcc.audit.services import record_event

PREAUTH_SECONDS = 300
GENERIC_LOGIN_ERROR = gettext_lazy("Adresse électronique ou mot de passe incorrect.")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def complete_login(request: HttpRequest, user: User, *, method: str, backend: str) -> None:
    """Open the session (new id), choose the working context and trace the login."""
    login(request, user, backend=backend)
    now = int(time.time())
    request.session["dcc_auth_at"] = now
    request.session["dcc_seen_at"] = now
    request.session["dcc_login_method"] = method
    memberships = selectors.active_memberships(user)
    if memberships:
        request.session["dcc_structure"] = str(memberships[0].structure.uuid)
        request.session["dcc_role"] = memberships[0].role
    from dcc.core.context import set_actor

    set_actor(selectors.actor_for_request(request))
    services.record_login(user=user, method=method)


def _preauth_user(request: HttpRequest) -> User | None:
    data = request.session.get("dcc_preauth")
    if not isinstance(data, dict) or data.get("at", 0) + PREAUTH_SECONDS < time.time():
        return None
    user_pk = data.get("user")
    if not isinstance(user_pk, int):
        return None
    user = User.objects.filter(pk=user_pk, is_active=True).first()
    if user is None or str(user.security_stamp) != data.get("stamp"):
        return None
    return user


@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST if request.method == "POST" else None)
    password_login = settings.LOCAL_LOGIN != "none"
    if request.method == "POST" and password_login and form.is_valid():
        email = form.cleaned_data["email"].lower()
        user = authenticate(request, username=email, password=form.cleaned_data["password"])
        if isinstance(user, User):
            if not settings.REQUIRE_OTP:
                complete_login(
                    request,
                    user,
                    method=LoginMethod.PASSWORD,
                    backend="dcc.accounts.backends.ThrottledPasswordBackend",
                )
                return HttpResponseRedirect(_safe_next(request))
            request.session.cycle_key()
            request.session["dcc_preauth"] = {
                "user": user.pk,
                "stamp": str(user.security_stamp),
                "at": time.time(),
            }
            step = "accounts:otp_verify" if otp.confirmed_device(user) else "accounts:otp_enrol"
            target = reverse(step)
            next_url = request.POST.get("next")
            if next_url:
                target += "?next=" + next_url
            return redirect(target)
        locked = bool(getattr(request, "dcc_login_locked", False))
        services.record_login_failure(
            login=email, source_ip=getattr(request, "source_ip", ""), locked=locked
        )
        if locked:
            form.add_error(
                None,
                _(
                    "Trop de tentatives infructueuses : la connexion est bloquée pendant %(minutes)s minutes."
                )
                % {"minutes": settings.LOGIN_LOCK_SECONDS // 60},
            )
        else:
            form.add_error(None, str(GENERIC_LOGIN_ERROR))
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "password_login": password_login,
            "psc_enabled": bool(settings.OIDC_ISSUER),
            "next": request.GET.get("next", ""),
        },
    )


def _otp_failed(request: HttpRequest, user: User) -> bool:
    from dcc.accounts import throttle

    locked = throttle.register_failures(user.email, getattr(request, "source_ip", ""))
    with transaction.atomic():
        record_event(
            action=Action.LOGIN_LOCKED if locked else Action.OTP_FAILED,
            outcome="denied",
            resource_type="User",
            resource_id=str(user.uuid),
        )
    if locked:
        request.session.pop("dcc_preauth", None)
    return locked


@require_http_methods(["GET", "POST"])
def otp_verify_view(request: HttpRequest) -> HttpResponse:
    user = _preauth_user(request)
    device = otp.confirmed_device(user) if user else None
    if user is None or device is None:
        messages.error(request, _("Votre session de connexion a expiré : recommencez."))
        return redirect("accounts:login")
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        from dcc.accounts import throttle

        if throttle.is_locked(throttle.account_key(user.email)):
            request.session.pop("dcc_preauth", None)
            messages.error(
                request,
                _("Trop de tentatives infructueuses : la connexion est temporairement bloquée."),
            )
            return redirect("accounts:login")
        if otp.verify(device, form.cleaned_data["token"]):
            request.session.pop("dcc_preauth", None)
            complete_login(
                request,
                user,
                method=LoginMethod.PASSWORD_TOTP,
                backend="dcc.accounts.backends.ThrottledPasswordBackend",
            )
            otp_login(request, device)
            return HttpResponseRedirect(_safe_next(request))
        if _otp_failed(request, user):
            messages.error(
                request,
                _("Trop de tentatives infructueuses : la connexion est temporairement bloquée."),
            )
            return redirect("accounts:login")
        form.add_error("token", _("Code incorrect ou expiré."))
    return render(
        request, "accounts/otp_verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_http_methods(["GET", "POST"])
def otp_enrol_view(request: HttpRequest) -> HttpResponse:
    user = _preauth_user(request)
    if user is None:
        messages.error(request, _("Votre session de connexion a expiré : recommencez."))
        return redirect("accounts:login")
    if otp.confirmed_device(user):
        return redirect("accounts:otp_verify")
    device = otp.pending_device(user)
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if otp.confirm_enrolment(user=user, device=device, token=form.cleaned_data["token"]):
            request.session.pop("dcc_preauth", None)
            complete_login(
                request,
                user,
                method=LoginMethod.PASSWORD_TOTP,
                backend="dcc.accounts.backends.ThrottledPasswordBackend",
            )
            otp_login(request, device)
            messages.success(request, _("Votre second facteur est enregistré."))
            return HttpResponseRedirect(_safe_next(request))
        if _otp_failed(request, user):
            messages.error(
                request,
                _("Trop de tentatives infructueuses : la connexion est temporairement bloquée."),
            )
            return redirect("accounts:login")
        form.add_error(
            "token", _("Code incorrect : vérifiez l'heure de votre téléphone et recommencez.")
        )
    return render(
        request,
        "accounts/otp_enrol.html",
        {
            "form": form,
            "qr_svg": otp.qr_svg(device),
            "secret": otp.secret_for_typing(device),
            "next": request.GET.get("next", ""),
        },
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        with transaction.atomic():
            record_event(
                action=Action.LOGOUT,
                resource_type="User",
                resource_id=str(getattr(request.user, "uuid", "")),
            )
    logout(request)
    messages.info(request, _("Vous êtes déconnecté(e)."))
    return redirect("accounts:login")


@login_required
@require_http_methods(["GET", "POST"])
def charter_view(request: HttpRequest) -> HttpResponse:
    charter = selectors.current_charter()
    user = selectors.request_user(request)
    if charter is None:
        return redirect(settings.LOGIN_REDIRECT_URL)
    accepted = selectors.has_accepted_current_charter(user)
    form = CharterAcceptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.accept_charter(
            user=user, charter=charter, source_ip=getattr(request, "source_ip", "")
        )
        request.session["dcc_charter"] = charter.version
        messages.success(
            request,
            _("Merci : votre acceptation de la charte (version %(v)s) est enregistrée.")
            % {"v": charter.version},
        )
        return HttpResponseRedirect(_safe_next(request))
    return render(
        request,
        "accounts/charter.html",
        {
            "charter": charter,
            "form": form,
            "accepted": accepted,
            "next": request.GET.get("next", ""),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def charter_publish_view(request: HttpRequest) -> HttpResponse:
    user = selectors.request_user(request)
    if not can_publish_charter(user):
        raise PermissionDenied
    current = selectors.current_charter()
    form = CharterPublishForm(
        request.POST if request.method == "POST" else None,
        initial={"title": current.title, "body": current.body} if current else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            charter = services.publish_charter(
                actor=user, title=form.cleaned_data["title"], body=form.cleaned_data["body"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Version %(v)s de la charte publiée : chacun devra l'accepter à nouveau.")
                % {"v": charter.version},
            )
            return redirect("accounts:charter")
    return render(request, "accounts/charter_publish.html", {"form": form, "current": current})


@require_http_methods(["GET", "POST"])
def invitation_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = services.find_invitation(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=410)
    form = SetPasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_invitation(token=token, password=form.cleaned_data["password1"])
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                form.add_error(None, error)
            else:
                form.add_error("password1", error)
        else:
            messages.success(
                request,
                _(
                    "Votre compte est activé : connectez-vous, puis enregistrez votre second facteur."
                ),
            )
            return redirect("accounts:login")
    return render(
        request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation}
    )


@login_required
@require_POST
def context_view(request: HttpRequest) -> HttpResponse:
    form = ContextForm(request.POST)
    user = selectors.request_user(request)
    if form.is_valid():
        membership = (
            Membership.objects.active()
            .filter(user=user, uuid=form.cleaned_data["membership"])
            .select_related("structure")
            .first()
        )
        if membership is not None:
            request.session["dcc_structure"] = str(membership.structure.uuid)
            request.session["dcc_role"] = membership.role
            messages.success(
                request,
                _("Vous travaillez maintenant pour %(s)s (%(r)s).")
                % {"s": membership.structure.name, "r": membership.get_role_display()},
            )
            return redirect(settings.LOGIN_REDIRECT_URL)
    messages.error(request, _("Ce rôle n'est pas (ou plus) le vôtre."))
    return redirect(settings.LOGIN_REDIRECT_URL)


def context_for_templates(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    if not isinstance(user, User) or not user.is_authenticated:
        return {}
    current = request.session.get("dcc_structure", "")
    role = request.session.get("dcc_role", "")
    memberships = selectors.active_memberships(user)
    active = next(
        (m for m in memberships if str(m.structure.uuid) == current and m.role == role), None
    )
    from dcc.patients.permissions import PATIENT_ROLES

    return {
        "dcc_memberships": memberships,
        "dcc_current_membership": active,
        "dcc_sees_patients": any(m.role in PATIENT_ROLES for m in memberships),
    }
