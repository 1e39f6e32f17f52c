"""The audit trail is append-only and records who changed what, before and after."""

from __future__ import annotations

import pytest

from placewise.accounts.audit import record
from placewise.accounts.models import AuditEntry
from placewise.incidents.models import ASB, HarmScheme

pytestmark = pytest.mark.django_db


def test_entries_cannot_be_changed_or_deleted(personas):
    entry = record(personas["admin"], "test_change", object_type="x", after={"a": 1})
    entry.action = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.update(action="x")
    assert AuditEntry.objects.get(pk=entry.pk).action == "test_change"


def test_admin_site_change_is_audited(client, personas):
    admin = personas["admin"]
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    officer = personas["officer"]
    response = client.post(
        f"/admin/accounts/user/{officer.pk}/change/",
        {
            "username": officer.username,
            "role": "supervisor",
            "team": officer.team_id,
            "organisation": "",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "first_name": "",
            "last_name": "",
            "email": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get(action="admin.change", object_id=str(officer.pk))
    assert entry.before["role"] == "officer" and entry.after["role"] == "supervisor"
    assert entry.actor_name == admin.username
    assert "password" not in entry.after


def test_audit_page_lists_changes(client_for, personas):
    record(personas["admin"], "something_done", object_type="places.area", object_repr="Area X")
    text = client_for("supervisor").get("/audit/").content.decode()
    assert "something_done" in text and "Area X" in text


def test_harm_scheme_seeded_and_asb_from_setting(settings):
    scheme = HarmScheme.objects.get(is_default=True)
    settings.PLACEWISE_ASB_HARM_WEIGHT = 4.5
    weights = scheme.weights()
    assert weights[ASB] == 4.5
    assert len(weights) == 14 and all(w > 0 for w in weights.values())
    assert "ASB weight 4.5" in scheme.label()
