from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dcc.core"
    label = "core"
    verbose_name = "Socle"
