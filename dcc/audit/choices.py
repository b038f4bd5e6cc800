"""Vocabularies of the audit trail."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Outcome(models.TextChoices):
    SUCCESS = "success", _("Réussi")
    DENIED = "denied", _("Refusé")
    ERROR = "error", _("Erreur")


class Purpose(models.TextChoices):
    NORMAL = "normal", _("Soins")
    EMERGENCY = "emergency", _("Accès en urgence")


class Action(models.TextChoices):
    """Every audited action has a code here, so the security screen can name and filter it."""

    LOGIN = "auth.login", _("Connexion")
    LOGIN_FAILED = "auth.login_failed", _("Échec de connexion")
    LOGIN_LOCKED = "auth.login_locked", _("Compte temporairement bloqué")
    OTP_FAILED = "auth.otp_failed", _("Code à usage unique erroné")
    OTP_ENROLLED = "auth.otp_enrolled", _("Second facteur enregistré")
    LOGOUT = "auth.logout", _("Déconnexion")
    SESSION_EXPIRED = "auth.session_expired", _("Session expirée")
    PSC_LOGIN_FAILED = "auth.psc_failed", _("Échec Pro Santé Connect")
    CHARTER_PUBLISHED = "charter.published", _("Charte publiée")
    CHARTER_ACCEPTED = "charter.accepted", _("Charte acceptée")
    STRUCTURE_CREATED = "structure.created", _("Structure créée")
    STRUCTURE_UPDATED = "structure.updated", _("Structure modifiée")
    USER_INVITED = "user.invited", _("Utilisateur invité")
    INVITATION_ACCEPTED = "user.invitation_accepted", _("Invitation acceptée")
    INVITATION_CANCELLED = "user.invitation_cancelled", _("Invitation annulée")
    USER_UPDATED = "user.updated", _("Utilisateur modifié")
    USER_DEACTIVATED = "user.deactivated", _("Utilisateur désactivé")
    USER_REACTIVATED = "user.reactivated", _("Utilisateur réactivé")
    ROLE_GRANTED = "role.granted", _("Rôle attribué")
    ROLE_REVOKED = "role.revoked", _("Rôle retiré")
    PATIENT_REGISTERED = "patient.registered", _("Patient enregistré")
    PATIENT_IDENTITY_CHANGED = "patient.identity_changed", _("Identité du patient modifiée")
    PATIENTS_MERGED = "patient.merged", _("Dossiers patients fusionnés")
    PATIENTS_UNMERGED = "patient.unmerged", _("Fusion de dossiers annulée")
    CARE_TEAM_CHANGED = "patient.care_team_changed", _("Équipe de soins modifiée")
    EMERGENCY_ACCESS_STARTED = "patient.emergency_access_started", _("Accès en urgence ouvert")
    EMERGENCY_ACCESS_ENDED = "patient.emergency_access_ended", _("Accès en urgence clos")
    PATIENT_CONTACT_CHANGED = "patient.contact_changed", _("Coordonnées du patient modifiées")
    PATIENT_VIEWED = "patient.viewed", _("Dossier patient consulté")
    READ_ONLY_WRITE_REFUSED = (
        "patient.write_refused",
        _("Modification refusée (accès en lecture seule)"),
    )
    PATIENT_SEARCHED = "patient.searched", _("Recherche de patients")
    SHARING_OBJECTION_CHANGED = "patient.objection_changed", _("Opposition au partage modifiée")
    CASE_ACCESS_GRANTED = "patient.case_access_granted", _("Accès temporaire accordé")
    CASE_ACCESS_REVOKED = "patient.case_access_revoked", _("Accès temporaire retiré")
    ACCESS_REPORT_VIEWED = "patient.access_report_viewed", _("Relevé des accès consulté")
    ACCESS_REPORT_EXPORTED = "patient.access_report_exported", _("Relevé des accès exporté")
    NOTIFICATION_SENT = "notification.sent", _("Notification envoyée")
    NOTIFICATION_EMAIL_FAILED = "notification.email_failed", _("Échec de l'e-mail de notification")
    NOTIFICATION_PREFERENCES_CHANGED = (
        "notification.preferences_changed",
        _("Préférences de notification modifiées"),
    )
    DOCUMENT_ADDED = "document.added", _("Document ajouté au dossier")
    DOCUMENT_REPLACED = "document.replaced", _("Nouvelle version d'un document")
    DOCUMENT_CANCELLED = "document.cancelled", _("Document annulé")
    DOCUMENT_REJECTED = "document.rejected", _("Dépôt de document refusé")
    DOCUMENT_VIEWED = "document.viewed", _("Document consulté")
    DOCUMENT_DOWNLOADED = "document.downloaded", _("Document téléchargé")
    DOCUMENTS_LISTED = "document.listed", _("Liste des documents consultée")
    DOCUMENT_INTEGRITY_FAILED = "document.integrity_failed", _("Document illisible (intégrité)")
    DOCUMENT_KEYS_REWRAPPED = "document.keys_rewrapped", _("Clés des documents renouvelées")
    DOCUMENTS_SCRUBBED = "document.scrubbed", _("Vérification des documents stockés")
    AUDIT_VIEWED = "audit.viewed", _("Consultation du journal d'audit")
    AUDIT_VERIFIED = "audit.verified", _("Vérification du journal d'audit")
    PAGE_VIEWED = "page.viewed", _("Page consultée")
