"""Issue 13, finding 9: the audit log kept 6 of 11 tax-id characters in clear (auditlog's
default masks the first half). It now keeps the last four, and a migration re-masks the
entries written before."""

import importlib

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.contrib.contenttypes.models import ContentType

from advisor.models import Client

pytestmark = pytest.mark.django_db


def test_a_tax_id_change_keeps_only_its_last_four_characters(client_api, client_user):
    client_api.patch("/api/v1/clients/me/", {"tax_id": "900-12-3456"})

    entry = LogEntry.objects.get_for_object(Client.objects.get(user=client_user)).first()

    old, new = entry.changes_dict["tax_id"]
    assert old == "None"
    assert new == "•••••••3456"


def test_the_migration_remasks_entries_written_under_the_old_rule(client_user):
    client = Client.objects.get(user=client_user)
    entry = LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(Client),
        object_pk=str(client.pk),
        object_repr=str(client),
        action=LogEntry.Action.UPDATE,
        changes={"tax_id": ["None", "*****2-3456"], "city": ["", "Springfield"]},
    )
    migration = importlib.import_module("advisor.migrations.0004_audit_mask_tax_id")

    migration.remask(apps, None)

    entry.refresh_from_db()
    assert entry.changes["tax_id"] == ["None", "•••••••3456"]
    assert entry.changes["city"] == ["", "Springfield"]  # nothing else touched
