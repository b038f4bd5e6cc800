"""Code systems, OIDs and value sets: the only place where they are written down.

Value sets come from the CI-SIS JDV files through ``scripts/build_code_tables.py`` and are
shipped as JSON in ``data/``.
"""
