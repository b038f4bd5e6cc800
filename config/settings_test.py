"""Settings for the test suite: development mode with throw-away keys, then the real module.

Only environment defaults are set here; every value still flows through config.settings, so a
``DATABASE_URL`` given by CI (PostgreSQL) is honoured.
"""

import os
import tempfile

os.environ.setdefault("DCC_DEV", "1")
os.environ.setdefault("DCC_DATA_DIR", tempfile.mkdtemp(prefix="dcc-test-"))
os.environ.setdefault("DCC_SECRET_KEY", "test-secret-key-" + "x" * 48)
os.environ.setdefault("DCC_AUDIT_ANCHOR_FILE", "off")
# Tests look at the chain right after an action: seal in the request, not on a timer.
os.environ.setdefault("DCC_AUDIT_SEAL", "on_commit")
os.environ.setdefault("DCC_AUDIT_KEY", "test-audit-key-" + "k" * 32)
os.environ.setdefault("DCC_DOCUMENT_KEY", "test-document-key-" + "d" * 32)

from config.settings import *  # noqa: E402,F403

# A file, not SQLite's shared-cache in-memory database: threads (live server, background
# sealer) then contend through WAL and busy_timeout as in real use, not through table locks.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
