"""Re-mask the tax ids already in the audit trail to their last four characters (auditlog's
default had left the second half in clear). The first half was already masked, so the last four
characters are all that can, and all that may, remain."""

from django.db import migrations

from advisor.audit import mask_all_but_last_four


def remask(apps, schema_editor):
    LogEntry = apps.get_model("auditlog", "LogEntry")
    ContentType = apps.get_model("contenttypes", "ContentType")
    client_type = ContentType.objects.filter(app_label="advisor", model="client").first()
    if client_type is None:
        return
    entries = LogEntry.objects.filter(content_type=client_type, changes__has_key="tax_id")
    for entry in entries.iterator():
        pair = entry.changes.get("tax_id")
        if not isinstance(pair, list):
            continue
        entry.changes["tax_id"] = [
            mask_all_but_last_four(v) if isinstance(v, str) else v for v in pair
        ]
        entry.save(update_fields=["changes"])


class Migration(migrations.Migration):
    dependencies = [
        ("advisor", "0003_risk_override_request"),
        ("auditlog", "0017_add_actor_email"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(remask, migrations.RunPython.noop)]
