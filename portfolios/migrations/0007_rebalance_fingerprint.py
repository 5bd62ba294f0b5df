"""A rebalance proposal keeps its exact trades and a fingerprint of the state they came from."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portfolios", "0006_open_goal_accounts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="rebalanceproposal",
            name="drift",
            field=models.DecimalField(
                decimal_places=4,
                help_text="a fraction (0.0412 is 4.1%); the account's live drift may differ since",
                max_digits=6,
                verbose_name="drift when proposed",
            ),
        ),
        migrations.AlterField(
            model_name="rebalanceproposal",
            name="trades",
            field=models.JSONField(
                help_text="[{ticker, side, units, price, value}] in execution order, sells first, "
                "at the proposal's closes (older rows: [{ticker, side, value}])"
            ),
        ),
        migrations.AddField(
            model_name="rebalanceproposal",
            name="state",
            field=models.JSONField(
                blank=True,
                help_text="what the trades were computed from: market date, prices, cash, units "
                "held, the approved model-portfolio set, the goal's level and target weights",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="rebalanceproposal",
            name="fingerprint",
            field=models.CharField(
                blank=True, default="", help_text="sha256 of `state`", max_length=64
            ),
        ),
        migrations.AddField(
            model_name="rebalanceproposal",
            name="superseded_reason",
            field=models.TextField(
                blank=True, default="", help_text="why a superseded proposal was not executed"
            ),
        ),
    ]
