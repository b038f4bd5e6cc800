from django.urls import path

from dcc.accounts import admin_views

app_name = "administration"

urlpatterns = [
    path("", admin_views.index, name="index"),
]
