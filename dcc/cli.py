"""The ``dcc`` console script: Django management commands for the DCC.

``dcc demo`` runs the embedded demonstration (migrate, seed, serve on 127.0.0.1:8000) and
implies ``DCC_DEMO=1`` unless another mode was chosen explicitly.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "demo" and not os.environ.get("DCC_DEV"):
        os.environ.setdefault("DCC_DEMO", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.management import execute_from_command_line

    from dcc.core.env import ConfigError

    try:
        settings.INSTALLED_APPS  # noqa: B018 - load settings now, to report errors plainly
    except ConfigError:
        # config.settings already printed which variable is wrong.
        raise SystemExit(2) from None

    from dcc.core.context import set_actor, system_actor

    # Whatever a command changes is attributed to it (requests served by runserver set their own).
    set_actor(system_actor("dcc " + (args[1] if len(args) > 1 else "")))

    execute_from_command_line(args)
