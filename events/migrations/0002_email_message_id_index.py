from django.db import migrations, models


class Migration(migrations.Migration):
    """Turn the Message-ID uniqueness into a partial unique index.

    Schemas cloned before this migration carry the constraint under the name the clone gave
    it (events_email_message_id_key), so both names are dropped if present.
    """

    dependencies = [("events", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE events_email DROP CONSTRAINT IF EXISTS email_unique_message_id;"
                    "ALTER TABLE events_email DROP CONSTRAINT IF EXISTS events_email_message_id_key;",
                    reverse_sql=migrations.RunSQL.noop,
                ),
            ],
            state_operations=[
                migrations.RemoveConstraint(model_name="email", name="email_unique_message_id"),
            ],
        ),
        migrations.AddConstraint(
            model_name="email",
            constraint=models.UniqueConstraint(
                condition=models.Q(("message_id", ""), _negated=True),
                fields=("message_id",),
                name="email_unique_message_id",
            ),
        ),
    ]
