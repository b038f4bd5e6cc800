"""Fixed vocabularies of the accounts app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StructureKind(models.TextChoices):
    HOSPITAL = "hospital", _("Établissement de santé")
    PRIVATE_CLINIC = "private_clinic", _("Clinique privée")
    CANCER_CENTRE = "cancer_centre", _("Centre de lutte contre le cancer")
    PRIVATE_PRACTICE = "private_practice", _("Cabinet libéral")
    COORDINATION_CENTRE = "coordination_centre", _("3C — Centre de coordination en cancérologie")
    REGIONAL_NETWORK = "regional_network", _("Réseau régional de cancérologie")


class StructureIdType(models.TextChoices):
    """National identifier kinds, with the prefix used in the IdNatStruct (CI-SIS)."""

    FINESS = "finess", _("FINESS")
    SIRET = "siret", _("SIRET")
    OTHER = "other", _("Autre identifiant")


class Role(models.TextChoices):
    STRUCTURE_ADMIN = "structure_admin", _("Administrateur de structure")
    PHYSICIAN = "physician", _("Médecin")
    RCP_COORDINATOR = "rcp_coordinator", _("Coordonnateur de RCP")
    RCP_SECRETARY = "rcp_secretary", _("Secrétaire de RCP")
    COORDINATING_NURSE = "coordinating_nurse", _("Infirmier(e) de coordination")
    GENERAL_PRACTITIONER = "general_practitioner", _("Médecin généraliste")
    SECURITY_OFFICER = "security_officer", _("Responsable sécurité (journal d'audit)")
    READ_ONLY = "read_only", _("Lecture seule")


class LoginMethod(models.TextChoices):
    PASSWORD_TOTP = "password_totp", _("Mot de passe et code à usage unique")
    PASSWORD = "password", _("Mot de passe (démonstration)")
    PRO_SANTE_CONNECT = "psc", _("Pro Santé Connect")
