"""Indexes for finding a patient at regional scale (a million records).

- name prefixes: ``birth_name_key LIKE 'DUP%'`` (with or without the birth date) and
  ``used_name_key LIKE 'DUP%'``. The databases are created with a non-C collation
  (C.UTF-8, en_US…), where PostgreSQL can use a b-tree for LIKE only with the
  ``varchar_pattern_ops`` operator class; SQLite searches by range (``>=``/``<``) and uses
  plain indexes (the existing ``patient_birth_name_key_idx`` already covers the birth name);
- the hospital number (IPP) alone, without the structure;
- the registrations of a structure, patient ids included, so that "patients registered where
  I work" is read from the index only.

The indexes are created through the schema editor rather than declared in ``Patient.Meta``:
their operator classes differ between PostgreSQL and SQLite, and Django's model state has no
place for that. ``makemigrations`` therefore ignores them (no state change).
"""

from django.db import migrations, models
from django.db.models import Q


def _indexes(vendor):
    postgres = vendor == "postgresql"
    patient = [
        models.Index(
            fields=["used_name_key"],
            opclasses=["varchar_pattern_ops"] if postgres else [],
            name="patient_used_key_prefix_idx",
        )
    ]
    if postgres:
        patient.append(
            models.Index(
                fields=["birth_name_key", "birth_date"],
                opclasses=["varchar_pattern_ops", "date_ops"],
                name="patient_birth_key_prefix_idx",
            )
        )
    identifier = [
        models.Index(
            fields=["value"], condition=~Q(value=""), name="patient_identifier_value_idx"
        ),
        models.Index(fields=["structure", "patient"], name="patient_identifier_struct_idx"),
    ]
    return [("patient", index) for index in patient] + [
        ("patientidentifier", index) for index in identifier
    ]


def create(apps, schema_editor):
    for model_name, index in _indexes(schema_editor.connection.vendor):
        schema_editor.add_index(apps.get_model("patients", model_name), index)


def drop(apps, schema_editor):
    for model_name, index in _indexes(schema_editor.connection.vendor):
        schema_editor.remove_index(apps.get_model("patients", model_name), index)


class Migration(migrations.Migration):
    dependencies = [("patients", "0007_case_access")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
