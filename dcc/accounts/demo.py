"""The demonstration data set: a regional network, a 3C, two hospitals, a private practice and
one professional per role. Every identifier is fictitious but passes its check key."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from dcc.accounts import services
from dcc.accounts.choices import Role, StructureIdType, StructureKind
from dcc.accounts.models import Charter, Membership, Structure, User

# Printed by the Quick start on purpose: demo accounts only, refused outside demo mode.
DEMO_PASSWORD = "Demo-DCC-2026!"  # noqa: S105

CHARTER_TITLE = "Charte d'utilisation du Dossier Communicant en Cancérologie"
CHARTER_BODY = """\
Le Dossier Communicant en Cancérologie (DCC) contient des données de santé à caractère personnel.
En l'utilisant, je m'engage à :

1. N'accéder qu'aux dossiers des patients que je prends en charge, ou dont le cas est présenté en réunion de concertation pluridisciplinaire (RCP) à laquelle je participe.
2. Ne jamais communiquer mes moyens d'authentification (carte CPS, e-CPS, mot de passe, second facteur) ni laisser ma session ouverte sans surveillance.
3. N'utiliser l'accès en urgence (« bris de glace ») qu'en cas de nécessité pour la prise en charge du patient, en indiquant le motif.
4. Respecter le secret professionnel (article L1110-4 du code de la santé publique) et la volonté du patient lorsqu'il s'oppose au partage de ses données.
5. Ne pas extraire ni copier de données hors du DCC en dehors des usages prévus (impression d'une fiche RCP ou d'un PPS pour le patient ou son médecin traitant).

Je suis informé(e) que mon identifiant national (RPPS) est utilisé pour la traçabilité et le contrôle d'accès, que chacune de mes consultations et actions est tracée dans un journal infalsifiable, et que ces traces peuvent être communiquées au patient qui en fait la demande et contrôlées par le responsable de la sécurité.
"""


@dataclass(frozen=True)
class DemoAccount:
    email: str
    first_name: str
    last_name: str
    role: str
    structure: str
    rpps: str = ""
    profession: str = ""
    specialty: str = ""
    superuser: bool = False


STRUCTURES = [
    # key, name, kind, FINESS, parent key
    (
        "rrc",
        "Réseau Régional de Cancérologie Démo",
        StructureKind.REGIONAL_NETWORK,
        "330000019",
        None,
    ),
    ("3c", "3C Métropole Démo", StructureKind.COORDINATION_CENTRE, "330000027", "rrc"),
    ("chu", "CHU Démo — Hôpital Saint-Exemple", StructureKind.HOSPITAL, "330000035", "3c"),
    ("ch", "Centre Hospitalier Démo de Bourg", StructureKind.HOSPITAL, "330000043", "3c"),
    (
        "cabinet",
        "Cabinet de médecine générale Démo",
        StructureKind.PRIVATE_PRACTICE,
        "330000050",
        "rrc",
    ),
]

ACCOUNTS = [
    DemoAccount("admin@demo.dcc", "Alice", "Admin", "", "rrc", superuser=True),
    DemoAccount("admin.chu@demo.dcc", "Bruno", "Gestionnaire", Role.STRUCTURE_ADMIN, "chu"),
    DemoAccount(
        "oncologue@demo.dcc",
        "Claire",
        "Martin",
        Role.PHYSICIAN,
        "chu",
        "10000100007",
        "G15_10",
        "G15_10/SM36",
    ),
    DemoAccount(
        "chirurgien@demo.dcc",
        "David",
        "Bernard",
        Role.PHYSICIAN,
        "ch",
        "10000100015",
        "G15_10",
        "G15_10/SM14",
    ),
    DemoAccount(
        "coordonnateur@demo.dcc",
        "Emma",
        "Petit",
        Role.RCP_COORDINATOR,
        "3c",
        "10000100023",
        "G15_10",
        "G15_10/SM36",
    ),
    DemoAccount("secretaire@demo.dcc", "Fanny", "Durand", Role.RCP_SECRETARY, "3c"),
    DemoAccount(
        "ide@demo.dcc", "Gaël", "Leroy", Role.COORDINATING_NURSE, "chu", "10000100031", "G15_60"
    ),
    DemoAccount(
        "generaliste@demo.dcc",
        "Hugo",
        "Moreau",
        Role.GENERAL_PRACTITIONER,
        "cabinet",
        "10000100049",
        "G15_10",
        "G15_10/SM54",
    ),
    DemoAccount("lecture@demo.dcc", "Inès", "Simon", Role.READ_ONLY, "rrc"),
    DemoAccount("securite@demo.dcc", "Jules", "Laurent", Role.SECURITY_OFFICER, "rrc"),
]


def seed(password: str = DEMO_PASSWORD) -> list[DemoAccount]:
    """Create the demo data set, or complete it if part of it exists. Idempotent."""
    with transaction.atomic():
        admin = User.objects.filter(email=ACCOUNTS[0].email).first()
        if admin is None:
            admin = User.objects.create_superuser(
                ACCOUNTS[0].email,
                password,
                first_name=ACCOUNTS[0].first_name,
                last_name=ACCOUNTS[0].last_name,
            )
        structures: dict[str, Structure] = {}
        for key, name, kind, finess, parent in STRUCTURES:
            existing = Structure.objects.filter(
                national_id_type=StructureIdType.FINESS, national_id=finess
            ).first()
            structures[key] = existing or services.create_structure(
                actor=admin,
                name=name,
                kind=kind,
                national_id_type=StructureIdType.FINESS,
                national_id=finess,
                parent=structures[parent] if parent else None,
            )
        for account in ACCOUNTS[1:]:
            user = User.objects.filter(email=account.email).first()
            if user is None:
                user = User.objects.create_user(
                    account.email,
                    password,
                    first_name=account.first_name,
                    last_name=account.last_name,
                    rpps=account.rpps or None,
                    profession_code=account.profession,
                    specialty_code=account.specialty,
                )
            structure = structures[account.structure]
            if (
                not Membership.objects.active()
                .filter(user=user, structure=structure, role=account.role)
                .exists()
            ):
                services.grant_role(actor=admin, user=user, structure=structure, role=account.role)
        if not Charter.objects.exists():
            services.publish_charter(actor=admin, title=CHARTER_TITLE, body=CHARTER_BODY)
        from dcc.patients.demo import seed_patients

        seed_patients(structures)
    return ACCOUNTS
