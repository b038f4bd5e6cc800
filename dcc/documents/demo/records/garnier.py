"""M. GARNIER: prostate cancer."""

from __future__ import annotations

from dcc.documents.demo.base import (
    GP,
    ONCOLOGIST,
    PATHOLOGIST,
    PATHOLOGY,
    PATHOLOGY_DEPARTMENT,
    REFERRAL,
    Dates,
    DemoDocument,
    section,
)


def garnier(d: Dates) -> list[DemoDocument]:
    """Rising PSA: the GP's referral letter, then the prostate biopsies."""
    referral, biopsies = 95, 40
    return [
        DemoDocument(
            title="Lettre d'adressage — élévation du PSA",
            type_code=REFERRAL,
            act_days_ago=referral,
            department="Médecine générale",
            signature_role="Médecin généraliste, médecin traitant",
            author=GP,
            structure="cabinet",
            act_label="Date du courrier",
            file_name="lettre-adressage-urologie.pdf",
            sections=(
                section(
                    "Destinataire",
                    "Service d'urologie, CHU Démo — Hôpital Saint-Exemple.",
                ),
                section(
                    "Motif",
                    "Cher confrère, je vous adresse M. Louis GARNIER pour une élévation "
                    "progressive du PSA total : 4,8 ng/mL il y a deux ans, 6,9 ng/mL il y a un "
                    f"an, 9,8 ng/mL le {d(referral + 5)}.",
                ),
                section(
                    "Antécédents",
                    items=(
                        "Fibrillation atriale sous apixaban",
                        "Hypertension artérielle",
                        "Cataracte opérée des deux yeux",
                        "Autonome, vit avec son épouse, marche 3 km par jour",
                    ),
                ),
                section(
                    "Examen",
                    "Toucher rectal : prostate augmentée de volume avec un nodule dur du lobe "
                    "droit. Pas de trouble mictionnel gênant.",
                ),
                section(
                    "Demande",
                    "Je vous remercie de bien vouloir le recevoir pour avis (IRM prostatique et "
                    "biopsies si vous le jugez utile ; anticoagulant à gérer). Le patient est "
                    "informé de la démarche. Bien confraternellement.",
                ),
            ),
        ),
        DemoDocument(
            title="CR anatomopathologique — biopsies prostatiques",
            type_code=PATHOLOGY,
            act_days_ago=biopsies,
            written_days_ago=biopsies - 6,
            department=PATHOLOGY_DEPARTMENT,
            signature_role="Anatomopathologiste",
            author_label=PATHOLOGIST,
            filed_by=ONCOLOGIST,
            act_label="Date du prélèvement",
            file_name="anapath-biopsies-prostate.pdf",
            sections=(
                section(
                    "Renseignements cliniques",
                    "PSA 9,8 ng/mL, nodule du lobe droit, lésion PI-RADS 4 de la zone "
                    "périphérique droite à l'IRM. Douze biopsies systématiques et trois "
                    "biopsies ciblées.",
                ),
                section(
                    "Résultats",
                    head=("Site", "Carottes positives", "Longueur tumorale", "Score de Gleason"),
                    rows=(
                        ("Lobe droit (systématiques)", "3/6", "4, 6 et 7 mm", "3 + 4 = 7"),
                        ("Lobe gauche (systématiques)", "0/6", "—", "—"),
                        ("Cible IRM droite", "3/3", "8, 9 et 10 mm", "3 + 4 = 7 (grade 4 : 20 %)"),
                    ),
                ),
                section(
                    "Examen microscopique",
                    "Adénocarcinome acinaire de type usuel. Engainements périnerveux au lobe "
                    "droit. Pas d'extension extraprostatique visible sur les prélèvements.",
                ),
                section(
                    "Conclusion",
                    "Adénocarcinome acinaire de la prostate, score de Gleason 7 (3 + 4), "
                    "groupe pronostique ISUP 2, sur 6 carottes sur 15 (lobe droit et cible). "
                    "Code CIM-O-3 : 8140/3.",
                ),
            ),
        ),
    ]
