"""``dcc demo``: migrate the embedded database, seed the demo and serve it on 127.0.0.1:8000."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Prépare et lance la démonstration (base SQLite embarquée) sur http://127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default="8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="Préparer sans lancer le serveur."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO:
            raise CommandError("dcc demo s'exécute en mode démonstration (DCC_DEMO=1).")
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo")
        if options["no_serve"]:
            return
        self.stdout.write(
            f"Démonstration : http://127.0.0.1:{options['port']}/  (Ctrl-C pour arrêter)"
        )
        call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)
