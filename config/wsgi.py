"""WSGI entry point (gunicorn ``config.wsgi:application`` or granian)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
# Objects alive after start-up never need scanning by the cyclic GC (see docs/performance.md).
gc.freeze()
