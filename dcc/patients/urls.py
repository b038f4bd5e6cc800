from django.urls import path

from dcc.patients import report_urls, views

app_name = "patients"

urlpatterns = [
    path("", views.search, name="search"),
    path("nouveau/", views.register, name="register"),
    path("urgence/", views.emergency_start, name="emergency_start"),
    path("<uuid:uuid>/", views.record, name="record"),
    path("<uuid:uuid>/identite/", views.identity_edit, name="identity_edit"),
    path("<uuid:uuid>/coordonnees/", views.contact, name="contact"),
    path("<uuid:uuid>/equipe/", views.care_team, name="care_team"),
    path(
        "<uuid:uuid>/equipe/<uuid:member>/retirer/",
        views.care_team_remove,
        name="care_team_remove",
    ),
    path("<uuid:uuid>/opposition/", views.objection, name="objection"),
    path("<uuid:uuid>/doublons/", views.duplicates, name="duplicates"),
    path("<uuid:uuid>/fusion/", views.merge, name="merge"),
    path("<uuid:uuid>/fusions/<uuid:merged>/annuler/", views.unmerge, name="unmerge"),
    path("<uuid:uuid>/urgence/fin/", views.emergency_end, name="emergency_end"),
] + report_urls.urlpatterns
