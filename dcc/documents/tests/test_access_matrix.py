"""The document access matrix: every document route × every relationship to the patient ×
GET and POST → the expected answer, on the personas and patients of the patient matrix
(``dcc/patients/tests/test_access_matrix.py``). A new document route without an entry fails.

Documents follow the patient: outside what one may see, the 404 of a missing patient; the
read-only footings (RCP participant, emergency access) read but never write."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from dcc.accounts.models import Structure
from dcc.audit.models import AuditEvent
from dcc.core.tests.test_access_matrix import _check, _expected, _route_names
from dcc.documents import content, services
from dcc.documents.models import Document
from dcc.documents.tests import samples
from dcc.patients.tests.test_access_matrix import (
    ANON_LIKE,
    PERSONAS,
    READ_GET,
    READ_POST_REFUSED,
    RELATIONS,
    WRITE_GET,
    WRITE_GET_REFUSED,
    WRITE_POST,
    World,
    _on_patient,
)

MATRIX: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = {
    "documents:timeline": (READ_GET, READ_POST_REFUSED),
    "documents:add": (WRITE_GET, WRITE_POST),
    "documents:detail": (READ_GET, READ_POST_REFUSED),
    "documents:content": (READ_GET, READ_POST_REFUSED),
    "documents:download": (READ_GET, READ_POST_REFUSED),
    "documents:replace": (WRITE_GET, WRITE_POST),
    "documents:cancel": (WRITE_GET_REFUSED, WRITE_POST),
}
PATIENT_LEVEL = {"documents:timeline", "documents:add"}
READS = ["document.viewed", "document.downloaded", "document.listed", "document.rejected"]


def test_every_document_route_has_an_entry_in_the_matrix() -> None:
    routes = {name for name in _route_names() if name.startswith("documents:")}
    assert routes - MATRIX.keys() == set(), "add these routes to the document access matrix"
    assert MATRIX.keys() - routes == set(), "these matrix entries name no route"
    for route, entries in MATRIX.items():
        for entry in entries:
            if entry is not None:
                assert set(entry) == set(PERSONAS), route


class DocumentWorld(World):
    def __init__(self, structures: dict[str, Structure], charter: Any) -> None:
        super().__init__(structures, charter)
        self.documents: dict[str, Document] = {}
        author = self.users["care_team"]
        for relation in RELATIONS:
            upload = content.PendingContent(file_name="cr.pdf")
            upload.feed(samples.pdf(f"Compte rendu {relation}"))
            self.documents[relation] = services.add_document(
                actor=author,
                patient=self.patients[relation],
                content=upload,
                metadata=services.Metadata(
                    type_code="60568-3",
                    title="CR anatomopathologique",
                    act_date=self.patients[relation].created_at.date(),
                    author=author,
                ),
            )

    def document_args(self, route: str, relation: str) -> list[Any]:
        patient = self.patients[relation]
        if route in PATIENT_LEVEL:
            return [patient.uuid]
        return [patient.uuid, self.documents[relation].uuid]


@pytest.fixture
def world(structures: dict[str, Structure], charter: Any) -> DocumentWorld:
    return DocumentWorld(structures, charter)


def _cells(method: int) -> list[tuple[str, str, str]]:
    return [
        (route, persona, relation)
        for route, entries in MATRIX.items()
        if entries[method] is not None
        for persona in PERSONAS
        for relation in RELATIONS
    ]


def _changes() -> int:
    return (
        AuditEvent.objects.filter(outcome="success")
        .exclude(action__startswith="auth.")
        .exclude(action__in=["patient.viewed", *READS])
        .count()
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "persona", "relation"), _cells(0))
def test_get_answers_as_the_matrix_says(
    world: DocumentWorld, route: str, persona: str, relation: str
) -> None:
    url = reverse(route, args=world.document_args(route, relation))
    response = world.client(persona).get(url)
    _check(
        response.status_code,
        _expected(MATRIX[route][0], persona, relation),
        f"GET {url} as {persona} ({relation})",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("route", "persona", "relation"), _cells(1))
def test_post_answers_as_the_matrix_says(
    world: DocumentWorld, route: str, persona: str, relation: str
) -> None:
    url = reverse(route, args=world.document_args(route, relation))
    before = _changes()
    documents = Document.objects.count()
    response = world.client(persona).post(url, {})
    expected = MATRIX[route][1]
    assert expected is not None
    want = _expected(expected, persona, relation)
    _check(response.status_code, want, f"POST {url} as {persona} ({relation})")
    if want in (403, 404, 405) or persona in ANON_LIKE:
        assert _changes() == before, f"POST {url} as {persona} was refused but changed something"
        assert Document.objects.count() == documents


@pytest.mark.django_db
def test_a_hidden_document_is_answered_like_a_missing_one(world: DocumentWorld) -> None:
    import uuid

    client = world.client("other_structure_outsider")
    patient = world.patients["normal"]
    hidden = client.get(
        reverse("documents:detail", args=[patient.uuid, world.documents["normal"].uuid])
    )
    missing = client.get(reverse("documents:detail", args=[patient.uuid, uuid.uuid4()]))
    assert hidden.status_code == missing.status_code == 404
    # Someone who sees the patient asks for a document of another patient: 404 too.
    carer = world.client("care_team")
    other = world.documents["objecting"]
    assert (
        carer.get(reverse("documents:detail", args=[patient.uuid, other.uuid])).status_code == 404
    )


_ = _on_patient  # the shapes come from the patient matrix
