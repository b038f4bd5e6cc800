"""Who may do what with a notification: only its recipient reads it or marks it read."""

from __future__ import annotations

from dcc.accounts.models import User
from dcc.accounts.permissions import AnyUser
from dcc.notifications.models import Notification


def can_mark_read(user: AnyUser, notification: Notification) -> bool:
    return isinstance(user, User) and user.is_active and notification.recipient_id == user.pk
