"""Every change to structures, accounts, roles and the charter, each audited.

Services are keyword-only, own their transaction, check the policy first and record exactly
one audit event for what they did (or a denial, kept even though nothing else is saved)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from dcc.accounts import permissions, throttle
from dcc.accounts.choices import Role, StructureIdType
from dcc.accounts.identifiers import is_valid_finess, is_valid_rpps, is_valid_siret
from dcc.accounts.models import (
    Charter,
    CharterAcceptance,
    Invitation,
    Membership,
    Structure,
    User,
)
from dcc.accounts.selectors import actor_of
from dcc.audit.choices import Action, Outcome
from dcc.audit.services import record_denied, record_event
from dcc.interop.terminology import value_sets


def _deny(actor: User, action: str, **fields: Any) -> PermissionDenied:
    record_denied(action=action, actor=actor_of(actor), **fields)
    return PermissionDenied(_("Vous n'avez pas le droit d'effectuer cette action."))


def _structure_snapshot(structure: Structure) -> dict[str, Any]:
    return {
        "name": structure.name,
        "kind": structure.kind,
        "national_id_type": structure.national_id_type,
        "national_id": structure.national_id,
        "parent": str(structure.parent.uuid) if structure.parent else None,
        "is_active": structure.is_active,
        "shares_registered_patients": structure.shares_registered_patients,
    }


def validate_structure_id(national_id_type: str, national_id: str) -> None:
    checks = {
        StructureIdType.FINESS: (
            is_valid_finess,
            _("Numéro FINESS invalide : 9 caractères dont une clé de contrôle."),
        ),
        StructureIdType.SIRET: (
            is_valid_siret,
            _("Numéro SIRET invalide : 14 chiffres dont une clé de contrôle."),
        ),
    }
    check = (
        checks.get(StructureIdType(national_id_type))
        if national_id_type in StructureIdType.values
        else None
    )
    if national_id_type not in StructureIdType.values:
        raise ValidationError({"national_id_type": _("Type d'identifiant inconnu.")})
    if check and not check[0](national_id):
        raise ValidationError({"national_id": check[1]})
    if not national_id.strip():
        raise ValidationError({"national_id": _("L'identifiant national est obligatoire.")})


def create_structure(
    *,
    actor: User,
    name: str,
    kind: str,
    national_id_type: str,
    national_id: str,
    parent: Structure | None = None,
) -> Structure:
    if not permissions.can_create_structure(actor, parent):
        raise _deny(actor, Action.STRUCTURE_CREATED, resource_type="Structure")
    national_id = national_id.strip().upper()
    validate_structure_id(national_id_type, national_id)
    if Structure.objects.filter(
        national_id_type=national_id_type, national_id=national_id
    ).exists():
        raise ValidationError({"national_id": _("Une structure porte déjà cet identifiant.")})
    with transaction.atomic():
        structure = Structure(
            name=name.strip(),
            kind=kind,
            national_id_type=national_id_type,
            national_id=national_id,
            parent=parent,
        )
        structure.full_clean()
        try:
            with transaction.atomic():
                structure.save()
        except IntegrityError:
            # Two administrators created the same structure at the same moment. Only this
            # save is guarded: a failing audit insert must not pass for a duplicate.
            raise ValidationError(
                {"national_id": _("Une structure porte déjà cet identifiant.")}
            ) from None
        record_event(
            actor=actor_of(actor),
            action=Action.STRUCTURE_CREATED,
            resource_type="Structure",
            resource_id=str(structure.uuid),
            details={"after": _structure_snapshot(structure)},
        )
    permissions.forget(actor)
    return structure


def update_structure(
    *,
    actor: User,
    structure: Structure,
    name: str,
    kind: str,
    parent: Structure | None,
    is_active: bool,
    shares_registered_patients: bool | None = None,
) -> Structure:
    """Change a structure. ``shares_registered_patients`` (None = unchanged) lets the clinical
    staff of the structure see every patient registered there, not only their own."""
    if not permissions.can_manage_structure(actor, structure):
        raise _deny(
            actor,
            Action.STRUCTURE_UPDATED,
            resource_type="Structure",
            resource_id=str(structure.uuid),
        )
    if parent != structure.parent and not (
        (structure.parent is None or permissions.can_manage_structure(actor, structure.parent))
        and (parent is None or permissions.can_manage_structure(actor, parent))
    ):
        # Moving a structure needs authority over both its old and its new parent.
        raise _deny(
            actor,
            Action.STRUCTURE_UPDATED,
            resource_type="Structure",
            resource_id=str(structure.uuid),
            details={"refused": "parent"},
        )
    if parent is not None and (parent.pk == structure.pk or _is_below(parent, structure)):
        raise ValidationError(
            {
                "parent": _(
                    "Une structure ne peut pas être rattachée à elle-même ou à l'une de ses structures membres."
                )
            }
        )
    with transaction.atomic():
        locked = Structure.objects.select_for_update().get(pk=structure.pk)
        before = _structure_snapshot(locked)
        locked.name, locked.kind, locked.parent, locked.is_active = (
            name.strip(),
            kind,
            parent,
            is_active,
        )
        if shares_registered_patients is not None:
            locked.shares_registered_patients = shares_registered_patients
        locked.full_clean()
        locked.save()
        record_event(
            actor=actor_of(actor),
            action=Action.STRUCTURE_UPDATED,
            resource_type="Structure",
            resource_id=str(locked.uuid),
            details={"before": before, "after": _structure_snapshot(locked)},
        )
    permissions.forget(actor)
    return locked


def _is_below(candidate: Structure, ancestor: Structure) -> bool:
    node: Structure | None = candidate
    seen: set[int] = set()
    while node is not None and node.pk not in seen:
        if node.parent_id == ancestor.pk:
            return True
        seen.add(node.pk)
        node = node.parent
    return False


def _validate_professional_codes(profession_code: str, specialty_code: str, rpps: str) -> None:
    errors: dict[str, str] = {}
    if rpps and not is_valid_rpps(rpps):
        errors["rpps"] = _("Numéro RPPS invalide : 11 chiffres dont une clé de contrôle.")
    if profession_code and profession_code not in {c.code for c in value_sets.professions()}:
        errors["profession_code"] = _("Profession inconnue du jeu de valeurs CI-SIS.")
    if specialty_code:
        if specialty_code not in {c.code for c in value_sets.specialties()}:
            errors["specialty_code"] = _("Spécialité inconnue du jeu de valeurs CI-SIS.")
        elif profession_code and not specialty_code.startswith(profession_code + "/"):
            errors["specialty_code"] = _(
                "Cette spécialité ne correspond pas à la profession choisie."
            )
    if errors:
        raise ValidationError(errors)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_user(
    *,
    actor: User,
    email: str,
    first_name: str,
    last_name: str,
    structure: Structure,
    role: str,
    rpps: str = "",
    profession_code: str = "",
    specialty_code: str = "",
) -> tuple[Invitation, str]:
    """Invite a professional; returns the invitation and the one-time token for the link."""
    if not permissions.can_grant_role(actor, structure, role):
        raise _deny(
            actor, Action.USER_INVITED, resource_type="Structure", resource_id=str(structure.uuid)
        )
    email = email.strip().lower()
    _validate_professional_codes(profession_code, specialty_code, rpps)
    if role not in Role.values:
        raise ValidationError({"role": _("Rôle inconnu.")})
    if User.objects.filter(email=email).exists():
        raise ValidationError(
            {
                "email": _(
                    "Un compte existe déjà avec cette adresse : attribuez-lui un rôle depuis sa fiche."
                )
            }
        )
    if rpps and User.objects.filter(rpps=rpps).exists():
        raise ValidationError({"rpps": _("Un compte existe déjà avec ce numéro RPPS.")})
    now = timezone.now()
    if Invitation.objects.filter(
        email=email, accepted_at__isnull=True, cancelled_at__isnull=True, expires_at__gt=now
    ).exists():
        raise ValidationError({"email": _("Une invitation est déjà en cours pour cette adresse.")})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            first_name=first_name.strip(),
            last_name=last_name.strip(),
            rpps=rpps,
            profession_code=profession_code,
            specialty_code=specialty_code,
            structure=structure,
            role=role,
            token_hash=_token_hash(token),
            invited_by=actor,
            expires_at=now + dt.timedelta(days=settings.INVITATION_DAYS),
        )
        record_event(
            actor=actor_of(actor),
            action=Action.USER_INVITED,
            resource_type="Invitation",
            resource_id=str(invitation.uuid),
            details={"structure": str(structure.uuid), "role": role, "rpps": rpps},
        )
        link = settings.SITE_URL.rstrip("/") + reverse("accounts:invitation", args=[token])
        transaction.on_commit(
            lambda: send_mail(
                subject=_("Votre accès au Dossier Communicant en Cancérologie"),
                message=_(
                    "Bonjour,\n\nUn compte a été préparé pour vous sur le DCC. Pour l'activer, "
                    "ouvrez ce lien (valable %(days)s jours) :\n%(link)s\n"
                )
                % {"days": settings.INVITATION_DAYS, "link": link},
                from_email=None,
                recipient_list=[email],
                fail_silently=True,
            )
        )
    return invitation, token


def find_invitation(token: str) -> Invitation | None:
    """The pending invitation for a token; None when unknown, used, cancelled or expired."""
    invitation = (
        Invitation.objects.select_related("structure").filter(token_hash=_token_hash(token)).first()
    )
    if invitation is None or invitation.accepted_at or invitation.cancelled_at:
        return None
    if invitation.expires_at <= timezone.now():
        return None
    return invitation


def accept_invitation(*, token: str, password: str) -> User:
    invitation = find_invitation(token)
    if invitation is None:
        raise ValidationError(
            _("Ce lien d'invitation n'est plus valable (expiré, déjà utilisé ou annulé).")
        )
    candidate = User(
        email=invitation.email, first_name=invitation.first_name, last_name=invitation.last_name
    )
    validate_password(password, candidate)
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at:
            raise ValidationError(_("Cette invitation a déjà été utilisée."))
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    invitation.email,
                    password,
                    first_name=invitation.first_name,
                    last_name=invitation.last_name,
                    rpps=invitation.rpps or None,
                    profession_code=invitation.profession_code,
                    specialty_code=invitation.specialty_code,
                )
        except IntegrityError:
            # Someone took this e-mail address or RPPS since the invitation was sent. Only the
            # account creation is guarded: a failing audit insert must not pass for this.
            raise ValidationError(
                _("Un compte existe déjà avec cette adresse ou ce numéro RPPS.")
            ) from None
        membership = Membership.objects.create(
            user=user,
            structure=invitation.structure,
            role=invitation.role,
            granted_by=invitation.invited_by,
        )
        locked.accepted_at = timezone.now()
        locked.accepted_user = user
        locked.save(update_fields=["accepted_at", "accepted_user", "updated_at"])
        record_event(
            actor=actor_of(user),
            action=Action.INVITATION_ACCEPTED,
            resource_type="User",
            resource_id=str(user.uuid),
            details={"invitation": str(invitation.uuid), "membership": str(membership.uuid)},
        )
        record_event(
            actor=actor_of(user),
            action=Action.ROLE_GRANTED,
            resource_type="Membership",
            resource_id=str(membership.uuid),
            details=_membership_change(None, membership, target=user),
        )
    return user


def cancel_invitation(*, actor: User, invitation: Invitation) -> None:
    if not permissions.can_manage_structure(actor, invitation.structure):
        raise _deny(
            actor,
            Action.INVITATION_CANCELLED,
            resource_type="Invitation",
            resource_id=str(invitation.uuid),
        )
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at or locked.cancelled_at or locked.expires_at <= timezone.now():
            raise ValidationError(_("Seule une invitation en attente peut être annulée."))
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["cancelled_at", "updated_at"])
        record_event(
            actor=actor_of(actor),
            action=Action.INVITATION_CANCELLED,
            resource_type="Invitation",
            resource_id=str(locked.uuid),
            details={"structure": str(locked.structure.uuid), "role": locked.role},
        )


def _membership_change(
    before: Membership | None, after: Membership | None, *, target: User
) -> dict[str, Any]:
    def state(m: Membership | None) -> dict[str, Any] | None:
        if m is None:
            return None
        return {"structure": str(m.structure.uuid), "role": m.role, "active": m.revoked_at is None}

    return {
        "target_user": str(target.uuid),
        "target_rpps": target.rpps or "",
        "before": state(before),
        "after": state(after),
    }


def grant_role(*, actor: User, user: User, structure: Structure, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Rôle inconnu.")})
    if (
        not permissions.can_grant_role(actor, structure, role)
        or actor.pk == user.pk
        and not actor.is_superuser
    ):
        raise _deny(
            actor,
            Action.ROLE_GRANTED,
            resource_type="User",
            resource_id=str(user.uuid),
            details={"role": role, "structure": str(structure.uuid)},
        )
    if Membership.objects.active().filter(user=user, structure=structure, role=role).exists():
        raise ValidationError({"role": _("Ce professionnel a déjà ce rôle dans cette structure.")})
    with transaction.atomic():
        membership = Membership.objects.create(
            user=user, structure=structure, role=role, granted_by=actor
        )
        record_event(
            actor=actor_of(actor),
            action=Action.ROLE_GRANTED,
            resource_type="Membership",
            resource_id=str(membership.uuid),
            details=_membership_change(None, membership, target=user),
        )
    permissions.forget(actor, user)
    return membership


def revoke_role(*, actor: User, membership: Membership) -> Membership:
    if not permissions.can_manage_structure(actor, membership.structure) or (
        actor.pk == membership.user_id and not actor.is_superuser
    ):
        raise _deny(
            actor, Action.ROLE_REVOKED, resource_type="Membership", resource_id=str(membership.uuid)
        )
    with transaction.atomic():
        locked = (
            Membership.objects.select_for_update()
            .select_related("structure", "user")
            .get(pk=membership.pk)
        )
        if locked.revoked_at is not None:
            raise ValidationError(_("Ce rôle a déjà été retiré."))
        before = Membership(structure=locked.structure, role=locked.role)
        locked.revoked_at = timezone.now()
        locked.revoked_by = actor
        locked.save(update_fields=["revoked_at", "revoked_by", "updated_at"])
        record_event(
            actor=actor_of(actor),
            action=Action.ROLE_REVOKED,
            resource_type="Membership",
            resource_id=str(locked.uuid),
            details=_membership_change(before, locked, target=locked.user),
        )
    permissions.forget(actor, membership.user, locked.user)
    return locked


def set_user_active(*, actor: User, user: User, active: bool) -> User:
    action = Action.USER_REACTIVATED if active else Action.USER_DEACTIVATED
    if not permissions.can_manage_user(actor, user):
        raise _deny(actor, action, resource_type="User", resource_id=str(user.uuid))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        before = locked.is_active
        locked.is_active = active
        locked.deactivated_at = None if active else timezone.now()
        # A new stamp invalidates every open session of this user at their next request.
        locked.security_stamp = uuid.uuid4()
        locked.save(update_fields=["is_active", "deactivated_at", "security_stamp"])
        record_event(
            actor=actor_of(actor),
            action=action,
            resource_type="User",
            resource_id=str(locked.uuid),
            details={
                "before": {"is_active": before},
                "after": {"is_active": active},
                "target_rpps": locked.rpps or "",
            },
        )
    return locked


def update_professional(
    *,
    actor: User,
    user: User,
    first_name: str,
    last_name: str,
    rpps: str,
    profession_code: str,
    specialty_code: str,
) -> User:
    if not permissions.can_manage_user(actor, user):
        raise _deny(actor, Action.USER_UPDATED, resource_type="User", resource_id=str(user.uuid))
    _validate_professional_codes(profession_code, specialty_code, rpps)
    if rpps and User.objects.filter(rpps=rpps).exclude(pk=user.pk).exists():
        raise ValidationError({"rpps": _("Un compte existe déjà avec ce numéro RPPS.")})
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        fields = ("first_name", "last_name", "rpps", "profession_code", "specialty_code")
        before = {name: getattr(locked, name) for name in fields}
        locked.first_name, locked.last_name = first_name.strip(), last_name.strip()
        locked.rpps = rpps or None
        locked.profession_code, locked.specialty_code = profession_code, specialty_code
        locked.save(update_fields=list(fields))
        record_event(
            actor=actor_of(actor),
            action=Action.USER_UPDATED,
            resource_type="User",
            resource_id=str(locked.uuid),
            details={"before": before, "after": {name: getattr(locked, name) for name in fields}},
        )
    return locked


def publish_charter(*, actor: User, title: str, body: str) -> Charter:
    if not permissions.can_publish_charter(actor):
        raise _deny(actor, Action.CHARTER_PUBLISHED, resource_type="Charter")
    if not title.strip() or not body.strip():
        raise ValidationError(_("Le titre et le texte de la charte sont obligatoires."))
    with transaction.atomic():
        latest = Charter.objects.select_for_update().order_by("-version").first()
        charter = Charter.objects.create(
            version=(latest.version + 1) if latest else 1,
            title=title.strip(),
            body=body.strip(),
            published_by=actor,
        )
        record_event(
            actor=actor_of(actor),
            action=Action.CHARTER_PUBLISHED,
            resource_type="Charter",
            resource_id=str(charter.version),
            details={"sha256": hashlib.sha256(charter.body.encode()).hexdigest()},
        )
    return charter


def accept_charter(*, user: User, charter: Charter, source_ip: str) -> CharterAcceptance:
    with transaction.atomic():
        acceptance, created = CharterAcceptance.objects.get_or_create(
            user=user, charter=charter, defaults={"source_ip": source_ip}
        )
        if created:
            record_event(
                actor=actor_of(user),
                action=Action.CHARTER_ACCEPTED,
                resource_type="Charter",
                resource_id=str(charter.version),
            )
    return acceptance


def record_login(*, user: User, method: str) -> None:
    """Trace a successful login and clear the failure counter of this login name."""
    with transaction.atomic():
        throttle.reset(user.email)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        record_event(
            actor=actor_of(user),
            action=Action.LOGIN,
            resource_type="User",
            resource_id=str(user.uuid),
            details={"method": method},
        )


def record_login_failure(
    *, login: str, source_ip: str, action: str = Action.LOGIN_FAILED, locked: bool = False
) -> None:
    """Trace a failed login. The login name is kept as a hash: it may be a typo of someone else's."""
    with transaction.atomic():
        record_event(
            action=Action.LOGIN_LOCKED if locked else action,
            outcome=Outcome.DENIED,
            details={"login_hash": throttle.account_key(login)[2:18]},
        )
