from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "dcc.audit"
    label = "audit"
    verbose_name = "Journal d'audit"
