"""What the demonstration documents say, patient by patient, in the order of the care pathway.

Fictitious but clinically coherent: each patient's reports tell one story (discovery, staging,
pathology, decision, treatment) with dates, stages and biomarkers that agree from one document
to the next. One module per demo patient.
"""

from __future__ import annotations

from collections.abc import Callable

from dcc.documents.demo.base import Dates, DemoDocument
from dcc.documents.demo.records.dupont import DU_PONT_CONSULTATION, du_pont, dupont
from dcc.documents.demo.records.garnier import garnier
from dcc.documents.demo.records.lefevre import lefevre
from dcc.documents.demo.records.ndiaye import ndiaye
from dcc.documents.demo.records.rousseau import rousseau

__all__ = ["DU_PONT_CONSULTATION", "RECORDS"]

# By IPP at the demo CHU (patients.demo.PATIENTS). The provisional duplicate of Mme LEFÈVRE
# (CHU-100006) has none: a record awaiting identity vigilance carries no clinical document.
RECORDS: dict[str, Callable[[Dates], list[DemoDocument]]] = {
    "CHU-100001": lefevre,
    "CHU-100002": dupont,
    "CHU-100003": du_pont,
    "CHU-100004": ndiaye,
    "CHU-100005": garnier,
    "CHU-100007": rousseau,
}
