"""Mme ROUSSEAU, who objected to sharing: melanoma follow-up."""

from __future__ import annotations

from dcc.documents.demo.base import (
    CONSULTATION,
    ONCOLOGIST,
    ONCOLOGY_DEPARTMENT,
    Dates,
    DemoDocument,
    section,
)


def rousseau(d: Dates) -> list[DemoDocument]:
    """Follow-up of a melanoma; the patient objected to sharing outside her care team."""
    return [
        DemoDocument(
            title="Consultation de surveillance — mélanome de la jambe gauche",
            type_code=CONSULTATION,
            act_days_ago=30,
            department=ONCOLOGY_DEPARTMENT,
            signature_role="Oncologue médicale",
            author=ONCOLOGIST,
            act_label="Date de la consultation",
            file_name="consultation-surveillance-melanome.pdf",
            sections=(
                section(
                    "Motif",
                    "Surveillance d'un mélanome à extension superficielle de la jambe gauche "
                    "(Breslow 1,8 mm, non ulcéré), opéré il y a deux ans avec reprise à 2 cm ; "
                    "ganglion sentinelle négatif (pT2a N0, stade IIA, AJCC 8e édition).",
                ),
                section(
                    "Examen clinique",
                    "OMS 0. Cicatrice souple sans récidive locale ni lésion en transit. Aires "
                    "ganglionnaires libres. Examen cutané complet : pas de lésion suspecte.",
                    f"Échographie ganglionnaire inguinale gauche du {d(37)} : normale.",
                ),
                section(
                    "Conclusion",
                    "Pas de signe de récidive. Prochaine consultation dans six mois, en "
                    "alternance avec le dermatologue ; échographie ganglionnaire semestrielle. "
                    "Rappel de la photoprotection et de l'autosurveillance cutanée.",
                    "La patiente s'est opposée au partage de son dossier hors de son équipe de "
                    "soins : ce compte rendu n'est adressé qu'à son médecin traitant.",
                ),
            ),
        ),
    ]
