from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "dcc.accounts"
    label = "accounts"
    verbose_name = "Comptes et structures"
