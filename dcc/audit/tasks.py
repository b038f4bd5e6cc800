"""Periodic audit work run by the task worker."""

from __future__ import annotations

from django_tasks import task

from dcc.audit.services import seal_pending_events
from dcc.core.tasks import runs_as_actor


@task()
@runs_as_actor
def seal_audit_trail() -> int:
    """Link any event still unsealed (safety net behind the after-commit sealing)."""
    return seal_pending_events()
