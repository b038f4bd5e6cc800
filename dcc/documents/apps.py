from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "dcc.documents"
    label = "documents"
    verbose_name = "Documents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dcc.documents.models import Document
        from dcc.documents.selectors import record_section
        from dcc.patients import attachments, timeline

        # A merge of duplicate records moves the documents to the kept record (and back).
        attachments.register("documents", Document)
        # The record page lists the latest documents.
        timeline.register("documents", record_section, order=10)
