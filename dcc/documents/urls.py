from django.urls import path

from dcc.documents import views

app_name = "documents"

# Mounted under /patients/<uuid:uuid>/documents/ (config/urls.py).
urlpatterns = [
    path("", views.timeline, name="timeline"),
    path("ajouter/", views.add, name="add"),
    path("<uuid:document>/", views.detail, name="detail"),
    path("<uuid:document>/contenu/", views.content, name="content"),
    path("<uuid:document>/telecharger/", views.download, name="download"),
    path("<uuid:document>/remplacer/", views.replace, name="replace"),
    path("<uuid:document>/annuler/", views.cancel, name="cancel"),
]
