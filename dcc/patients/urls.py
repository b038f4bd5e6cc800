from django.urls import path

from dcc.patients import report_urls, views

app_name = "patients"

urlpatterns = [
    path("", views.search, name="search"),
] + report_urls.urlpatterns
