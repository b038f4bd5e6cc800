"""M. DUPONT, cancer of the sigmoid colon, and Mme DU PONT, endometrial cancer: near-homonyms,\nwhose consultation report is filed in the wrong record once."""

from __future__ import annotations

from dcc.documents.demo.base import (
    BIOLOGIST,
    CONSENT,
    CONSULTATION,
    GENETICIST,
    GYNAECOLOGIST,
    IMAGING,
    IMAGING_DEPARTMENT,
    LABORATORY,
    MOLECULAR,
    NURSE,
    ONCOLOGIST,
    ONCOLOGY_DEPARTMENT,
    OPERATIVE,
    PATHOLOGIST,
    PATHOLOGY,
    PATHOLOGY_DEPARTMENT,
    RADIOLOGIST,
    SURGEON,
    TREATMENT_PLAN,
    Dates,
    DemoDocument,
    section,
)

DU_PONT_CONSULTATION = "CR de consultation — chirurgie gynécologique"


def du_pont_consultation(d: Dates, *, filed_in_error: bool = False) -> DemoDocument:
    """Mme DU PONT's consultation, also filed by mistake in M. DUPONT's record (and cancelled
    there), as happens with near-homonyms."""
    mri, consultation = 75, 62
    return DemoDocument(
        title=DU_PONT_CONSULTATION,
        type_code=CONSULTATION,
        act_days_ago=consultation,
        department="Service de chirurgie gynécologique et sénologique",
        signature_role="Chirurgienne gynécologue",
        author_label=GYNAECOLOGIST,
        filed_by=NURSE,
        act_label="Date de la consultation",
        file_name="consultation-gynecologie.pdf",
        about="CHU-100003" if filed_in_error else "",
        cancelled_by=ONCOLOGIST if filed_in_error else "",
        cancel_reason=(
            "Document d'un autre patient (homonyme), déposé par erreur dans ce dossier."
            if filed_in_error
            else ""
        ),
        sections=(
            section(
                "Motif",
                "Prise en charge d'un adénocarcinome endométrioïde de l'endomètre de grade 1, "
                "découvert sur des métrorragies post-ménopausiques.",
            ),
            section(
                "Antécédents",
                items=(
                    "Obésité (IMC 33 kg/m²)",
                    "Diabète de type 2 traité par metformine",
                    "Deux accouchements par voie basse",
                    "Ménopause à 51 ans",
                ),
            ),
            section(
                "Examen clinique",
                "OMS 0. Col macroscopiquement normal. Toucher vaginal : utérus de taille "
                "normale, mobile ; paramètres souples.",
            ),
            section(
                "Bilan",
                f"IRM pelvienne du {d(mri)} : tumeur endométriale de 24 mm infiltrant moins de "
                "50 % du myomètre, sans extension cervicale ni adénopathie (stade FIGO IA "
                "présumé).",
            ),
            section(
                "Conduite à tenir",
                "Proposition, à valider en RCP de gynécologie : hystérectomie totale avec "
                "annexectomie bilatérale par cœlioscopie et technique du ganglion sentinelle "
                "pelvien. Recherche d'une déficience du système MMR sur la pièce. Consultation "
                "d'anesthésie programmée.",
            ),
        ),
    )


def dupont(d: Dates) -> list[DemoDocument]:
    """Cancer of the sigmoid colon, stage III: biopsies, CT, laparoscopic colectomy, pathology,
    molecular genetics, pre-treatment blood tests, consent and adjuvant CAPOX. Plus a
    neighbour's report filed here by mistake, then cancelled."""
    biopsy, ct, surgery, pathology_report, molecular, bloods, rcp, plan = (
        170, 162, 140, 132, 118, 112, 110, 105
    )  # fmt: skip
    return [
        DemoDocument(
            title="CR anatomopathologique — biopsies coliques (sigmoïde)",
            type_code=PATHOLOGY,
            act_days_ago=biopsy,
            written_days_ago=biopsy - 4,
            department=PATHOLOGY_DEPARTMENT,
            signature_role="Anatomopathologiste",
            author_label=PATHOLOGIST,
            filed_by=ONCOLOGIST,
            act_label="Date du prélèvement",
            file_name="anapath-biopsies-coliques.pdf",
            sections=(
                section(
                    "Renseignements cliniques",
                    "Coloscopie pour rectorragies et anémie ferriprive : lésion bourgeonnante "
                    "et ulcérée, semi-circonférentielle, du côlon sigmoïde à 30 cm de la marge "
                    "anale. Six biopsies.",
                ),
                section(
                    "Examen microscopique",
                    "Six fragments de 2 à 4 mm inclus en totalité. Prolifération carcinomateuse "
                    "glandulaire faite de tubes de taille variable bordés de cellules "
                    "cylindriques atypiques, infiltrant le chorion et la musculaire muqueuse, "
                    "avec nécrose intraluminale et stroma desmoplasique.",
                ),
                section(
                    "Conclusion",
                    "Adénocarcinome lieberkühnien moyennement différencié et infiltrant du côlon "
                    "sigmoïde. Code CIM-O-3 : 8140/3.",
                    "Statut MMR : sera évalué sur la pièce opératoire.",
                ),
            ),
        ),
        DemoDocument(
            title="Scanner thoraco-abdomino-pelvien — bilan d'extension",
            type_code=IMAGING,
            act_days_ago=ct,
            department=IMAGING_DEPARTMENT,
            signature_role="Radiologue",
            author_label=RADIOLOGIST,
            filed_by=ONCOLOGIST,
            file_name="scanner-tap.pdf",
            sections=(
                section("Indication", "Bilan d'extension d'un adénocarcinome du côlon sigmoïde."),
                section(
                    "Technique",
                    "Acquisition hélicoïdale thoraco-abdomino-pelvienne au temps portal après "
                    "injection de 90 mL de produit de contraste iodé (DFG 72 mL/min/1,73 m²).",
                ),
                section(
                    "Résultats",
                    rows=(
                        (
                            "Côlon",
                            "Épaississement pariétal circonférentiel irrégulier du sigmoïde sur "
                            "45 mm, densification de la graisse péricolique au contact",
                        ),
                        ("Ganglions", "Deux ganglions mésocoliques de 7 et 9 mm au contact"),
                        ("Foie", "Pas de lésion suspecte ; kyste biliaire de 8 mm du segment VI"),
                        ("Thorax", "Pas de nodule suspect ; emphysème centrolobulaire discret"),
                        ("Péritoine", "Pas d'ascite ni de nodule péritonéal"),
                    ),
                ),
                section(
                    "Conclusion",
                    "Tumeur du côlon sigmoïde classée T3 avec adénopathies mésocoliques "
                    "suspectes, sans métastase à distance décelable (cT3 N1 M0).",
                ),
            ),
        ),
        DemoDocument(
            title="CR opératoire — colectomie sigmoïdienne par cœlioscopie",
            type_code=OPERATIVE,
            act_days_ago=surgery,
            department="Service de chirurgie viscérale et digestive",
            signature_role="Chirurgien viscéral et digestif",
            author=SURGEON,
            structure="ch",
            act_label="Date de l'intervention",
            file_name="cr-operatoire-colectomie.pdf",
            sections=(
                section(
                    "Indication",
                    "Adénocarcinome du côlon sigmoïde cT3 N1 M0. Proposition de la RCP "
                    "digestive : chirurgie première.",
                ),
                section(
                    "Intervention",
                    rows=(
                        ("Opérateur", "Dr David BERNARD"),
                        ("Anesthésie", "Générale, péridurale non posée"),
                        ("Durée", "2 h 40"),
                        ("Score ASA", "2"),
                    ),
                ),
                section(
                    "Déroulement",
                    "Décubitus dorsal, jambes écartées. Open-cœlioscopie ombilicale, quatre "
                    "trocarts. Exploration : pas de carcinose, foie d'aspect normal, tumeur "
                    "sigmoïdienne ne franchissant pas la séreuse en apparence.",
                    "Ligature de l'artère mésentérique inférieure à son origine et de la veine "
                    "mésentérique inférieure, curage ganglionnaire. Décollement colo-pariétal "
                    "gauche et mobilisation de l'angle gauche.",
                    "Section du haut rectum à l'agrafeuse linéaire ; extraction de la pièce par "
                    "une incision sus-pubienne protégée ; section colique à 10 cm de la tumeur. "
                    "Anastomose colorectale mécanique termino-terminale, étanche à l'épreuve à "
                    "l'air. Pas de stomie, pas de drainage. Fermeture plan par plan.",
                ),
                section(
                    "Suites prévues",
                    "Réhabilitation améliorée après chirurgie : alimentation le soir même, "
                    "lever à J1. Pièce adressée en anatomopathologie.",
                ),
            ),
        ),
        DemoDocument(
            title="CR anatomopathologique — pièce de colectomie sigmoïdienne",
            type_code=PATHOLOGY,
            act_days_ago=surgery,
            written_days_ago=pathology_report,
            department=PATHOLOGY_DEPARTMENT,
            signature_role="Anatomopathologiste",
            author_label=PATHOLOGIST,
            filed_by=ONCOLOGIST,
            act_label="Date du prélèvement",
            file_name="anapath-colectomie.pdf",
            sections=(
                section(
                    "Examen macroscopique",
                    "Colectomie sigmoïdienne de 22 cm. Tumeur ulcéro-bourgeonnante de "
                    "45 × 38 mm, semi-circonférentielle, à 6 cm de la recoupe distale et 11 cm "
                    "de la recoupe proximale.",
                ),
                section(
                    "Examen microscopique",
                    "Adénocarcinome lieberkühnien moyennement différencié infiltrant la "
                    "sous-séreuse sans atteindre la séreuse. Pas d'engainement périnerveux ni "
                    "d'embole veineux extramural. Bourgeonnement tumoral de bas grade (Bd1).",
                    rows=(
                        ("Limites de résection", "Saines (proximale, distale, circonférentielle)"),
                        ("Ganglions", "1 métastatique sur 18 (1N+/18N), sans rupture capsulaire"),
                        ("Dépôts tumoraux", "Absents"),
                        ("Protéines MMR", "Expression conservée de MLH1, PMS2, MSH2 et MSH6"),
                    ),
                ),
                section(
                    "Conclusion",
                    "Adénocarcinome lieberkühnien moyennement différencié du côlon sigmoïde, "
                    "pT3 pN1a (1/18), exérèse R0 (TNM UICC, 8e édition). Code CIM-O-3 : 8140/3.",
                    "Phénotype MMR conservé (pMMR). Statut microsatellitaire et analyse "
                    "RAS/BRAF demandés à la plateforme de génétique moléculaire.",
                ),
            ),
        ),
        DemoDocument(
            title="CR de génétique moléculaire — adénocarcinome colique (MSI, RAS, BRAF)",
            type_code=MOLECULAR,
            act_days_ago=surgery,
            written_days_ago=molecular,
            department="Plateforme de génétique moléculaire des cancers",
            signature_role="Biologiste, génétique moléculaire somatique",
            author_label=GENETICIST,
            filed_by=ONCOLOGIST,
            act_label="Date du prélèvement",
            file_name="genetique-moleculaire-colon.pdf",
            sections=(
                section(
                    "Prélèvement",
                    rows=(
                        ("Nature", "Pièce de colectomie fixée au formol, bloc B4"),
                        ("Cellularité tumorale estimée", "60 %"),
                    ),
                ),
                section(
                    "Techniques",
                    "Extraction d'ADN tumoral. Statut microsatellitaire par PCR (panel de cinq "
                    "marqueurs mononucléotidiques). Séquençage de nouvelle génération d'un "
                    "panel ciblé de 20 gènes (profondeur moyenne 1 200×, seuil de détection "
                    "5 % de fréquence allélique).",
                ),
                section(
                    "Résultats",
                    head=("Analyse", "Résultat"),
                    rows=(
                        ("Statut microsatellitaire", "Stable (MSS) : 0 marqueur instable sur 5"),
                        (
                            "KRAS",
                            "Variant pathogène c.35G>A p.(Gly12Asp), exon 2, fréquence "
                            "allélique 28 %",
                        ),
                        ("NRAS (exons 2, 3 et 4)", "Pas de variant détecté"),
                        ("BRAF (exon 15)", "Pas de variant détecté, notamment pas de V600E"),
                    ),
                ),
                section(
                    "Interprétation",
                    "Tumeur MSS, concordante avec le phénotype pMMR en immunohistochimie ; "
                    "KRAS muté (G12D), BRAF non muté. Pas d'argument pour un syndrome de Lynch.",
                    "En situation métastatique, la mutation de KRAS contre-indiquerait les "
                    "anticorps anti-EGFR.",
                    "Analyse somatique du tissu tumoral : elle ne renseigne pas sur les "
                    "caractéristiques génétiques constitutionnelles du patient.",
                ),
            ),
        ),
        DemoDocument(
            title="Bilan biologique avant chimiothérapie (dont uracilémie)",
            type_code=LABORATORY,
            act_days_ago=bloods,
            department="Laboratoire de biologie médicale",
            signature_role="Biologiste médical",
            author_label=BIOLOGIST,
            filed_by=NURSE,
            cda=True,
            act_label="Date du prélèvement",
            file_name="biologie-avant-chimiotherapie.xml",
            sections=(
                section(
                    "Renseignements",
                    "Prélèvement à jeun à 8 h 10. Bilan avant chimiothérapie adjuvante par "
                    "oxaliplatine et capécitabine.",
                ),
                section(
                    "Hématologie",
                    head=("Analyse", "Résultat", "Unité", "Valeurs de référence"),
                    rows=(
                        ("Hémoglobine", "12,9", "g/dL", "13,0 – 17,0"),
                        ("Leucocytes", "6,8", "G/L", "4,0 – 10,0"),
                        ("Polynucléaires neutrophiles", "4,1", "G/L", "1,8 – 7,5"),
                        ("Plaquettes", "265", "G/L", "150 – 400"),
                    ),
                ),
                section(
                    "Biochimie",
                    head=("Analyse", "Résultat", "Unité", "Valeurs de référence"),
                    rows=(
                        ("Créatinine", "88", "µmol/L", "59 – 104"),
                        ("DFG estimé (CKD-EPI)", "74", "mL/min/1,73 m²", "> 60"),
                        ("ASAT", "24", "UI/L", "< 40"),
                        ("ALAT", "19", "UI/L", "< 41"),
                        ("Bilirubine totale", "9", "µmol/L", "< 21"),
                        ("Antigène carcino-embryonnaire (ACE)", "2,1", "µg/L", "< 5"),
                    ),
                ),
                section(
                    "Recherche de déficit en dihydropyrimidine déshydrogénase (DPD)",
                    "Uracilémie : 9,8 ng/mL (seuil de déficit : 16 ng/mL). Absence de déficit "
                    "en DPD : pas d'adaptation de dose des fluoropyrimidines à ce titre.",
                ),
                section(
                    "Conclusion du biologiste",
                    "Anémie discrète en contexte postopératoire. Fonctions rénale et hépatique "
                    "normales. Pas de déficit en DPD. ACE normal après la chirurgie.",
                ),
            ),
        ),
        DemoDocument(
            title="Attestation d'information et de consentement — chimiothérapie adjuvante",
            type_code=CONSENT,
            act_days_ago=plan,
            department=ONCOLOGY_DEPARTMENT,
            signature_role="Oncologue médicale",
            author=ONCOLOGIST,
            patient_signature=True,
            act_label="Date de la consultation",
            file_name="consentement-chimiotherapie.pdf",
            sections=(
                section(
                    "Traitement proposé",
                    "Chimiothérapie adjuvante CAPOX (oxaliplatine et capécitabine), quatre cures "
                    f"de 21 jours, proposée par la RCP digestive du {d(rcp)} après colectomie "
                    "pour un adénocarcinome du côlon sigmoïde pT3 pN1a.",
                ),
                section(
                    "Information délivrée oralement et par écrit",
                    items=(
                        "Objectif : diminuer le risque de rechute après la chirurgie",
                        "Effets indésirables : fourmillements et sensibilité au froid "
                        "(neuropathie), nausées, diarrhée, syndrome main-pied, baisse des "
                        "globules, fatigue",
                        "Conduite à tenir en cas de fièvre, de diarrhée ou de vomissements, et "
                        "numéros à appeler jour et nuit",
                        "Alternatives : surveillance seule, capécitabine seule",
                        "Possibilité de revenir sur ce consentement à tout moment",
                    ),
                ),
                section(
                    "Consentement",
                    "Je déclare avoir reçu une information claire et adaptée sur le traitement "
                    "proposé, ses bénéfices attendus, ses risques et ses alternatives, et avoir "
                    "pu poser toutes mes questions. J'accepte le traitement proposé.",
                ),
            ),
        ),
        DemoDocument(
            title="Programme de chimiothérapie adjuvante — CAPOX, 4 cures",
            type_code=TREATMENT_PLAN,
            act_days_ago=plan,
            department=ONCOLOGY_DEPARTMENT,
            signature_role="Oncologue médicale",
            author=ONCOLOGIST,
            act_label="Date de la prescription",
            file_name="programme-capox.pdf",
            sections=(
                section(
                    "Indication",
                    "Adénocarcinome du côlon sigmoïde pT3 pN1a M0 (stade III, faible risque), "
                    f"pMMR/MSS, KRAS G12D, opéré le {d(surgery)} (R0). Proposition de la RCP "
                    f"digestive du {d(rcp)}.",
                ),
                section(
                    "Paramètres",
                    rows=(
                        ("Poids, taille", "78 kg, 174 cm"),
                        ("Surface corporelle (Mosteller)", "1,94 m²"),
                        ("DFG (CKD-EPI)", f"74 mL/min/1,73 m² ({d(bloods)})"),
                        ("Uracilémie", "9,8 ng/mL : pas de déficit en DPD"),
                        ("État général", "OMS 0"),
                    ),
                ),
                section(
                    "Protocole",
                    head=("Médicament", "Dose", "Dose calculée", "Voie, jours"),
                    rows=(
                        ("Oxaliplatine", "130 mg/m²", "252 mg", "IV en 2 h, J1"),
                        (
                            "Capécitabine",
                            "1 000 mg/m² matin et soir",
                            "2 000 mg matin et soir",
                            "Per os, J1 à J14",
                        ),
                    ),
                ),
                section(
                    "Calendrier",
                    f"Quatre cures de 21 jours à partir du {d(plan - 7)}, soit trois mois de "
                    "traitement.",
                ),
                section(
                    "Surveillance",
                    items=(
                        "NFS et plaquettes avant chaque cure (PNN ≥ 1,5 G/L, plaquettes ≥ 100 G/L)",
                        "Neuropathie évaluée à chaque cure (NCI-CTCAE) ; arrêt de l'oxaliplatine "
                        "au grade 3",
                        "Antiémétiques à J1 : sétron et dexaméthasone",
                        "Appel de l'infirmier de coordination à J8 de chaque cure",
                    ),
                ),
                section(
                    "Prescription",
                    "Ce programme ne vaut pas ordonnance : chaque cure est prescrite et validée "
                    "dans le logiciel de chimiothérapie.",
                ),
            ),
        ),
        du_pont_consultation(d, filed_in_error=True),
    ]


def du_pont(d: Dates) -> list[DemoDocument]:
    """Endometrial cancer, before surgery: pelvic MRI and the gynaecological consultation."""
    return [
        DemoDocument(
            title="IRM pelvienne — bilan d'un adénocarcinome de l'endomètre",
            type_code=IMAGING,
            act_days_ago=75,
            department=IMAGING_DEPARTMENT,
            signature_role="Radiologue",
            author_label=RADIOLOGIST,
            filed_by=NURSE,
            file_name="irm-pelvienne.pdf",
            sections=(
                section(
                    "Indication",
                    "Métrorragies post-ménopausiques ; biopsie endométriale : adénocarcinome "
                    "endométrioïde de grade 1. Bilan locorégional.",
                ),
                section(
                    "Technique",
                    "IRM pelvienne 1,5 T : séquences T2 dans les trois plans, diffusion, "
                    "séquences dynamiques après injection de gadolinium.",
                ),
                section(
                    "Résultats",
                    rows=(
                        ("Utérus", "Antéversé, 82 mm ; processus endométrial de 24 mm"),
                        (
                            "Myomètre",
                            "Infiltration inférieure à 50 % de son épaisseur (paroi postérieure)",
                        ),
                        ("Col et paramètres", "Stroma cervical respecté, paramètres libres"),
                        ("Ganglions", "Pas d'adénopathie pelvienne ni lombo-aortique basse"),
                    ),
                ),
                section(
                    "Conclusion",
                    "Tumeur endométriale infiltrant moins de la moitié du myomètre, sans "
                    "extension cervicale ni ganglionnaire : aspect de stade FIGO IA.",
                ),
            ),
        ),
        du_pont_consultation(d),
    ]
