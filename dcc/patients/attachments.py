"""What other apps attach to a patient and must follow the record through a merge.

An app whose model has a ``patient`` foreign key registers it here (in its ``AppConfig.ready``):
merging two records moves every such row of the merged record to the kept one and lists their
UUIDs in ``PatientMerge.moved`` under the given key, so that unmerging gives back exactly those
rows. The patients app never imports the clinical apps."""

from __future__ import annotations

from django.db import models

_ATTACHED: dict[str, type[models.Model]] = {}


def register(key: str, model: type[models.Model]) -> None:
    if key in {"identifiers", "care_team", "case_accesses"}:
        raise ValueError(f"{key!r} is kept by the patients app itself")
    if _ATTACHED.get(key, model) is not model:
        raise ValueError(f"{key!r} is already registered for another model")
    _ATTACHED[key] = model


def attached() -> list[tuple[str, type[models.Model]]]:
    return sorted(_ATTACHED.items())
