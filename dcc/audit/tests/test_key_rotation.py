"""Rotating the audit key: old events keep verifying with the retired key, new ones use the new."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from dcc.audit.models import AuditEvent
from dcc.audit.services import record_event, seal_pending_events
from dcc.audit.verify import verify_chain
from dcc.core.env import ConfigError, read_previous_keys

pytestmark = pytest.mark.django_db

NEW_KEY = b"n" * 40


def _record(count: int) -> None:
    for index in range(count):
        with transaction.atomic():
            record_event(action="page.viewed", resource_id=str(index))
    seal_pending_events()


def test_after_rotation_the_whole_trail_still_verifies(tmp_path: Path) -> None:
    anchor_file = str(tmp_path / "anchor.json")
    with override_settings(AUDIT_ANCHOR_FILE=anchor_file):
        _record(3)  # the anchor is now signed with the old key
    old_id, old_key = settings.AUDIT_KEY_ID, settings.AUDIT_KEY
    with override_settings(
        AUDIT_KEY=NEW_KEY,
        AUDIT_KEY_ID="k2",
        AUDIT_KEYS={old_id: old_key, "k2": NEW_KEY},
        AUDIT_ANCHOR_FILE=anchor_file,
    ):
        assert verify_chain().ok  # old anchor, old rows, read under the new configuration
        _record(3)
        assert set(AuditEvent.objects.values_list("key_id", flat=True)) == {old_id, "k2"}
        report = verify_chain()
        assert report.ok, report.broken
        assert report.checked == 6


def test_without_the_retired_key_old_events_cannot_be_verified() -> None:
    _record(2)
    with override_settings(AUDIT_KEY=NEW_KEY, AUDIT_KEY_ID="k2", AUDIT_KEYS={"k2": NEW_KEY}):
        report = verify_chain()
    assert not report.ok
    assert report.broken is not None and "unknown key id" in report.broken.reason


def test_the_previous_keys_file_is_read_and_checked(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# retired in 2026\nk0:" + "a" * 32 + "\n\nk1: " + "b" * 40 + "\n")
    assert read_previous_keys(str(keys)) == {"k0": b"a" * 32, "k1": b"b" * 40}
    assert read_previous_keys(None) == {}
    keys.write_text("k0:short\n")
    with pytest.raises(ConfigError, match="line 1"):
        read_previous_keys(str(keys))
    with pytest.raises(ConfigError, match="cannot read"):
        read_previous_keys(str(tmp_path / "missing"))
