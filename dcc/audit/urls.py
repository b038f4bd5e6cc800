from django.urls import path

from dcc.audit import views

app_name = "audit"

urlpatterns = [
    path("journal/", views.event_list, name="events"),
    path("journal/<uuid:uuid>/", views.event_detail, name="event_detail"),
]
