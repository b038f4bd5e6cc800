"""Structures, professionals, their roles, invitations and the user charter."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import uuid4

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dcc.accounts.choices import Role, StructureIdType, StructureKind
from dcc.core.models import BaseModel


class Structure(BaseModel):
    """A health or coordination structure: hospital, clinic, cancer centre, private practice,
    3C or regional cancer network. Identified nationally by FINESS (or SIRET, or another
    national id); a 3C or establishment may belong to a regional network (its parent)."""

    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("type"), max_length=32, choices=StructureKind.choices)
    national_id_type = models.CharField(
        _("type d'identifiant"), max_length=16, choices=StructureIdType.choices
    )
    national_id = models.CharField(_("identifiant national"), max_length=32)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("réseau ou structure de rattachement"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Whether the professionals of this structure share the patients registered here (a
    # hospital's departments usually do; a network or a 3C does not).
    shares_registered_patients = models.BooleanField(
        _("partage les patients enregistrés entre ses professionnels"), default=False
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["national_id_type", "national_id"], name="structure_national_id_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_superuser", True)
        fields.setdefault("is_staff", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A professional using the DCC: physician, nurse, secretary, coordinator or administrator.

    Health professionals carry their RPPS (the national professional identifier, sent as
    IdNatPS "8"+RPPS in every trace and document); profession and specialty come from the
    CI-SIS value set JDV_J01. What they may do depends on their memberships in structures."""

    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    email = models.EmailField(_("adresse électronique"), unique=True)
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    rpps = models.CharField(_("RPPS"), max_length=11, null=True, blank=True, unique=True)
    profession_code = models.CharField(_("profession"), max_length=32, blank=True)
    specialty_code = models.CharField(_("spécialité"), max_length=32, blank=True)
    is_active = models.BooleanField(_("actif"), default=True)
    is_staff = models.BooleanField(default=False)
    # Rotated to end every open session at once (deactivation, password or factor change).
    security_stamp = models.UUIDField(default=uuid4)
    date_joined = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        ordering = ["last_name", "first_name"]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return self.name_of(self.first_name, self.last_name)

    @staticmethod
    def name_of(first_name: str, last_name: str) -> str:
        """A professional's name as the DCC shows it: "Claire MARTIN"."""
        return f"{first_name} {last_name.upper()}".strip()

    def get_session_auth_hash(self) -> str:
        # Bind sessions to the security stamp as well as the password hash.
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "dcc.accounts.User.session",
            f"{self.password}:{self.security_stamp}",
            algorithm="sha256",
        ).hexdigest()


class MembershipQuerySet(models.QuerySet["Membership"]):
    def active(self) -> MembershipQuerySet:
        return self.filter(revoked_at__isnull=True, structure__is_active=True)


class Membership(BaseModel):
    """A role a professional holds in a structure. Revoked, never deleted: the history of who
    could do what, and who granted it, stays visible."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["structure__name", "role"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "structure", "role"],
                condition=Q(revoked_at__isnull=True),
                name="membership_active_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.structure}"


class Invitation(BaseModel):
    """An invitation for a professional to open their account with a first role. Only a hash
    of the token is stored; the link expires and is single-use."""

    email = models.EmailField(_("adresse électronique"))
    first_name = models.CharField(_("prénom"), max_length=100)
    last_name = models.CharField(_("nom"), max_length=100)
    rpps = models.CharField(_("RPPS"), max_length=11, blank=True)
    profession_code = models.CharField(_("profession"), max_length=32, blank=True)
    specialty_code = models.CharField(_("spécialité"), max_length=32, blank=True)
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(_("rôle"), max_length=32, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email


class Charter(models.Model):
    """A version of the user charter (charte d'utilisation). Publishing a new version makes
    every professional accept it again before any other page."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(_("titre"), max_length=200)
    body = models.TextField(_("texte"))
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class CharterAcceptance(models.Model):
    """A professional's acceptance of one charter version: when, and from which address."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="charter_acceptances")
    charter = models.ForeignKey(Charter, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)
    source_ip = models.CharField(max_length=45, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "charter"], name="charter_acceptance_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} v{self.charter_id} {self.accepted_at:%Y-%m-%d}"


class LoginThrottle(models.Model):
    """Consecutive failed logins for one key (a hashed login name, or a source address).

    Unknown login names are counted exactly like real ones, so the lock-out reveals nothing
    about which accounts exist."""

    key = models.CharField(max_length=80, unique=True)
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key
