from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "dcc.notifications"
    label = "notifications"
    verbose_name = "Notifications"
