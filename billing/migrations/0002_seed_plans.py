from django.db import migrations


def seed_plans(apps, schema_editor):
    from billing.models import DEFAULT_PLANS

    Plan = apps.get_model("billing", "Plan")
    for row in DEFAULT_PLANS:
        Plan.objects.update_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [migrations.RunPython(seed_plans, migrations.RunPython.noop)]
