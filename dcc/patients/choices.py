"""Vocabularies of patient identity (RNIV, FR Core)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    FEMALE = "F", _("Féminin")
    MALE = "M", _("Masculin")
    UNKNOWN = "U", _("Indéterminé")


class IdentityStatus(models.TextChoices):
    """RNIV confidence statuses, mutually exclusive (FR Core identity status code system)."""

    PROVISIONAL = "PROV", _("Provisoire")
    RECOVERED = "RECUP", _("Récupérée (téléservice INSi)")
    VALIDATED = "VALI", _("Validée (pièce d'identité)")
    QUALIFIED = "QUAL", _("Qualifiée (INSi et pièce d'identité)")


class InsKind(models.TextChoices):
    """Which kind of matricule the INS is; the OID is looked up in interop.terminology."""

    NIR = "NIR", _("INS-NIR")
    NIA = "NIA", _("INS-NIA")
    TEST = "TEST", _("INS-NIR de test")
    DEMO = "DEMO", _("INS-NIR de démonstration")


class IdentityEvidence(models.TextChoices):
    """The high-trust document the identity was checked against (VALI and QUAL)."""

    ID_CARD = "id_card", _("Carte nationale d'identité")
    PASSPORT = "passport", _("Passeport")
    RESIDENCE_PERMIT = "residence_permit", _("Titre de séjour")
    FAMILY_RECORD = "family_record", _("Livret de famille ou extrait d'acte de naissance (mineur)")


class CareTeamSource(models.TextChoices):
    """How a professional came to be in the patient's care team."""

    EXPLICIT = "explicit", _("Ajouté à l'équipe de soins")
    REGISTRATION = "registration", _("A enregistré le patient")
    RCP_ENROLMENT = "rcp_enrolment", _("A inscrit le patient en RCP")


class CaseAccessSource(models.TextChoices):
    """Why a professional outside the care team may read the record for a while."""

    RCP_MEETING = "rcp_meeting", _("Participant à la RCP où le dossier est présenté")
