"""Abstract building blocks shared by every domain app (no domain model lives here)."""

from __future__ import annotations

from uuid import uuid4

from django.db import models


class BaseModel(models.Model):
    """A row with a public UUID and creation/update times; integer ids never leave the server."""

    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
