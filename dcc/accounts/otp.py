"""Second factor: TOTP devices (RFC 6238) through django-otp, with QR-code enrolment."""

from __future__ import annotations

import base64

import qrcode
import qrcode.image.svg
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from dcc.accounts.models import User
from dcc.audit.choices import Action
from dcc.audit.services import record_event


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled, created on first call."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(
            user=user, name="Application d'authentification", confirmed=False
        )
    return device


def secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def secret_for_typing(device: TOTPDevice) -> str:
    """The key in groups of four, as authenticator apps accept it, for manual entry."""
    secret = secret_base32(device)
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg: bytes = image.to_string()
    return svg.decode()


def verify(device: TOTPDevice, token: str) -> bool:
    token = token.strip().replace(" ", "")
    if not token.isdigit() or len(token) != device.digits:
        return False
    return bool(device.verify_token(token))


def confirm_enrolment(*, user: User, device: TOTPDevice, token: str) -> bool:
    if not verify(device, token):
        return False
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        record_event(action=Action.OTP_ENROLLED, resource_type="User", resource_id=str(user.uuid))
    return True
