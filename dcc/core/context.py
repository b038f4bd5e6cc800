"""Who is acting, for what, from where: the actor context every audit event is stamped with.

The context lives in a ContextVar so that it follows the request (middleware), a management
command (system actor) or a task (the worker sets it from the task's arguments), and never
depends on an HTTP request object being at hand.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Literal

ActorKind = Literal["user", "system", "anonymous"]
Purpose = Literal["normal", "emergency"]


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    user_id: str = ""  # public UUID of the user
    rpps: str = ""
    structure_id: str = ""  # public UUID of the structure the user acts for
    role: str = ""
    label: str = ""  # e.g. the command name for a system actor
    source_ip: str = ""
    request_id: str = ""
    purpose: Purpose = "normal"


ANONYMOUS = Actor(kind="anonymous")

_current: ContextVar[Actor] = ContextVar("dcc_actor", default=ANONYMOUS)


def current_actor() -> Actor:
    return _current.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[Actor]:
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def set_actor(actor: Actor) -> None:
    """Replace the actor for the rest of the current context (the middleware resets it)."""
    _current.set(actor)


def system_actor(label: str) -> Actor:
    return Actor(kind="system", label=label[:100], request_id=new_request_id())


def with_changes(actor: Actor, **changes: str) -> Actor:
    return replace(actor, **changes)  # type: ignore[arg-type]
