"""``dcc demo``: migrate the embedded database, seed the demo and serve it on 127.0.0.1:8000,
with a task worker beside the server (notification e-mails, printed on the console in demo
mode, go through it as they would in production)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

WORKER_COMMAND = [sys.executable, "-P", "-m", "django", "db_worker"]


class Command(BaseCommand):
    help = "Prépare et lance la démonstration (base SQLite embarquée) sur http://127.0.0.1:8000."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default="8000")
        parser.add_argument(
            "--no-serve", action="store_true", help="Préparer sans lancer le serveur."
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Ne pas lancer le traitement des tâches de fond (e-mails de notification).",
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
        worker = None if options["no_worker"] else self.start_worker()
        try:
            call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)

    def start_worker(self) -> subprocess.Popen[bytes]:
        """``db_worker`` in a child process with the same settings (the environment is
        inherited: DCC_DEMO, DJANGO_SETTINGS_MODULE, DCC_DATA_DIR) and the same code: ``-P``
        keeps the current directory off the import path, where another checkout's
        ``config`` package would otherwise be imported instead of the installed one (and its
        database used)."""
        self.stdout.write("Tâches de fond : e-mails de notification affichés ci-dessous.")
        return subprocess.Popen(WORKER_COMMAND)  # noqa: S603 - our interpreter, fixed arguments
