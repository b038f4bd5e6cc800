"""``dcc documents_scrub``: check every stored document against its recorded hash."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dcc.audit.choices import Action
from dcc.audit.services import record_event
from dcc.documents.scrub import ScrubReport, scrub


class Command(BaseCommand):
    help = (
        "Termine d'abord les écritures interrompues par un arrêt brutal (fichiers temporaires "
        "supprimés, contenus mis en place s'ils sont enregistrés, supprimés sinon), puis vérifie "
        "chaque document stocké (déchiffrement, empreinte SHA-256, taille) et signale les "
        "contenus altérés, manquants ou orphelins, sans jamais rien supprimer d'enregistré. "
        "Code de sortie 1 si un document est altéré ou manquant."
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
                "recovered": _recovered(report),
            },
        )
        for uuid in report.corrupted:
            self.stderr.write(f"ALTÉRÉ : contenu {uuid}")
        for uuid in report.missing:
            self.stderr.write(f"MANQUANT : contenu {uuid}")
        for key in report.orphans:
            self.stdout.write(f"orphelin (aucun document ne le référence) : {key}")
        recovery = report.recovery
        if recovery is not None:
            for key in recovery.published:
                self.stdout.write(f"écriture interrompue, contenu enregistré mis en place : {key}")
            for key in recovery.discarded:
                self.stdout.write(
                    f"écriture interrompue, contenu jamais enregistré supprimé : {key}"
                )
            if recovery.removed_parts:
                self.stdout.write(
                    "fichiers temporaires d'écritures interrompues supprimés : "
                    f"{recovery.removed_parts}"
                )
            for name in recovery.failed:
                self.stderr.write(f"écriture interrompue non résolue : {name}")
        for path in report.partials:
            self.stdout.write(f"écriture interrompue ou en cours (jamais visible) : {path}")
        for key in report.staged:
            self.stdout.write(f"contenu en attente de son enregistrement : {key}")
        self.stdout.write(
            f"{report.checked} contenus vérifiés ({report.bytes_checked:,} octets), "
            f"{len(report.corrupted)} altérés, {len(report.missing)} manquants, "
            f"{len(report.orphans)} orphelins."
        )
        if not report.ok:
            raise SystemExit(1)


def _recovered(report: ScrubReport) -> dict[str, int]:
    recovery = report.recovery
    if recovery is None:
        return {}
    return {
        "removed_parts": recovery.removed_parts,
        "published": len(recovery.published),
        "discarded": len(recovery.discarded),
        "failed": len(recovery.failed),
    }
