"""Routes of the access report (who consulted the record), included by ``patients.urls``."""

from django.urls import URLPattern, path

from dcc.patients import report_views

urlpatterns: list[URLPattern] = [
    path("<uuid:uuid>/acces/", report_views.access_report_page, name="access_report"),
    path("<uuid:uuid>/acces.csv", report_views.access_report_csv, name="access_report_csv"),
    path("<uuid:uuid>/acces.pdf", report_views.access_report_pdf, name="access_report_pdf"),
]
