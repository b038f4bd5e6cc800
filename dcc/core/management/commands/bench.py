"""``dcc bench NAME``: run the benchmark scenario ``bench/NAME.py`` on a throw-away database.

Scenario names are written with hyphens on the command line (``patient-search``) and with
underscores in module names (``bench/patient_search.py``); either spelling is accepted.

The scenario measures dcc and its baseline in the same run, alternating them; the command
prints a table and, with ``--json FILE``, writes every metric with the machine's facts. The
configured database is never touched: a fresh one is created and migrated the way Django's
test runner does, and dropped at the end.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

import bench
from bench import harness


def scenarios() -> list[str]:
    """Scenario names as typed on the command line (``patient-search``)."""
    return sorted(
        module.name.replace("_", "-")
        for module in pkgutil.iter_modules(bench.__path__)
        if not module.ispkg and module.name != "harness" and not module.name.startswith("_")
    )


class Command(BaseCommand):
    help = "Mesure un scénario de performance (bench/<nom>.py) sur une base de données jetable."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help=f"Scénario : {', '.join(scenarios())}.")
        parser.add_argument("--scale", type=int, help="Taille du jeu de données du scénario.")
        parser.add_argument(
            "--repeat", type=int, default=5, help="Nombre d'alternances A/B (défaut : 5)."
        )
        parser.add_argument("--requests", type=int, help="Requêtes par variante et par alternance.")
        parser.add_argument("--json", dest="json_file", help="Fichier où écrire le rapport JSON.")
        parser.add_argument(
            "--keep-database",
            action="store_true",
            help="Garder la base jetable après la mesure (pour profiler ; la suivante l'efface).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"].replace("_", "-")
        if not re.fullmatch(r"[a-z-]+", name) or name not in scenarios():
            raise CommandError(
                f"Scénario inconnu {name!r} ; disponibles : {', '.join(scenarios())}."
            )
        for option in ("scale", "repeat", "requests"):
            if options[option] is not None and options[option] < 1:
                raise CommandError(f"--{option} doit être un entier positif.")
        module = importlib.import_module(f"bench.{name.replace('-', '_')}")
        settings = harness.Options(
            scale=options["scale"],
            repeat=options["repeat"],
            requests=options["requests"],
            log=lambda line: self.stderr.write(line),
        )
        with harness.throwaway_database(keep=options["keep_database"]) as database:
            self.stderr.write(f"Base jetable : {database}")
            machine = harness.machine_facts()
            metrics = module.run(settings)
        self.stdout.write(harness.table(metrics))
        if options["json_file"]:
            result = harness.report(name, settings, metrics, machine)
            Path(options["json_file"]).write_text(json.dumps(result, indent=2, ensure_ascii=False))
