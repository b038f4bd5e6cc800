from django.urls import path

from dcc.accounts.psc import views

urlpatterns = [
    path("", views.start, name="psc_start"),
    path("retour/", views.callback, name="psc_callback"),
]
