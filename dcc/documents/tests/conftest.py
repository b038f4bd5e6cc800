"""A patient with a care team, and a place for blobs, for the document tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from dcc.accounts.models import Structure, User
from dcc.documents.content import _store
from dcc.patients import services as patient_services
from dcc.patients.choices import IdentityStatus
from dcc.patients.models import Patient

IDENTITY = patient_services.Identity(
    birth_name="Martin",
    birth_first_names="Claire",
    sex="F",
    birth_date=dt.date(1961, 4, 2),
    birth_place_code="33063",
    identity_status=IdentityStatus.PROVISIONAL,
)


@pytest.fixture(autouse=True)
def document_dir(settings: Any, tmp_path: Path) -> Path:
    """Each test stores its blobs in its own directory."""
    settings.DOCUMENT_DIR = tmp_path / "documents"
    settings.DOCUMENT_STORE = "local"
    _store.cache_clear()
    return Path(settings.DOCUMENT_DIR)


@pytest.fixture
def patient(rcp_secretary: User, oncologist: User, structures: dict[str, Structure]) -> Patient:
    """Registered by the secretary (care team); the oncologist is added to the team."""
    created = patient_services.register_patient(
        actor=rcp_secretary, structure=structures["hospital"], identity=IDENTITY, ipp="4242"
    )
    patient_services.add_to_care_team(actor=rcp_secretary, patient=created, member=oncologist)
    return created
