"""Mme N'DIAYE: cancer of the cervix."""

from __future__ import annotations

from dcc.documents.choices import Confidentiality
from dcc.documents.demo.base import (
    CONSULTATION,
    IMAGING,
    NUCLEAR,
    NURSE,
    ONCOLOGIST,
    ONCOLOGY_DEPARTMENT,
    Dates,
    DemoDocument,
    section,
)


def ndiaye(d: Dates) -> list[DemoDocument]:
    """Cervical cancer before chemoradiotherapy: PET-CT, the oncologist's consultation and the
    nurse's annonce consultation (restricted: personal and social details)."""
    pet, consultation, nurse = 58, 50, 48
    return [
        DemoDocument(
            title="TEP-TDM au 18F-FDG — bilan d'extension d'un carcinome du col utérin",
            type_code=IMAGING,
            act_days_ago=pet,
            department="Service de médecine nucléaire",
            signature_role="Médecin nucléaire",
            author_label=NUCLEAR,
            filed_by=ONCOLOGIST,
            file_name="tep-tdm.pdf",
            sections=(
                section(
                    "Indication",
                    "Carcinome épidermoïde du col utérin : bilan d'extension initial.",
                ),
                section(
                    "Technique",
                    "Acquisition du vertex à mi-cuisses 60 minutes après injection de 250 MBq "
                    "de 18F-FDG. Glycémie à jeun : 5,2 mmol/L.",
                ),
                section(
                    "Résultats",
                    rows=(
                        (
                            "Col utérin",
                            "Masse hypermétabolique de 45 mm (SUVmax 16,2), étendue au "
                            "paramètre gauche",
                        ),
                        ("Ganglions pelviens", "Iliaque externe gauche de 14 mm (SUVmax 7,8)"),
                        ("Ganglions lombo-aortiques", "Pas de fixation pathologique"),
                        ("À distance", "Pas de fixation suspecte"),
                    ),
                ),
                section(
                    "Conclusion",
                    "Tumeur du col utérin avec atteinte paramétriale gauche et adénopathie "
                    "iliaque externe gauche, sans atteinte lombo-aortique ni à distance "
                    "(FIGO 2018 IIIC1r).",
                ),
            ),
        ),
        DemoDocument(
            title="Consultation d'oncologie — avant radiochimiothérapie",
            type_code=CONSULTATION,
            act_days_ago=consultation,
            department=ONCOLOGY_DEPARTMENT,
            signature_role="Oncologue médicale",
            author=ONCOLOGIST,
            act_label="Date de la consultation",
            file_name="consultation-oncologie.pdf",
            sections=(
                section(
                    "Motif",
                    "Carcinome épidermoïde du col utérin FIGO 2018 IIIC1r : consultation avant "
                    "la radiochimiothérapie proposée par la RCP de gynécologie.",
                ),
                section(
                    "Examen clinique",
                    "OMS 1. Poids 61 kg, taille 165 cm. Pas d'œdème des membres inférieurs.",
                    "Créatinine 64 µmol/L (DFG 98 mL/min/1,73 m²). Hémoglobine 10,9 g/dL "
                    "(saignements) : supplémentation martiale débutée. Audiogramme de référence "
                    "demandé avant le cisplatine.",
                ),
                section(
                    "Projet thérapeutique",
                    "Radiothérapie pelvienne (45 Gy en 25 fractions, complément sur "
                    "l'adénopathie) avec cisplatine hebdomadaire 40 mg/m² (5 cures), puis "
                    "curiethérapie utéro-vaginale.",
                    "Information donnée sur les effets indésirables (nausées, toxicité rénale "
                    "et auditive, cystite et diarrhée radiques). La patiente donne son accord.",
                ),
            ),
        ),
        DemoDocument(
            title="Consultation infirmière d'annonce",
            type_code=CONSULTATION,
            act_days_ago=nurse,
            department="Dispositif d'annonce — oncologie",
            signature_role="Infirmier de coordination en cancérologie",
            author=NURSE,
            confidentiality=Confidentiality.RESTRICTED,
            act_label="Date de la consultation",
            file_name="consultation-infirmiere-annonce.pdf",
            sections=(
                section(
                    "Contexte",
                    "Temps d'accompagnement soignant après la consultation médicale du "
                    f"{d(consultation)}. Patiente reçue seule, à sa demande.",
                ),
                section(
                    "Compréhension et vécu",
                    "La patiente reformule le diagnostic et le projet de radiochimiothérapie. "
                    "Inquiétude importante sur la sexualité après les traitements : "
                    "informations données, consultation de sexologie proposée.",
                ),
                section(
                    "Situation sociale et familiale",
                    "Vit seule avec ses deux enfants de 12 et 15 ans. Agent d'entretien en "
                    "contrat à durée déterminée, craint de perdre son emploi. Famille éloignée.",
                ),
                section(
                    "Orientations",
                    items=(
                        "Assistante sociale : arrêt de travail, ALD, aide à domicile",
                        "Psychologue de l'équipe de soins de support : premier entretien accepté",
                        "Bons de transport pour les séances de radiothérapie",
                        "Coordonnées de l'infirmier de coordination remises",
                    ),
                ),
                section(
                    "Diffusion",
                    "Compte rendu à diffusion restreinte (éléments personnels et sociaux).",
                ),
            ),
        ),
    ]
