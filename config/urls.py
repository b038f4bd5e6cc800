"""Top-level URL map: one include per app, French paths."""

from django.urls import include, path
from django.views.i18n import set_language

from dcc.core import views as core_views

urlpatterns = [
    path("", include("dcc.core.urls")),
    path("compte/", include("dcc.accounts.urls")),
    path("administration/", include("dcc.accounts.admin_urls")),
    path("securite/", include("dcc.audit.urls")),
    path("patients/", include("dcc.patients.urls")),
    path("patients/<uuid:uuid>/documents/", include("dcc.documents.urls")),
    path("notifications/", include("dcc.notifications.urls")),
    path("langue/", set_language, name="set_language"),
]

handler400 = core_views.bad_request
handler403 = core_views.permission_denied
handler404 = core_views.page_not_found
handler500 = core_views.server_error
