from django.urls import path

from dcc.accounts import admin_views

app_name = "administration"

urlpatterns = [
    path("", admin_views.index, name="index"),
    path("structures/", admin_views.structure_list, name="structure_list"),
    path("structures/nouvelle/", admin_views.structure_create, name="structure_create"),
    path("structures/<uuid:uuid>/", admin_views.structure_detail, name="structure_detail"),
    path("structures/<uuid:uuid>/modifier/", admin_views.structure_edit, name="structure_edit"),
    path("professionnels/", admin_views.user_list, name="user_list"),
    path("professionnels/<uuid:uuid>/", admin_views.user_detail, name="user_detail"),
    path("professionnels/<uuid:uuid>/modifier/", admin_views.user_edit, name="user_edit"),
    path("professionnels/<uuid:uuid>/roles/", admin_views.user_grant_role, name="user_grant_role"),
    path(
        "professionnels/<uuid:uuid>/roles/<uuid:membership>/retirer/",
        admin_views.user_revoke_role,
        name="user_revoke_role",
    ),
    path(
        "professionnels/<uuid:uuid>/desactiver/",
        admin_views.user_set_active,
        {"active": False},
        name="user_deactivate",
    ),
    path(
        "professionnels/<uuid:uuid>/reactiver/",
        admin_views.user_set_active,
        {"active": True},
        name="user_reactivate",
    ),
    path("invitations/", admin_views.invitation_list, name="invitation_list"),
    path("invitations/nouvelle/", admin_views.invitation_create, name="invitation_create"),
    path(
        "invitations/<uuid:uuid>/annuler/",
        admin_views.invitation_cancel,
        name="invitation_cancel",
    ),
]
