"""On PostgreSQL, the audit table refuses UPDATE, DELETE and TRUNCATE.

The one UPDATE allowed is the sealer's: setting chain_seq/chain_mac on a row that has none,
with every other column unchanged. TRUNCATE is allowed only to a superuser session that set
``dcc.audit_maintenance = on`` (the test database does, to reset between tests); the
application role is never a superuser. SQLite has no equivalent guard: the hash chain and
the anchor detect tampering there.
"""

from django.db import migrations

CONTENT = [
    "id", "uuid", "occurred_at", "actor_kind", "actor_user_id", "actor_rpps", "actor_structure_id",
    "actor_role", "actor_label", "action", "outcome", "patient_ref", "resource_type", "resource_id",
    "resource_version", "purpose", "source_ip", "request_id", "details", "key_id", "row_mac",
]
NEW_ROW = ", ".join(f"NEW.{c}" for c in CONTENT)
OLD_ROW = ", ".join(f"OLD.{c}" for c in CONTENT)

CREATE = f"""
CREATE OR REPLACE FUNCTION dcc_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.chain_seq IS NULL AND NEW.chain_seq IS NOT NULL
     AND ROW({NEW_ROW}) IS NOT DISTINCT FROM ROW({OLD_ROW}) THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'TRUNCATE' AND coalesce(current_setting('dcc.audit_maintenance', true), '') = 'on'
     AND (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION 'audit trail is append-only: % refused on %', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_auditevent
  FOR EACH ROW EXECUTE FUNCTION dcc_audit_guard();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditevent
  FOR EACH STATEMENT EXECUTE FUNCTION dcc_audit_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS dcc_audit_guard();
"""


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(CREATE)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
