from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "dcc.patients"
    label = "patients"
    verbose_name = "Patients"
