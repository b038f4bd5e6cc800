"""Compiled queries answer exactly what the ORM answers for the same values, on each database."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Value
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dcc.accounts.models import Charter, Membership, Structure, User
from dcc.core.compiled import INTEGER, MOMENT, TEXT, UUID_VALUE, CompiledQuery

pytestmark = pytest.mark.django_db


def _memberships(user: int, structure: uuid.UUID, since: dt.datetime) -> QuerySet[Membership]:
    """Filters on a key, a UUID and a time, a join, a correlated EXISTS and an annotation."""
    return (
        Membership.objects.filter(
            user_id=user, structure__uuid=structure, created_at__gte=since, revoked_at__isnull=True
        )
        .select_related("structure", "user")
        .annotate(
            has_colleague=Exists(
                Membership.objects.filter(structure=OuterRef("structure")).exclude(
                    user=OuterRef("user")
                )
            ),
            label=Value("fixed", output_field=CharField()),
        )
        .order_by("pk")
    )


MEMBERSHIPS = CompiledQuery(_memberships, user=INTEGER, structure=UUID_VALUE, since=MOMENT)


def _fields(membership: Membership) -> tuple[Any, ...]:
    return (
        membership.pk,
        membership.uuid,
        membership.created_at,
        membership.role,
        membership.structure.uuid,
        membership.structure.name,
        membership.user.email,
        membership.user.rpps,
        membership.has_colleague,  # type: ignore[attr-defined]
        membership.label,  # type: ignore[attr-defined]
    )


def test_a_compiled_query_returns_what_the_orm_returns(
    oncologist: User, rcp_secretary: User, outsider: User, structures: dict[str, Structure]
) -> None:
    long_ago = timezone.now() - dt.timedelta(days=1)
    cases = [
        (user.pk, structure.uuid, since)
        for user in (oncologist, rcp_secretary, outsider)
        for structure in structures.values()
        for since in (long_ago, timezone.now() + dt.timedelta(days=1))
    ]
    found_some = False
    for user, structure, since in cases:
        expected = list(_memberships(user, structure, since))
        got = MEMBERSHIPS.run(user=user, structure=structure, since=since)
        assert [_fields(m) for m in got] == [_fields(m) for m in expected]
        found_some = found_some or bool(got)
        for membership in got:
            # Real instances: loaded from the database, related objects cached, usable.
            assert not membership._state.adding
            assert membership._state.db == "default"
            assert isinstance(membership.uuid, uuid.UUID)
            assert timezone.is_aware(membership.created_at)
            with CaptureQueriesContext(connection) as queries:
                assert membership.structure.pk == membership.structure_id
                assert membership.user.pk == membership.user_id
            assert len(queries) == 0
    assert found_some


def test_a_run_is_one_statement_the_same_for_every_value(
    oncologist: User, outsider: User, structures: dict[str, Structure]
) -> None:
    since = timezone.now() - dt.timedelta(days=1)
    texts = set()
    for user in (oncologist, outsider):
        for structure in structures.values():
            with CaptureQueriesContext(connection) as queries:
                MEMBERSHIPS.run(user=user.pk, structure=structure.uuid, since=since)
            assert len(queries) == 1
            texts.add(MEMBERSHIPS.sql())
    # One text, values bound as parameters: never written into it.
    assert len(texts) == 1
    text = texts.pop()
    for structure in structures.values():
        assert structure.uuid.hex not in text and str(structure.uuid) not in text
    assert text.count("%s") >= 3


def test_values_are_bound_as_their_field_prepares_them(
    oncologist: User, structures: dict[str, Structure]
) -> None:
    hospital = structures["hospital"]
    since = timezone.now() - dt.timedelta(days=1)
    # A UUID given as text, a pk given as a string of digits: the ORM would accept both.
    got = MEMBERSHIPS.run(user=oncologist.pk, structure=str(hospital.uuid), since=since)
    assert [m.structure_id for m in got] == [hospital.pk]


def test_several_parameters_of_one_kind_are_told_apart(
    oncologist: User, rcp_secretary: User
) -> None:
    both = CompiledQuery(
        lambda first, second: User.objects.filter(pk__in=[first, second]).order_by("pk"),
        first=INTEGER,
        second=INTEGER,
    )
    assert both.run(first=oncologist.pk, second=oncologist.pk) == [oncologist]
    assert both.run(first=oncologist.pk, second=rcp_secretary.pk) == sorted(
        [oncologist, rcp_secretary], key=lambda user: user.pk
    )


def test_a_query_without_parameters(platform_admin: User) -> None:
    latest = CompiledQuery(lambda: Charter.objects.order_by("-version")[:1])
    assert latest.run() == []
    for version in (1, 3, 2):
        Charter.objects.create(
            version=version, title="Charte", body="…", published_by=platform_admin
        )
    assert [c.version for c in latest.run()] == [3]


def test_a_parameter_the_statement_does_not_use_is_refused() -> None:
    unused = CompiledQuery(lambda user: User.objects.all(), user=INTEGER)
    with pytest.raises(ValueError, match="'user' does not reach"):
        unused.run(user=1)


def test_missing_or_unknown_values_are_refused() -> None:
    with pytest.raises(TypeError, match="expected values"):
        MEMBERSHIPS.run(user=1)
    with pytest.raises(TypeError, match="expected values"):
        MEMBERSHIPS.run(user=1, structure=uuid.uuid4(), since=timezone.now(), extra=2)


def test_prefetching_cannot_be_compiled() -> None:
    prefetching = CompiledQuery(
        lambda user: User.objects.filter(pk=user).prefetch_related("memberships"), user=INTEGER
    )
    with pytest.raises(ValueError, match="prefetch"):
        prefetching.run(user=1)


@pytest.mark.django_db(transaction=True)
def test_a_statement_compiled_in_one_thread_runs_in_another(
    oncologist: User, structures: dict[str, Structure]
) -> None:
    fresh = CompiledQuery(_memberships, user=INTEGER, structure=UUID_VALUE, since=MOMENT)
    since = timezone.now() - dt.timedelta(days=1)
    expected = [_fields(m) for m in _memberships(oncologist.pk, structures["hospital"].uuid, since)]
    assert [
        _fields(m)
        for m in fresh.run(user=oncologist.pk, structure=structures["hospital"].uuid, since=since)
    ] == expected
    results: list[Any] = []

    def other() -> None:
        from django.db import connection as own

        try:
            got = fresh.run(user=oncologist.pk, structure=structures["hospital"].uuid, since=since)
            results.append([_fields(m) for m in got])
        except Exception as error:  # reported below, in the test's own thread
            results.append(error)
        finally:
            own.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert results == [expected]


def test_a_malformed_value_is_refused_before_reaching_the_database() -> None:
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError):
        MEMBERSHIPS.run(user=1, structure="pas-un-uuid", since=timezone.now())
    assert len(queries) == 0


def _membership_rows(user: int, since: dt.datetime) -> QuerySet[Membership]:
    """Without related objects: a UUID, a time and a choice converted, two annotations."""
    return (
        Membership.objects.filter(user_id=user, created_at__gte=since)
        .annotate(
            structure_name=F("structure__name"),
            label=Value("fixed", output_field=CharField()),
        )
        .only("uuid", "created_at", "role", "structure")
        .order_by("pk")
    )


def test_rows_hold_what_the_orm_values_hold(
    oncologist: User, structures: dict[str, Structure]
) -> None:
    compiled = CompiledQuery(_membership_rows, user=INTEGER, since=MOMENT)
    since = timezone.now() - dt.timedelta(days=1)
    names = compiled.columns()
    assert names == ("id", "uuid", "created_at", "structure_id", "role", "structure_name", "label")
    expected = list(_membership_rows(oncologist.pk, since).values_list(*names))
    assert expected  # the oncologist belongs to structures
    with CaptureQueriesContext(connection) as queries:
        rows = compiled.rows(user=oncologist.pk, since=since)
    assert len(queries) == 1
    assert rows == expected
    assert all(isinstance(row[1], uuid.UUID) and row[2].tzinfo is not None for row in rows)


def test_values_pick_the_named_columns_in_their_order(
    oncologist: User, structures: dict[str, Structure]
) -> None:
    compiled = CompiledQuery(_membership_rows, user=INTEGER, since=MOMENT)
    since = timezone.now() - dt.timedelta(days=1)
    names = ("label", "uuid")  # an annotation, then a field: not the statement's order
    expected = list(_membership_rows(oncologist.pk, since).values_list(*names))
    assert expected
    assert compiled.values(names, user=oncologist.pk, since=since) == expected
    single = compiled.values(("role",), user=oncologist.pk, since=since)
    assert single == list(_membership_rows(oncologist.pk, since).values_list("role"))
    with pytest.raises(ValueError):
        compiled.values(("nosuch",), user=oncologist.pk, since=since)


def test_rows_of_a_query_with_related_objects_are_refused() -> None:
    since = timezone.now()
    with pytest.raises(ValueError, match="select_related"):
        MEMBERSHIPS.rows(user=1, structure=uuid.uuid4(), since=since)


def test_a_text_value_is_bound_as_it_is(oncologist: User, rcp_secretary: User) -> None:
    by_email = CompiledQuery(
        lambda email, other: User.objects.filter(email__in=[email, other]).order_by("pk"),
        email=TEXT,
        other=TEXT,
    )
    assert by_email.run(email=oncologist.email, other="nobody@example.org") == [oncologist]
    assert by_email.run(email=rcp_secretary.email, other=oncologist.email) == sorted(
        [oncologist, rcp_secretary], key=lambda user: user.pk
    )
    # Quotes and percent signs are values, never SQL.
    assert by_email.run(email="x' OR '1'='1", other="%") == []
    assert oncologist.email not in by_email.sql()


def test_a_text_lookup_that_rewrites_its_value_is_refused() -> None:
    # ``icontains`` sends ``%value%``: the marker is not there as it was given.
    containing = CompiledQuery(lambda text: User.objects.filter(email__icontains=text), text=TEXT)
    with pytest.raises(ValueError, match="'text' does not reach"):
        containing.run(text="a")
