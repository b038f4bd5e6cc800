"""On PostgreSQL, documents and their blobs are never deleted and what a version says never
changes.

Allowed updates: a version's status (current → replaced or cancelled, never back), its
cancellation fields, its patient (records merged and unmerged), its confidentiality and
patient masking (access rules), ``updated_at``; a blob's wrapped data key and master key id
(key rotation). Everything else, and any DELETE, is refused by the database itself, whatever
the client. TRUNCATE is allowed only to a superuser session that set
``dcc.audit_maintenance = on`` (the test database resets tables that way); the application
role is never a superuser. SQLite has no equivalent guard (the services never delete; the
hash checked on every read detects a changed content).
"""

from django.db import migrations

DOCUMENT_FROZEN = [
    "id", "uuid", "created_at", "set_id", "version", "previous_id", "type_code", "class_code",
    "title", "act_date", "author_id", "author_label", "structure_id", "uploaded_by_id",
    "blob_id", "version_reason",
]
BLOB_FROZEN = [
    "id", "uuid", "created_at", "store", "key", "kind", "mime_type", "size", "sha256",
    "file_name", "segment_size", "nonce_prefix", "flags",
]


def _row(prefix: str, columns: list[str]) -> str:
    return ", ".join(f"{prefix}.{c}" for c in columns)


CREATE = f"""
CREATE OR REPLACE FUNCTION dcc_document_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    IF coalesce(current_setting('dcc.audit_maintenance', true), '') = 'on'
       AND (SELECT rolsuper FROM pg_roles WHERE rolname = session_user) THEN
      RETURN NULL;
    END IF;
  ELSIF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'documents_document' THEN
    IF ROW({_row("NEW", DOCUMENT_FROZEN)}) IS NOT DISTINCT FROM ROW({_row("OLD", DOCUMENT_FROZEN)})
       AND (OLD.status = NEW.status OR OLD.status = 'current') THEN
      RETURN NEW;
    END IF;
  ELSIF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'documents_storedblob' THEN
    IF ROW({_row("NEW", BLOB_FROZEN)}) IS NOT DISTINCT FROM ROW({_row("OLD", BLOB_FROZEN)}) THEN
      RETURN NEW;
    END IF;
  END IF;
  RAISE EXCEPTION 'clinical documents are never deleted or rewritten: % refused on %',
    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER document_guard BEFORE UPDATE OR DELETE ON documents_document
  FOR EACH ROW EXECUTE FUNCTION dcc_document_guard();
CREATE TRIGGER document_no_truncate BEFORE TRUNCATE ON documents_document
  FOR EACH STATEMENT EXECUTE FUNCTION dcc_document_guard();
CREATE TRIGGER blob_guard BEFORE UPDATE OR DELETE ON documents_storedblob
  FOR EACH ROW EXECUTE FUNCTION dcc_document_guard();
CREATE TRIGGER blob_no_truncate BEFORE TRUNCATE ON documents_storedblob
  FOR EACH STATEMENT EXECUTE FUNCTION dcc_document_guard();
"""

DROP = """
DROP TRIGGER IF EXISTS blob_no_truncate ON documents_storedblob;
DROP TRIGGER IF EXISTS blob_guard ON documents_storedblob;
DROP TRIGGER IF EXISTS document_no_truncate ON documents_document;
DROP TRIGGER IF EXISTS document_guard ON documents_document;
DROP FUNCTION IF EXISTS dcc_document_guard();
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
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
