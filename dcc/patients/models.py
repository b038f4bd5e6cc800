"""The patient's identity, its history, and the local numbers hospitals give them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dcc.core.models import BaseModel
from dcc.patients.choices import (
    CareTeamSource,
    CaseAccessSource,
    IdentityEvidence,
    IdentityStatus,
    InsKind,
    Sex,
)


class Patient(BaseModel):
    """A person followed for cancer, identified as identity vigilance (RNIV) requires.

    The strict traits (birth name, birth first names, sex, birth date, birth place) and the INS
    matricule identify the person; the used name and first name are how they are called. The
    confidence status says how far the identity was checked: the INS may be shared outside only
    for a qualified identity. Identity changes never overwrite: each one is a new
    ``PatientIdentityVersion``. A duplicate is never deleted: merged, it points to the record
    that survives."""

    ins_matricule = models.CharField(_("matricule INS"), max_length=15, blank=True)
    ins_kind = models.CharField(_("type d'INS"), max_length=8, choices=InsKind.choices, blank=True)
    birth_name = models.CharField(_("nom de naissance"), max_length=100)
    birth_first_names = models.CharField(_("prénoms de naissance"), max_length=200)
    first_birth_first_name = models.CharField(_("premier prénom de naissance"), max_length=100)
    used_name = models.CharField(_("nom utilisé"), max_length=100, blank=True)
    used_first_name = models.CharField(_("prénom utilisé"), max_length=100, blank=True)
    sex = models.CharField(_("sexe"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date de naissance"))
    birth_place_code = models.CharField(_("lieu de naissance (code INSEE)"), max_length=5)
    identity_status = models.CharField(
        _("statut de l'identité"),
        max_length=5,
        choices=IdentityStatus.choices,
        default=IdentityStatus.PROVISIONAL,
    )
    identity_evidence = models.CharField(
        _("pièce justificative"), max_length=32, choices=IdentityEvidence.choices, blank=True
    )
    identity_version = models.PositiveIntegerField(default=1)
    general_practitioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("médecin traitant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Contact details: not identity traits (no version), changed through update_contact. With
    # database defaults, so that bulk loads (dcc synth, COPY) may leave them out.
    address = models.TextField(_("adresse"), blank=True, db_default="")
    postal_code = models.CharField(_("code postal"), max_length=10, blank=True, db_default="")
    city = models.CharField(_("commune"), max_length=100, blank=True, db_default="")
    phone = models.CharField(_("téléphone"), max_length=20, blank=True, db_default="")
    email = models.EmailField(_("adresse électronique"), blank=True, db_default="")
    objects_to_sharing = models.BooleanField(
        _("opposition au partage hors équipe de soins"), default=False
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="aliases"
    )
    # Identity-vigilance keys (see patients.matching): no accents, case, spaces or hyphens.
    birth_name_key = models.CharField(max_length=100, blank=True, editable=False)
    used_name_key = models.CharField(max_length=100, blank=True, editable=False)
    first_name_key = models.CharField(max_length=100, blank=True, editable=False)

    class Meta:
        ordering = ["birth_name", "first_birth_first_name"]
        constraints = [
            # One living record per INS: a second registration is a duplicate to merge.
            models.UniqueConstraint(
                fields=["ins_matricule"],
                condition=~Q(ins_matricule="") & Q(merged_into__isnull=True),
                name="patient_ins_unique",
            )
        ]
        indexes = [
            models.Index(fields=["birth_date"], name="patient_birth_date_idx"),
            models.Index(
                fields=["birth_name_key", "birth_date"], name="patient_birth_name_key_idx"
            ),
            models.Index(
                fields=["first_name_key", "birth_date"], name="patient_first_name_key_idx"
            ),
            # Name-prefix search at regional scale (LIKE 'DUP%' needs the pattern operator
            # class on PostgreSQL with a non-C collation; SQLite ignores it): migration 0008.
            models.Index(
                fields=["birth_name_key", "birth_date"],
                opclasses=["varchar_pattern_ops", "date_ops"],
                name="patient_birth_key_prefix_idx",
            ),
            models.Index(
                fields=["used_name_key"],
                opclasses=["varchar_pattern_ops"],
                name="patient_used_key_prefix_idx",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.birth_name.upper()} {self.first_birth_first_name} ({self.birth_date:%d/%m/%Y})"
        )

    @property
    def may_share_ins(self) -> bool:
        """The INS leaves the DCC (documents, DMP, messages) only for a qualified identity."""
        return bool(self.ins_matricule) and self.identity_status == IdentityStatus.QUALIFIED


class PatientIdentityVersion(models.Model):
    """One state of a patient's identity, kept for ever: who changed it, when and why."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="identity_versions")
    version = models.PositiveIntegerField()
    identity = models.JSONField()
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["patient", "version"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "version"], name="identity_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.patient_id} v{self.version}"


class PatientIdentifier(BaseModel):
    """The patient's registration at a structure, with the structure's own number for them
    (IPP) as its hospital system knows them, when there is one."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="identifiers")
    structure = models.ForeignKey("accounts.Structure", on_delete=models.PROTECT, related_name="+")
    value = models.CharField(_("IPP"), max_length=64, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["structure", "value"],
                condition=~Q(value=""),
                name="patient_identifier_unique",
            )
        ]
        indexes = [
            # The IPP alone, and "patients registered where I work" from the index alone.
            models.Index(fields=["value"], name="patient_identifier_value_idx"),
            models.Index(fields=["structure", "patient"], name="patient_identifier_struct_idx"),
        ]

    def __str__(self) -> str:
        return self.value


class PatientMerge(models.Model):
    """Two records found to be the same person: one kept, the other made its alias.

    Everything the merged record carried (its hospital numbers today, documents and RCP cases
    later) is moved to the kept record, and what was moved is listed here, so that the merge
    can be undone exactly if it was a mistake."""

    kept = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_kept")
    merged = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="merges_absorbed")
    moved = models.JSONField(default=dict)
    reason = models.CharField(max_length=300)
    performed_at = models.DateTimeField(auto_now_add=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-performed_at"]

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.kept_id}"


class CareTeamMember(BaseModel):
    """A professional taking part in the patient's care, with whom sharing is allowed.

    Membership ends (``ended_at``), it is never deleted: who could see the record, and since
    when, stays answerable."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="care_team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=CareTeamSource.choices)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "user"],
                condition=Q(ended_at__isnull=True),
                name="care_team_member_active_unique",
            )
        ]
        indexes = [models.Index(fields=["user", "patient"], name="care_team_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} ∈ {self.patient_id}"


class EmergencyAccess(BaseModel):
    """Break-glass: a professional outside the care team reads the record in an emergency.

    Justified (a written reason), time-boxed, read-only, refused when the patient objected to
    sharing outside the care team, and traced as emergency access from start to end."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("motif"))
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "expires_at"], name="emergency_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.patient_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class CaseAccess(BaseModel):
    """Time-bounded access to one patient for a professional outside the care team, given for
    a stated reason: today the participants of the RCP meeting where the patient's case is
    discussed (granted by the RCP feature from the preparation to a while after the meeting).

    It opens the record for reading during ``starts_at``–``ends_at`` only, and is never
    deleted: revoked, it keeps who had it and when."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="case_accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=16, choices=CaseAccessSource.choices)
    reference = models.CharField(max_length=64, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "ends_at"], name="case_access_user_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="case_access_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.patient_id} ({self.source})"
