from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('nlp', '0005_asset_impact'),
    ]

    operations = [
        migrations.AddField(
            model_name='modelversion',
            name='card',
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
