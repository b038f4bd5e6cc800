"""``dcc documents_rewrap``: re-wrap every document's data key under the current master key."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from dcc.audit.choices import Action
from dcc.audit.services import record_event
from dcc.documents import crypto
from dcc.documents.scrub import rewrap


class Command(BaseCommand):
    help = (
        "Chiffre à nouveau la clé de chaque document avec la clé maîtresse courante "
        "(DCC_DOCUMENT_KEY_ID), sans toucher aux contenus. À lancer après un changement de clé "
        "maîtresse ; l'ancienne clé (DCC_DOCUMENT_PREVIOUS_KEYS_FILE) peut ensuite être retirée."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = rewrap(log=self.stdout.write)
        record_event(
            action=Action.DOCUMENT_KEYS_REWRAPPED,
            details={"rewrapped": done, "key_id": crypto.current_key_id()},
        )
        self.stdout.write(f"{done} clés de documents renouvelées sous {crypto.current_key_id()}.")
