"""Indexes for finding a patient at regional scale (a million records).

- name prefixes: ``birth_name_key LIKE 'DUP%'`` (with or without the birth date) and
  ``used_name_key LIKE 'DUP%'``. Databases are created with a non-C collation (C.UTF-8,
  en_US…), where PostgreSQL uses a b-tree for LIKE only with the ``varchar_pattern_ops``
  operator class. SQLite ignores operator classes: it gets plain indexes and searches by range;
- the hospital number (IPP) alone, without the structure (not partial: SQLite would not
  see that ``value = 'x'`` excludes the empty values);
- the registrations of a structure with their patient ids, so that "patients registered where
  I work" is read from the index alone.

The same definitions are in ``Patient.Meta.indexes`` and ``PatientIdentifier.Meta.indexes``.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("patients", "0007_case_access")]

    operations = [
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=["birth_name_key", "birth_date"],
                opclasses=["varchar_pattern_ops", "date_ops"],
                name="patient_birth_key_prefix_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(
                fields=["used_name_key"],
                opclasses=["varchar_pattern_ops"],
                name="patient_used_key_prefix_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="patientidentifier",
            index=models.Index(fields=["value"], name="patient_identifier_value_idx"),
        ),
        migrations.AddIndex(
            model_name="patientidentifier",
            index=models.Index(
                fields=["structure", "patient"], name="patient_identifier_struct_idx"
            ),
        ),
    ]
