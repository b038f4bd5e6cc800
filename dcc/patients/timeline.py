"""The record page's timeline, filled by the clinical apps (documents, RCP, care plan…).

An app registers a provider in its ``AppConfig.ready``: given the ``PatientAccess`` of the page,
it returns a ``TimelineSection`` (a template, its context, and what the page's single
``patient.viewed`` event should say it showed) in one statement of its own, whatever the size
of the record. The patients app never imports the clinical apps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dcc.patients.access import PatientAccess


@dataclass(frozen=True)
class TimelineSection:
    template: str
    context: dict[str, Any]
    audit: dict[str, Any] = field(default_factory=dict)


Provider = Callable[[PatientAccess], TimelineSection | None]
_PROVIDERS: dict[str, tuple[int, Provider]] = {}


def register(name: str, provider: Provider, *, order: int = 100) -> None:
    _PROVIDERS[name] = (order, provider)


def sections(access: PatientAccess) -> list[TimelineSection]:
    found = []
    for _order, provider in sorted(_PROVIDERS.values(), key=lambda item: item[0]):
        section = provider(access)
        if section is not None:
            found.append(section)
    return found
