"""Every goal has its account from now on (opened with the goal, no longer on the first read):
open the missing ones of goals made before."""

from django.db import migrations


def open_missing(apps, schema_editor):
    Goal = apps.get_model("advisor", "Goal")
    Account = apps.get_model("portfolios", "Account")
    for goal in Goal.objects.filter(account__isnull=True).exclude(status="closed").iterator():
        Account.objects.get_or_create(
            goal=goal, defaults={"client_id": goal.client_id, "currency": goal.currency}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("portfolios", "0005_recurring_pause"),
        ("advisor", "0001_initial"),
    ]

    operations = [migrations.RunPython(open_missing, migrations.RunPython.noop)]
