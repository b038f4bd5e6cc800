#!/usr/bin/env python
"""Django's command-line utility for developers working in a checkout.

Same as the ``dcc`` command, with one difference: in a checkout with no configuration at all
(no mode, no ``DATABASE_URL``, no secret key), it runs in development mode
(``DCC_DEV=1``) so that ``python manage.py makemigrations`` and friends just work. As soon as
any of those is set, nothing is assumed and production rules apply, exactly as with ``dcc``.
"""

import os

from dcc.cli import main

CONFIGURED = ("DCC_DEMO", "DCC_DEV", "DATABASE_URL", "DCC_SECRET_KEY", "DCC_SECRET_KEY_FILE")

if __name__ == "__main__":
    if not any(os.environ.get(name) for name in CONFIGURED):
        os.environ["DCC_DEV"] = "1"
    main()
