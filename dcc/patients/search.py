"""Finding a patient among those the user may see: by INS, hospital number (IPP), name prefix
and birth date. Kept apart from the visibility rules so that it can be tuned for regional
scale (a million patients) without touching who may see what."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Collate
from django.db.models.lookups import GreaterThanOrEqual, LessThan, StartsWith
from django.utils import timezone

from dcc.accounts.models import User
from dcc.accounts.permissions import AnyUser
from dcc.patients import ins, matching
from dcc.patients.models import Patient, PatientIdentifier
from dcc.patients.selectors import patients_visible_to

SEARCH_LIMIT = 50


def search_patients(
    user: AnyUser,
    *,
    text: str = "",
    birth_date: dt.date | None = None,
    limit: int = SEARCH_LIMIT,
    offset: int = 0,
) -> list[Patient]:
    """Find visible patients by INS, hospital number (IPP) or name prefix, and birth date.

    ``text`` is tried as an INS matricule (15 characters once normalised), as an IPP, and as
    the start of the birth or used name, ignoring accents, case, spaces and hyphens ("dup"
    finds Dupont, Dupond and Du Pont). Only patients the user may see are searched, and no
    count of the others is ever computed. Pages are ``offset``/``limit`` slices (ask for one
    more row than shown to know whether there is a next page)."""
    text = text.strip()
    if not text and birth_date is None:
        return []
    if not isinstance(user, User) or not user.is_active:
        return []
    terms = _Terms.of(text, birth_date)
    statement = _statement(user, terms.shape, limit, offset)
    if statement is None:
        return list(_query(user, terms, limit, offset))
    return list(Patient.objects.raw(statement.sql, statement.bind(terms)))


@dataclass(frozen=True)
class _Terms:
    """What the text is searched as: IPP (the text itself), INS, name key, birth date."""

    text: str
    matricule: str  # "" unless the text is 15 characters once normalised
    key: str
    upper: str  # the first key after every key starting with ``key`` (SQLite ranges)
    birth_date: dt.date | None

    @classmethod
    def of(cls, text: str, birth_date: dt.date | None) -> _Terms:
        matricule = ins.normalise_matricule(text) if text else ""
        key = matching.name_key(text) if text else ""
        return cls(
            text=text,
            matricule=matricule if len(matricule) == 15 else "",
            key=key,
            upper=key[:-1] + chr(ord(key[-1]) + 1) if key else "",
            birth_date=birth_date,
        )

    @property
    def shape(self) -> tuple[bool, bool, bool, bool]:
        return (bool(self.text), bool(self.matricule), bool(self.key), bool(self.birth_date))


def _query(user: User, terms: _Terms, limit: int, offset: int) -> QuerySet[Patient]:
    """Visible matches: exact ones (IPP, INS) first, then by the matched name key (the smaller
    of the birth and used name keys that start with what was typed), first name key, id.

    On PostgreSQL each name arm is its own ordered, limited walk of an index in that order
    (``birth_name_key COLLATE "C", first_name_key COLLATE "C", id``, migration 0010), testing
    visibility as it goes: it stops after ``offset + limit`` visible rows instead of checking
    and sorting the thousands of patients whose name starts with three letters. The merged
    first ``offset + limit`` rows are always among those of the arms (a patient ahead in the
    merged order is ahead in the arm that gave its key). SQLite, which cannot order or limit
    the arms of a compound statement, filters and sorts every match (binary order already);
    so do both databases for an INS or IPP alone (a few rows, and one visibility test to plan
    instead of one per arm: planning is most of the time of such a search)."""
    if connection.vendor == "postgresql" and terms.key:
        found = Patient.objects.filter(pk__in=_limited_arms(user, terms, offset + limit))
    else:
        found = patients_visible_to(user)
        if terms.text:
            found = found.filter(pk__in=_matching_ids(terms))
        if terms.birth_date is not None:
            found = found.filter(birth_date=terms.birth_date)
    return found.order_by(*_order(terms))[offset : offset + limit]


def _key(field: str) -> Any:
    """A name key as both databases compare it: code-point order (PostgreSQL's "C")."""
    if connection.vendor == "postgresql":
        return Collate(F(field), "C")
    return F(field)


def _order(terms: _Terms) -> list[Any]:
    birth, used = _key("birth_name_key"), _key("used_name_key")
    order: list[Any] = []
    if terms.key:
        exact: Any = Exists(
            PatientIdentifier.objects.filter(patient=OuterRef("pk"), value=terms.text)
        )
        if terms.matricule:
            exact |= Q(ins_matricule=terms.matricule)
        order.append(Case(When(exact, then=Value(0)), default=Value(1)))
        birth_match, used_match = _starts(birth, terms), _starts(used, terms)
        order.append(
            Case(
                When(used_match & ~birth_match, then=used),
                When(used_match & birth_match & LessThan(used, birth), then=used),
                default=birth,
            )
        )
    else:
        order.append(birth)
    return [*order, _key("first_name_key"), "pk"]


def _limited_arms(user: User, terms: _Terms, rows: int) -> QuerySet[Any, int]:
    """PostgreSQL: the ids of the visible matches, the exact ones and, by name, the first
    ``rows`` of each name arm in key order."""
    # Visibility as one correlated EXISTS on the primary key: PostgreSQL then tests it row by
    # row as the index walk goes (a nested-loop semi-join) instead of hashing the sets behind
    # the caring tests (the 100,000 registrations of a sharing hospital) before the first row.
    visible = Patient.objects.filter(Exists(patients_visible_to(user).filter(pk=OuterRef("pk"))))
    if terms.birth_date is not None:
        visible = visible.filter(birth_date=terms.birth_date)
    arms: list[QuerySet[Any, int]] = [
        visible.filter(
            pk__in=PatientIdentifier.objects.filter(value=terms.text).values("patient_id")
        )
        .order_by()
        .values_list("pk", flat=True)
    ]
    if terms.matricule:
        live = ~Q(ins_matricule="") & Q(merged_into__isnull=True)
        arms.append(
            visible.filter(live, ins_matricule=terms.matricule)
            .order_by()
            .values_list("pk", flat=True)
        )
    if terms.key:
        for field in ("birth_name_key", "used_name_key"):
            key = _key(field)
            arms.append(
                visible.filter(_starts(key, terms))
                .order_by(key, _key("first_name_key"), "pk")
                .values_list("pk", flat=True)[:rows]
            )
    return arms[0].union(*arms[1:], all=True)


def _starts(key: Any, terms: _Terms) -> Q:
    """The key starts with the typed one, in the form each database answers from an index.

    PostgreSQL: ``LIKE 'KEY%'`` on the "C"-collated key, which its b-tree in that collation
    answers as a range. SQLite's LIKE ignores case and never uses a plain index, so the prefix
    is asked as a range in code-point order (keys are upper-case letters: the same rows)."""
    if connection.vendor == "postgresql":
        return Q(StartsWith(key, terms.key))
    return Q(GreaterThanOrEqual(key, terms.key)) & Q(LessThan(key, terms.upper))


def _matching_ids(terms: _Terms) -> QuerySet[Any, int]:
    """Ids of the patients whose IPP, INS or name start matches (SQLite, or no name key), one
    indexed arm per way, as ``UNION ALL`` (an ``OR`` across a join and several columns would
    scan the whole table)."""
    dated = {"birth_date": terms.birth_date} if terms.birth_date is not None else {}
    arms: list[QuerySet[Any, int]] = [
        PatientIdentifier.objects.filter(value=terms.text).values_list("patient_id", flat=True)
    ]
    if terms.matricule:
        # Spelled as the unique index's condition, so that both databases use that index.
        live = ~Q(ins_matricule="") & Q(merged_into__isnull=True)
        arms.append(_ids(Q(ins_matricule=terms.matricule, **dated) & live))
    if terms.key:
        for field in ("birth_name_key", "used_name_key"):
            arms.append(_ids(_starts(_key(field), terms) & Q(**dated)))
    arms = [arm.order_by() for arm in arms]
    return arms[0].union(*arms[1:], all=True)


def _ids(condition: Q) -> QuerySet[Any, int]:
    return Patient.objects.filter(condition).values_list("pk", flat=True)


# The statement, compiled once per user and shape of search ---------------------------------------
#
# Building this query through the ORM (five correlated EXISTS, up to four UNION arms) costs
# 3–5 ms of Python for a statement the database answers in 0.1–1 ms. The SQL depends only on
# the user (their id is written into it) and on which terms are present, so it is compiled once
# with marker values in place of the terms, and later searches only put their own values (and
# the current time, for the time-bounded accesses) where the markers were.

_MARK_TEXT = "\x00dcc-text\x00"
_MARK_INS = "\x00dcc-ins\x00"
_MARK_KEY = "\x00DCCKEY\x00"
_MARK_UPPER = "\x00DCCKEZ\x00"
_MARK_DATE = dt.date(1, 1, 1)
_MARKS = _Terms(_MARK_TEXT, _MARK_INS, _MARK_KEY, _MARK_UPPER, _MARK_DATE)
_STATEMENTS_MAX = 2048
_statements: dict[tuple[Any, ...], _Statement | None] = {}


@dataclass(frozen=True)
class _Statement:
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[int, str], ...]  # (position in params, which term)

    def bind(self, terms: _Terms) -> list[Any]:
        postgres = connection.vendor == "postgresql"
        now = timezone.now()
        values: dict[str, Any] = {
            "text": terms.text,
            "ins": terms.matricule,
            "like": connection.ops.prep_for_like_query(terms.key) + "%",
            "low": terms.key,
            "high": terms.upper,
            "date": terms.birth_date
            if postgres
            else connection.ops.adapt_datefield_value(terms.birth_date),
            "now": now if postgres else connection.ops.adapt_datetimefield_value(now),
        }
        params = list(self.params)
        for position, term in self.slots:
            params[position] = values[term]
        return params


def _statement(user: User, shape: tuple[bool, ...], limit: int, offset: int) -> _Statement | None:
    cache_key = (connection.vendor, connection.settings_dict["NAME"], user.pk, shape, limit, offset)
    if cache_key not in _statements:
        if len(_statements) >= _STATEMENTS_MAX:
            _statements.clear()
        marks = _Terms(
            text=_MARK_TEXT if shape[0] else "",
            matricule=_MARK_INS if shape[1] else "",
            key=_MARK_KEY if shape[2] else "",
            upper=_MARK_UPPER if shape[2] else "",
            birth_date=_MARK_DATE if shape[3] else None,
        )
        _statements[cache_key] = _compile(_query(user, marks, limit, offset))
    return _statements[cache_key]


def _compile(query: QuerySet[Patient]) -> _Statement | None:
    """The statement with the position of each term, or None when a parameter cannot be
    placed with certainty (the search then goes through the ORM every time)."""
    started = timezone.now()
    sql, params = query.query.sql_with_params()
    postgres = connection.vendor == "postgresql"
    date_mark = _MARK_DATE if postgres else connection.ops.adapt_datefield_value(_MARK_DATE)
    known: dict[Any, str] = {
        _MARK_TEXT: "text",
        _MARK_INS: "ins",
        _MARK_KEY + "%": "like",
        _MARK_KEY: "low",
        _MARK_UPPER: "high",
        date_mark: "date",
    }
    slots = []
    for position, value in enumerate(params):
        if isinstance(value, dt.datetime) or (not postgres and _DATETIME.fullmatch(str(value))):
            moment = value if isinstance(value, dt.datetime) else _sqlite_datetime(value)
            if abs((moment - started).total_seconds()) > 60:
                return None  # a time that is not "now": not ours to replace
            slots.append((position, "now"))
        elif isinstance(value, str | dt.date) and value in known:
            slots.append((position, known[value]))
        elif isinstance(value, str) and "\x00" in value:
            return None
    if "\x00" in sql:
        return None
    return _Statement(sql, tuple(params), tuple(slots))


_DATETIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?")


def _sqlite_datetime(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
