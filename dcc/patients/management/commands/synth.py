"""``dcc synth --patients N [--seed S]``: load a synthetic regional population.

For demonstrations, tests and benchmarks only: refused in production mode and on a database
that holds real patients, unless ``--force``. The same seed always gives the same people; a
seed can be loaded once per database.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dcc.patients import synth


class Command(BaseCommand):
    help = (
        "Charge une population synthétique de patients (démonstration, tests, mesures de "
        "performance). Refusé en production et sur une base contenant des patients réels."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, required=True, help="Nombre de patients.")
        parser.add_argument("--seed", type=int, default=0, help="Graine (défaut : 0).")
        parser.add_argument(
            "--structures",
            type=int,
            default=synth.DEFAULT_STRUCTURES,
            help=f"Nombre de structures (défaut : {synth.DEFAULT_STRUCTURES}).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Charger même en production ou à côté de patients réels.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["patients"] < 1 or options["structures"] < 1:
            raise CommandError("--patients et --structures doivent être des entiers positifs.")
        try:
            report = synth.load_population(
                options["patients"],
                options["seed"],
                structures=options["structures"],
                force=options["force"],
                log=lambda line: self.stderr.write(line),
            )
        except synth.SynthRefused as refusal:
            raise CommandError(str(refusal)) from None
        self.stdout.write(
            f"{report.patients:,} patients synthétiques chargés (dont {report.near_duplicates:,} "
            f"quasi-doublons) dans {len(report.structures)} structures en "
            f"{report.seconds:.1f} s."
        )
