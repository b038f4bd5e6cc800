"""English pages use British formats (day before month, 24-hour clock), as French users expect."""

from django.conf.locale.en_GB.formats import *  # noqa: F403

DATETIME_FORMAT = "j M Y, H:i"
TIME_FORMAT = "H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
