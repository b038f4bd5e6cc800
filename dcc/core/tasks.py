"""Background tasks keep the actor who asked for them.

A task is enqueued with the current actor serialised as its first argument
(``my_task.enqueue(actor_payload(), ...)``); the worker runs it under that actor
(``@runs_as_actor``), labelled as a task, so what a task changes is traced to the
professional who caused it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

from dcc.core.context import Actor, acting_as, current_actor

P = ParamSpec("P")
T = TypeVar("T")

_FIELDS = {field.name for field in dataclasses.fields(Actor)}


def actor_payload(actor: Actor | None = None) -> dict[str, str]:
    """The actor as a JSON-serialisable dict (task arguments must be JSON)."""
    return {key: str(value) for key, value in dataclasses.asdict(actor or current_actor()).items()}


def actor_from_payload(payload: dict[str, str]) -> Actor:
    values: dict[str, Any] = {key: value for key, value in payload.items() if key in _FIELDS}
    if values.get("kind") not in ("user", "system", "anonymous"):
        values["kind"] = "system"
    if values.get("purpose") not in ("normal", "emergency"):
        values["purpose"] = "normal"
    actor = Actor(**values)
    if actor.label.endswith("tâche"):  # re-enqueued by a task (a retry): already labelled
        return actor
    label = f"{actor.label} (tâche)" if actor.label else "tâche"
    return dataclasses.replace(actor, label=label[:200])


def runs_as_actor(function: Callable[P, T]) -> Callable[Concatenate[dict[str, str], P], T]:
    """Run the task body under the actor passed as first argument."""

    @functools.wraps(function)
    def wrapper(actor: dict[str, str], /, *args: P.args, **kwargs: P.kwargs) -> T:
        with acting_as(actor_from_payload(actor)):
            return function(*args, **kwargs)

    return wrapper
