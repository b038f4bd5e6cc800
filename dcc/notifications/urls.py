from django.urls import path

from dcc.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<uuid:uuid>/lue/", views.mark_read, name="mark_read"),
    path("tout-lu/", views.mark_all_read, name="mark_all_read"),
    path("preferences/", views.preferences, name="preferences"),
]
