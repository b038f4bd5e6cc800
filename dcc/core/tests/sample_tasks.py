"""A task used by the tests to observe the actor context inside the worker."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from dcc.audit.services import record_event
from dcc.core.tasks import runs_as_actor


@task()
@runs_as_actor
def trace_something(resource_id: str) -> str:
    with transaction.atomic():
        event = record_event(action="page.viewed", resource_type="Test", resource_id=resource_id)
    return str(event.uuid) if event else ""
