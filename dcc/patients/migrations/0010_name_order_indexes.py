"""Name-prefix search that stops early on PostgreSQL (see ``dcc.patients.search``).

Each name arm walks an index in the order results are shown (name key, first name key, id) and
stops after a page of *visible* patients, instead of checking and sorting every patient whose
name starts with three letters (about 21,000 of a million for "MAR"). The keys are compared
with the "C" collation so that the same index answers both ``LIKE 'MAR%'`` and the ``ORDER
BY`` (with the database's own collation, C.UTF-8 or en_US, a b-tree usable for the order is not
usable for LIKE, and ``varchar_pattern_ops`` is not usable for the order).

A third index holds the patient columns of the visibility test beside the id, so that each
candidate of the walk is tested without reading its heap page.

PostgreSQL only, and kept out of ``Patient.Meta.indexes`` (the model has no way to declare a
column collation in an index without creating it on SQLite too, where it would be useless: the
keys are already compared in binary order there and SQLite cannot limit the arms of a compound
statement). ``makemigrations`` therefore knows nothing of them.
"""

from typing import Any

from django.db import migrations

INDEXES = {
    "patient_birth_key_order_idx": (
        '("birth_name_key" COLLATE "C", "first_name_key" COLLATE "C", "id")'
    ),
    "patient_used_key_order_idx": (
        '("used_name_key" COLLATE "C", "first_name_key" COLLATE "C", "id")'
    ),
    # The patient columns of the visibility test, beside the id: each candidate of the walk is
    # tested from the index alone (no heap page read) before the care-team and registration
    # probes. About 10 % off the name search at a million patients.
    "patient_visibility_idx": (
        '("id") INCLUDE ("merged_into_id", "general_practitioner_id", "objects_to_sharing")'
    ),
}


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "patients_patient" {columns}'
        )


def drop(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("patients", "0009_contact_details")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
