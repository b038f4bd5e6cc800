"""``dcc audit_seal``: link pending audit events into the chain (periodic safety net)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from dcc.audit.services import seal_pending_events


class Command(BaseCommand):
    help = "Chaîne les événements d'audit en attente."

    def handle(self, *args: Any, **options: Any) -> None:
        count = seal_pending_events()
        self.stdout.write(f"{count} événement(s) chaîné(s).")
