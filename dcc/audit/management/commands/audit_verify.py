"""``dcc audit_verify``: exit 0 when the audit trail is intact, 1 naming the first broken event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dcc.audit.services import record_event, seal_pending_events
from dcc.audit.verify import verify_chain


class Command(BaseCommand):
    help = (
        "Vérifie l'intégrité du journal d'audit (chaîne HMAC) et nomme le premier événement altéré."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-seal",
            action="store_true",
            help="Ne pas chaîner d'abord les événements en attente (lecture seule, réplica).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["no_seal"]:
            seal_pending_events()
        report = verify_chain()
        rate = report.checked / report.seconds if report.seconds else 0.0
        if report.ok:
            self.stdout.write(
                f"OK: {report.checked} événements vérifiés, {report.pending} en attente de chaînage "
                f"({report.seconds:.2f} s, {rate:,.0f} événements/s)."
            )
            if not options["no_seal"]:
                record_event(action="audit.verified", details={"checked": report.checked})
                seal_pending_events()
            return
        broken = report.broken.describe() if report.broken else "?"
        self.stderr.write(f"ALTÉRATION: {broken}")
        raise SystemExit(1)
