from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("events", "__latest__")]

    operations = [
        migrations.CreateModel(
            name="Note",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("project_code", models.UUIDField(db_index=True)),
                ("text", models.TextField()),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
        ),
        # What a feature most often adds to an existing table: a nullable column (no rewrite).
        migrations.RunSQL(
            "ALTER TABLE events_email ADD COLUMN bench_scale_flag boolean NULL",
            "ALTER TABLE events_email DROP COLUMN bench_scale_flag",
        ),
    ]
