"""Queries compiled to SQL once per process, for the pages opened all day long.

Building a query through the ORM (filters, correlated ``EXISTS``, ``select_related``) costs
0.5–3 ms of Python each time, for statements the database answers in a tenth of that. A
``CompiledQuery`` builds its queryset once, with marker values in place of its parameters
(a user id, a record's UUID, the current time), compiles it, and remembers where each marker
landed among the statement's parameters. Each run then binds its own values there, executes
the same SQL and turns the rows into model instances exactly as the ORM does (field
converters, ``select_related`` objects, annotations) — or, for long lists read only to be
shown (``rows``), into plain tuples with the same converted values, which costs a tenth of a
model instance per row.

What is compiled must depend only on the markers: everything else written into the query
(choices, role lists, constants) is frozen at the first run. The SQL is kept per database
connection alias and vendor.
"""

from __future__ import annotations

import datetime as dt
import operator
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, models
from django.db.models.query import QuerySet, get_related_populators  # type: ignore[attr-defined]

M = TypeVar("M", bound=models.Model)


@dataclass(frozen=True)
class Param:
    """A parameter of a compiled query: its marker value and how the database receives it."""

    kind: str  # "integer", "uuid", "moment" or "text"

    @property
    def marker(self) -> Any:
        return _MARKERS[self.kind]

    def prepare(self, value: Any, alias: str) -> Any:
        """The value as the ORM passes it to the database: a key as a plain integer (as a
        filter on a foreign key does), a UUID or a time as its field prepares it (hexadecimal
        text and ISO text on SQLite), malformed values refused with the field's error."""
        if self.kind == "integer":
            return int(value)
        if self.kind == "text":
            return str(value)
        return _FIELDS[self.kind].get_db_prep_value(value, connections[alias], prepared=False)


INTEGER = Param("integer")
UUID_VALUE = Param("uuid")
MOMENT = Param("moment")
TEXT = Param("text")  # compared as it is (exact lookups: a content hash, a code)

# Values no real row or clock carries, distinct from each other once prepared for either
# database (a boolean is an integer in Python: the integer marker is neither 0 nor 1).
_MARKERS: dict[str, Any] = {
    "integer": -1_987_654_321,
    "uuid": uuid.UUID("d0cc0000-c0de-4a5b-8c7d-0123456789ab"),
    "moment": dt.datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC),
    "text": "dcc-compiled-marker-7f3a9c",
}
_FIELDS: dict[str, models.Field[Any, Any]] = {
    "uuid": models.UUIDField(),
    "moment": models.DateTimeField(),
}


class CompiledQuery(Generic[M]):
    """``build(**markers)`` compiled once per database; ``run(**values)`` binds and fetches.

    ``params`` names each argument of ``build`` and its kind. Each marker must appear in the
    statement at least once (checked when compiling); several markers of one kind are told
    apart by passing them distinct values in ``build`` through ``marker_of``."""

    def __init__(self, build: Callable[..., QuerySet[M]], **params: Param) -> None:
        self._build = build
        self._params = params
        self._compiled: dict[tuple[str, str], _Statement[M]] = {}
        self._lock = threading.Lock()

    def run(self, *, using: str = "default", **values: Any) -> list[M]:
        statement = self._statement(using)
        return statement.fetch(self._bind(statement, values, using), using)

    def rows(self, *, using: str = "default", **values: Any) -> list[tuple[Any, ...]]:
        """The rows as tuples of converted values, in the order of ``columns``, without model
        instances (for a query without ``select_related``)."""
        statement = self._statement(using)
        if statement.populators:
            raise ValueError("rows of a query with select_related objects need instances")
        return statement.fetch_rows(self._bind(statement, values, using), using)

    def values(
        self, names: tuple[str, ...], /, *, using: str = "default", **params: Any
    ) -> list[tuple[Any, ...]]:
        """Like ``rows``, each row reduced to the columns ``names``, in that order (a name the
        statement does not select raises ``ValueError``)."""
        columns = self.columns(using)
        pick = operator.itemgetter(*[columns.index(name) for name in names])
        found = self.rows(using=using, **params)
        if len(names) == 1:
            return [(pick(row),) for row in found]
        return [pick(row) for row in found]

    def columns(self, using: str = "default") -> tuple[str, ...]:
        """The names of the values in each of ``rows``: fields' attribute names, then
        annotations."""
        return self._statement(using).columns

    def _bind(self, statement: _Statement[M], values: dict[str, Any], using: str) -> list[Any]:
        if values.keys() != self._params.keys():
            raise TypeError(f"expected values for {sorted(self._params)}, got {sorted(values)}")
        params = list(statement.params)
        for name, positions in statement.slots:
            value = self._params[name].prepare(values[name], using)
            for position in positions:
                params[position] = value
        return params

    def sql(self, using: str = "default") -> str:
        return self._statement(using).sql

    def _statement(self, using: str) -> _Statement[M]:
        key = (using, connections[using].vendor)
        statement = self._compiled.get(key)
        if statement is None:
            with self._lock:
                statement = self._compiled.get(key)
                if statement is None:
                    statement = self._compile(using)
                    self._compiled[key] = statement
        return statement

    def _compile(self, using: str) -> _Statement[M]:
        markers = _distinct_markers(self._params)
        queryset = self._build(**markers).using(using)
        if queryset._known_related_objects or queryset._prefetch_related_lookups:  # type: ignore[attr-defined]
            raise ValueError("a compiled query cannot prefetch or carry known related objects")
        compiler = queryset.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = []
        for name, marker in markers.items():
            prepared = self._params[name].prepare(marker, using)
            positions = tuple(i for i, param in enumerate(params) if _same(param, prepared))
            if not positions:
                raise ValueError(f"the parameter {name!r} does not reach the compiled statement")
            slots.append((name, positions))
        return _Statement.of(compiler, sql, tuple(params), tuple(slots), using)  # type: ignore[no-any-return]


def _distinct_markers(params: dict[str, Param]) -> dict[str, Any]:
    """One marker per parameter, distinct even when several share a kind."""
    markers: dict[str, Any] = {}
    for offset, (name, param) in enumerate(sorted(params.items())):
        base = param.marker
        if param.kind == "integer":
            markers[name] = base - offset
        elif param.kind == "uuid":
            markers[name] = uuid.UUID(int=base.int + offset)
        elif param.kind == "text":
            markers[name] = f"{base}-{offset}"
        else:
            markers[name] = base + dt.timedelta(microseconds=offset)
    return markers


def _same(param: Any, value: Any) -> bool:
    return type(param) is type(value) and param == value


@dataclass(frozen=True)
class _Statement(Generic[M]):
    sql: str
    params: tuple[Any, ...]
    slots: tuple[tuple[str, tuple[int, ...]], ...]  # each parameter's positions
    # How rows become instances, as the ORM's ``ModelIterable`` works it out from the compiler.
    model: type[M]
    init_list: tuple[str, ...]
    model_columns: slice
    populators: tuple[Any, ...]
    converters: tuple[tuple[int, tuple[Any, ...], Any], ...]
    annotations: tuple[tuple[str, int], ...]
    columns: tuple[str, ...]  # the name of each selected value

    @classmethod
    def of(cls, compiler: Any, sql: str, params: tuple[Any, ...], slots: Any, using: str) -> Any:
        select, klass_info = compiler.select, compiler.klass_info
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        fields = [s[0] for s in select[0 : compiler.col_count]]
        init_list = tuple(f[0].target.attname for f in select[start:end])
        annotations = tuple((compiler.annotation_col_map or {}).items())
        columns = [""] * compiler.col_count
        columns[start:end] = init_list
        for name, position in annotations:
            columns[position] = name
        return cls(
            sql=sql,
            params=params,
            slots=slots,
            model=klass_info["model"],
            init_list=init_list,
            model_columns=slice(start, end),
            populators=tuple(get_related_populators(klass_info, select, using)),
            converters=tuple(
                (position, tuple(functions), expression)
                for position, (functions, expression) in compiler.get_converters(fields).items()
            ),
            annotations=annotations,
            columns=tuple(columns),
        )

    def fetch_rows(self, params: list[Any], using: str) -> list[tuple[Any, ...]]:
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if not self.converters:
            return [tuple(row[: len(self.columns)]) for row in rows]
        converted = []
        for fetched in rows:
            row = list(fetched[: len(self.columns)])
            for position, functions, expression in self.converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            converted.append(tuple(row))
        return converted

    def fetch(self, params: list[Any], using: str) -> list[M]:
        connection = connections[using]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        instances = []
        for fetched in rows:
            row = list(fetched)
            for position, functions, expression in self.converters:
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            obj = self.model.from_db(using, self.init_list, row[self.model_columns])
            for populator in self.populators:
                populator.populate(row, obj)
            for name, position in self.annotations:
                setattr(obj, name, row[position])
            instances.append(obj)
        return instances
