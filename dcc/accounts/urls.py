from django.urls import include, path

from dcc.accounts import views

app_name = "accounts"

urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("connexion/code/", views.otp_verify_view, name="otp_verify"),
    path("connexion/second-facteur/", views.otp_enrol_view, name="otp_enrol"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("charte/", views.charter_view, name="charter"),
    path("charte/publier/", views.charter_publish_view, name="charter_publish"),
    path("invitation/<str:token>/", views.invitation_view, name="invitation"),
    path("contexte/", views.context_view, name="context"),
    path("psc/", include("dcc.accounts.psc.urls")),
]
