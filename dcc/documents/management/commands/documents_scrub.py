"""``dcc documents_scrub``: check every stored document against its recorded hash."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dcc.audit.choices import Action
from dcc.audit.services import record_event
from dcc.documents.scrub import scrub


class Command(BaseCommand):
    help = (
        "Vérifie chaque document stocké (déchiffrement, empreinte SHA-256, taille) et signale "
        "les contenus altérés, manquants ou orphelins. Ne supprime rien. Code de sortie 1 si un "
        "document est altéré ou manquant."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-orphans",
            action="store_true",
            help="Ne pas rechercher les contenus stockés sans document (orphelins).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = scrub(orphans=not options["no_orphans"], log=self.stdout.write)
        record_event(
            action=Action.DOCUMENTS_SCRUBBED,
            outcome="success" if report.ok else "failure",
            details={
                "checked": report.checked,
                "corrupted": report.corrupted,
                "missing": report.missing,
                "orphans": len(report.orphans),
                "partials": len(report.partials),
            },
        )
        for uuid in report.corrupted:
            self.stderr.write(f"ALTÉRÉ : contenu {uuid}")
        for uuid in report.missing:
            self.stderr.write(f"MANQUANT : contenu {uuid}")
        for key in report.orphans:
            self.stdout.write(f"orphelin (aucun document ne le référence) : {key}")
        for path in report.partials:
            self.stdout.write(f"écriture interrompue (jamais visible) : {path}")
        self.stdout.write(
            f"{report.checked} contenus vérifiés ({report.bytes_checked:,} octets), "
            f"{len(report.corrupted)} altérés, {len(report.missing)} manquants, "
            f"{len(report.orphans)} orphelins."
        )
        if not report.ok:
            raise SystemExit(1)
