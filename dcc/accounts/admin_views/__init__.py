"""Administration screens: structures, professionals, invitations and roles.

Every object is fetched through the ``*_visible_to`` selectors, so one the user may not
administer answers 404 exactly like one that does not exist. Every write goes through
``dcc.accounts.services``, which checks the policy again and records the audit event."""

from dcc.accounts.admin_views.invitations import (
    invitation_cancel,
    invitation_create,
    invitation_list,
)
from dcc.accounts.admin_views.structures import (
    index,
    structure_create,
    structure_detail,
    structure_edit,
    structure_list,
)
from dcc.accounts.admin_views.users import (
    user_detail,
    user_edit,
    user_grant_role,
    user_list,
    user_revoke_role,
    user_set_active,
)

__all__ = [
    "index",
    "invitation_cancel",
    "invitation_create",
    "invitation_list",
    "structure_create",
    "structure_detail",
    "structure_edit",
    "structure_list",
    "user_detail",
    "user_edit",
    "user_grant_role",
    "user_list",
    "user_revoke_role",
    "user_set_active",
]
