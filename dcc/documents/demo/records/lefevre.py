"""Mme LEFÈVRE: cancer of the left breast."""

from __future__ import annotations

from dataclasses import replace

from dcc.documents.demo.base import (
    CONSULTATION,
    GYNAECOLOGIST,
    IMAGING,
    IMAGING_DEPARTMENT,
    ONCOLOGIST,
    ONCOLOGY_DEPARTMENT,
    OPERATIVE,
    PATHOLOGIST,
    PATHOLOGY,
    PATHOLOGY_DEPARTMENT,
    RADIOLOGIST,
    RCP,
    Dates,
    DemoDocument,
    Section,
    section,
)


def lefevre(d: Dates) -> list[DemoDocument]:
    """Left breast cancer, found by the patient: imaging, biopsy (completed once the HER2 in
    situ hybridisation is back), RCP, annonce, lumpectomy and its pathology."""
    mammo, biopsy, biopsy_v1, biopsy_v2, rcp, annonce, surgery, surgery_report = (
        200, 193, 189, 183, 176, 172, 150, 143
    )  # fmt: skip
    biopsy_sections = (
        section(
            "Renseignements cliniques",
            "Lésion classée ACR 5 de 14 mm du quadrant supéro-externe du sein gauche. "
            "Microbiopsies échoguidées (3 carottes, aiguille 14 G) avec pose d'un clip.",
        ),
        section(
            "Examen macroscopique",
            "Trois carottes biopsiques blanchâtres de 12 à 15 mm, incluses en totalité (bloc A).",
        ),
        section(
            "Examen microscopique",
            "Prolifération carcinomateuse infiltrante d'architecture massive et trabéculaire, "
            "sans différenciation particulière. Pas de composante in situ identifiée sur ces "
            "prélèvements. Pas d'embole vasculaire visible.",
        ),
    )

    def immunohistochemistry(her2: str) -> Section:
        return section(
            "Immunohistochimie",
            rows=(
                ("Récepteurs aux œstrogènes", "Positifs, 90 % des cellules, intensité forte"),
                ("Récepteurs à la progestérone", "Positifs, 60 % des cellules, intensité modérée"),
                ("HER2", her2),
                ("Ki-67", "15 %"),
            ),
        )

    first_report = DemoDocument(
        title="CR anatomopathologique — microbiopsies du sein gauche",
        type_code=PATHOLOGY,
        act_days_ago=biopsy,
        written_days_ago=biopsy_v1,
        department=PATHOLOGY_DEPARTMENT,
        signature_role="Anatomopathologiste",
        author_label=PATHOLOGIST,
        filed_by=ONCOLOGIST,
        act_label="Date du prélèvement",
        file_name="anapath-biopsies-sein.pdf",
        sections=(
            *biopsy_sections,
            immunohistochemistry(
                "Score 2+ (équivoque) : hybridation in situ en cours, un complément suivra"
            ),
            section(
                "Conclusion",
                "Carcinome infiltrant de type non spécifique (canalaire) du sein gauche, "
                "grade histopronostique II d'Elston et Ellis (score 6 : 3 + 2 + 1).",
                "Code CIM-O-3 : 8500/3. RE+ RP+ ; statut HER2 en attente du résultat de "
                "l'hybridation in situ.",
            ),
        ),
    )
    completed_report = replace(
        first_report,
        written_days_ago=biopsy_v2,
        version=2,
        reason="Ajout du résultat de l'hybridation in situ HER2 (non amplifié).",
        file_name="anapath-biopsies-sein-complement-her2.pdf",
        sections=(
            *biopsy_sections,
            immunohistochemistry(
                "Score 2+ (équivoque) ; hybridation in situ (SISH) : absence "
                "d'amplification (ratio HER2/CEP17 1,3 ; 2,4 copies par noyau)"
            ),
            section(
                "Conclusion",
                "Carcinome infiltrant de type non spécifique (canalaire) du sein gauche, "
                "grade histopronostique II d'Elston et Ellis (score 6 : 3 + 2 + 1).",
                "Code CIM-O-3 : 8500/3. RE+ RP+, HER2 négatif (score 2+, non amplifié), "
                "Ki-67 15 %.",
            ),
        ),
    )
    return [
        DemoDocument(
            title="Mammographie et échographie mammaires bilatérales",
            type_code=IMAGING,
            act_days_ago=mammo,
            department=IMAGING_DEPARTMENT,
            signature_role="Radiologue",
            author_label=RADIOLOGIST,
            filed_by=ONCOLOGIST,
            cda=True,
            file_name="mammographie-echographie.xml",
            sections=(
                section(
                    "Indication",
                    "Nodule du quadrant supéro-externe du sein gauche découvert par la "
                    "patiente. Dernière mammographie de dépistage il y a trois ans, normale.",
                ),
                section(
                    "Technique",
                    "Mammographie numérique bilatérale (incidences de face et oblique "
                    "externe), échographie mammaire et axillaire bilatérale.",
                ),
                section(
                    "Résultats",
                    "Seins de densité de type B.",
                    rows=(
                        (
                            "Sein gauche, QSE (2 h, 6 cm du mamelon)",
                            "Opacité spiculée de 14 mm sans microcalcification ; à "
                            "l'échographie, masse hypoéchogène irrégulière de 13 × 11 mm à "
                            "grand axe vertical, avec atténuation postérieure",
                        ),
                        ("Creux axillaire gauche", "Pas d'adénopathie d'allure suspecte"),
                        ("Sein droit et creux axillaire droit", "Pas d'anomalie"),
                    ),
                ),
                section(
                    "Conclusion",
                    "Lésion du quadrant supéro-externe du sein gauche classée ACR 5. Pas "
                    "d'anomalie controlatérale ni axillaire.",
                    "Microbiopsies échoguidées programmées.",
                ),
            ),
        ),
        first_report,
        completed_report,
        DemoDocument(
            title="Fiche RCP — sénologie — 3C Métropole Démo",
            type_code=RCP,
            act_days_ago=rcp,
            department="Réunion de concertation pluridisciplinaire de sénologie",
            signature_role="Oncologue médicale, présentatrice du dossier",
            author=ONCOLOGIST,
            structure="3c",
            cda=True,
            act_label="Date de la réunion",
            file_name="fiche-rcp-senologie.xml",
            sections=(
                section(
                    "Motif de présentation",
                    "Dossier présenté avant tout traitement : proposition thérapeutique initiale.",
                ),
                section(
                    "Données cliniques",
                    rows=(
                        ("État général", "OMS 0"),
                        ("Antécédents", "Hypertension artérielle traitée"),
                        ("Antécédents familiaux", "Pas de cancer du sein ou de l'ovaire"),
                    ),
                ),
                section(
                    "Description de la tumeur",
                    rows=(
                        ("Localisation", "Sein gauche, quadrant supéro-externe"),
                        (
                            "Histologie",
                            f"Carcinome infiltrant de type non spécifique (CIM-O-3 8500/3), "
                            f"microbiopsies du {d(biopsy)}",
                        ),
                        ("Grade", "II (Elston et Ellis)"),
                        (
                            "Biomarqueurs",
                            "RE 90 %, RP 60 %, HER2 négatif (2+, non amplifié), Ki-67 15 %",
                        ),
                        ("Stade", "cT1c N0 M0 (TNM UICC, 8e édition)"),
                    ),
                ),  # fmt: skip
                section(
                    "Proposition de la RCP",
                    items=(
                        "Tumorectomie du sein gauche avec repérage préopératoire et technique "
                        "du ganglion sentinelle",
                        "Radiothérapie adjuvante du sein gauche",
                        "Hormonothérapie adjuvante par inhibiteur de l'aromatase pendant 5 ans",
                        "Indication d'une chimiothérapie à rediscuter selon l'histologie définitive",
                    ),
                ),
                section(
                    "Quorum",
                    "Quorum atteint : chirurgien, oncologue médical, oncologue radiothérapeute, "
                    "radiologue et anatomopathologiste présents. Coordination : Dr Emma PETIT, "
                    "3C Métropole Démo.",
                    "La proposition sera présentée à la patiente en consultation d'annonce.",
                ),
            ),
        ),
        DemoDocument(
            title="Consultation d'annonce — oncologie médicale",
            type_code=CONSULTATION,
            act_days_ago=annonce,
            department=ONCOLOGY_DEPARTMENT,
            signature_role="Oncologue médicale",
            author=ONCOLOGIST,
            act_label="Date de la consultation",
            file_name="consultation-annonce.pdf",
            sections=(
                section(
                    "Motif",
                    "Consultation d'annonce d'un carcinome infiltrant du sein gauche. Patiente "
                    "venue accompagnée de sa fille.",
                ),
                section(
                    "Antécédents",
                    items=(
                        "Hypertension artérielle traitée par amlodipine 5 mg",
                        "Hystérectomie pour fibrome (1998)",
                        "Ménopause à 52 ans, pas de traitement hormonal substitutif",
                        "Pas d'antécédent familial de cancer du sein ou de l'ovaire",
                    ),
                ),
                section(
                    "Examen clinique",
                    "OMS 0. Poids 64 kg, taille 162 cm. Nodule de 15 mm du quadrant "
                    "supéro-externe gauche, mobile, sans signe cutané. Aires ganglionnaires "
                    "libres.",
                ),
                section(
                    "Synthèse",
                    "Carcinome infiltrant de type non spécifique du sein gauche cT1c N0 M0, "
                    "grade II, RE+ RP+, HER2 négatif, Ki-67 15 %.",
                ),
                section(
                    "Projet thérapeutique",
                    f"Proposition de la RCP de sénologie du {d(rcp)} : tumorectomie avec "
                    "technique du ganglion sentinelle, puis radiothérapie et hormonothérapie "
                    "adjuvantes ; chimiothérapie à rediscuter selon l'histologie définitive.",
                    "Le projet a été expliqué à la patiente, qui pose des questions adaptées et "
                    "donne son accord. Programme personnalisé de soins remis ; consultation "
                    "infirmière d'annonce et consultation de chirurgie programmées.",
                ),
            ),
        ),
        DemoDocument(
            title="CR opératoire — tumorectomie du sein gauche et ganglion sentinelle",
            type_code=OPERATIVE,
            act_days_ago=surgery,
            department="Service de chirurgie gynécologique et sénologique",
            signature_role="Chirurgienne gynécologue",
            author_label=GYNAECOLOGIST,
            filed_by=ONCOLOGIST,
            act_label="Date de l'intervention",
            file_name="cr-operatoire-tumorectomie.pdf",
            sections=(
                section(
                    "Indication",
                    "Carcinome infiltrant de type non spécifique du quadrant supéro-externe "
                    f"gauche, cT1c N0, RE+ HER2 négatif. Décision de la RCP du {d(rcp)}.",
                ),
                section(
                    "Intervention",
                    rows=(
                        ("Opératrice", GYNAECOLOGIST),
                        ("Anesthésie", "Générale"),
                        ("Durée", "1 h 10"),
                        ("Mode d'hospitalisation", "Ambulatoire"),
                    ),
                ),
                section(
                    "Déroulement",
                    "Repérage de la lésion par harpon sous échographie et injection "
                    "péri-aréolaire de technétium 99m la veille ; injection de bleu patenté en "
                    "début d'intervention.",
                    "Incision axillaire : exérèse de deux ganglions sentinelles bleus et "
                    "radioactifs. Pas d'autre ganglion palpable.",
                    "Incision arciforme du quadrant supéro-externe : tumorectomie emportant le "
                    "harpon, orientée par fils (court supérieur, long externe). Radiographie de "
                    "la pièce : lésion et clip au centre. Recoupe de la berge externe. Clips "
                    "dans le lit tumoral pour la radiothérapie. Hémostase, fermeture en deux "
                    "plans sans drainage.",
                ),
                section(
                    "Suites prévues",
                    "Sortie le jour même. Soins infirmiers à domicile à J2. Consultation "
                    "postopératoire avec les résultats histologiques à trois semaines.",
                ),
            ),
        ),
        DemoDocument(
            title="CR anatomopathologique — tumorectomie et ganglions sentinelles gauches",
            type_code=PATHOLOGY,
            act_days_ago=surgery,
            written_days_ago=surgery_report,
            department=PATHOLOGY_DEPARTMENT,
            signature_role="Anatomopathologiste",
            author_label=PATHOLOGIST,
            filed_by=ONCOLOGIST,
            act_label="Date du prélèvement",
            file_name="anapath-tumorectomie.pdf",
            sections=(
                section(
                    "Renseignements cliniques",
                    "Tumorectomie orientée du quadrant supéro-externe gauche (fil court "
                    "supérieur, fil long externe), recoupe externe et deux ganglions sentinelles.",
                ),
                section(
                    "Examen macroscopique",
                    "Pièce de 55 × 40 × 30 mm (32 g) contenant une lésion blanchâtre stellaire "
                    "de 15 mm, à 8 mm de la berge la plus proche (externe). Recoupe externe de "
                    "30 × 20 × 5 mm. Deux ganglions de 8 et 12 mm.",
                ),
                section(
                    "Examen microscopique",
                    "Carcinome infiltrant de type non spécifique de 15 mm, grade II "
                    "(3 + 2 + 1), associé à un carcinome canalaire in situ de bas grade "
                    "(moins de 10 % de la tumeur). Pas d'embole vasculaire.",
                    rows=(
                        ("Marges", "Saines ; marge minimale 6 mm (externe), recoupe indemne"),
                        ("Ganglions sentinelles", "0/2 (coupes sériées et immunohistochimie)"),
                    ),
                ),
                section(
                    "Conclusion",
                    "Carcinome infiltrant de type non spécifique du sein gauche de 15 mm, "
                    "grade II, exérèse complète.",
                    "pT1c pN0(sn) (TNM UICC, 8e édition). Code CIM-O-3 : 8500/3. RE+ RP+ HER2 "
                    f"négatif (microbiopsies du {d(biopsy)}).",
                ),
            ),
        ),
    ]
