"""Routes of the access report (who consulted the record), included by ``patients.urls``."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
