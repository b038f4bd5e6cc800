"""dcc — Dossier Communicant en Cancérologie."""

__version__ = "0.1.0"
