"""``dcc seed_demo``: create the demonstration structures, accounts, charter, patients and
their documents."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from dcc.accounts import demo
from dcc.accounts.choices import Role
from dcc.documents.demo import pdf_available, seed_documents


class Command(BaseCommand):
    help = "Crée les données de démonstration (structures, un compte par rôle, charte)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not (settings.DEMO or settings.DEV):
            raise CommandError(
                "seed_demo ne s'exécute qu'en mode démonstration (DCC_DEMO=1) ou développement."
            )
        accounts = demo.seed()
        # After the patients, outside their transaction: each document commits its content to
        # the blob store before its row, one document at a time.
        documents = seed_documents()
        self.stdout.write(f"Comptes de démonstration (mot de passe commun : {demo.DEMO_PASSWORD})")
        for account in accounts:
            role = (
                "Administrateur de la plateforme" if account.superuser else Role(account.role).label
            )
            self.stdout.write(f"  {account.email:<28} {role}")
        if documents:
            self.stdout.write(f"Documents de démonstration ajoutés : {len(documents)}")
        if not pdf_available():
            self.stderr.write(
                "Comptes rendus PDF de démonstration non générés : WeasyPrint ne trouve pas "
                "Pango (apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)."
            )
