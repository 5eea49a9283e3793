from __future__ import annotations

from django.db import connection

from organizations.models import Organization
from organizations.services import organization_create


def schema_shape(schema: str) -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT table_name, column_name, data_type, is_nullable, character_maximum_length, is_identity
               FROM information_schema.columns WHERE table_schema = %s ORDER BY 1, 2""",
            [schema],
        )
        columns = cursor.fetchall()
        cursor.execute(
            """SELECT rel.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
               FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
               JOIN pg_namespace ns ON ns.oid = rel.relnamespace
               WHERE ns.nspname = %s ORDER BY 1, 2, 3""",
            [schema],
        )
        constraints = [(t, n, c, d.replace(f"{schema}.", "")) for t, n, c, d in cursor.fetchall()]
        cursor.execute("SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = %s ORDER BY 1, 2", [schema])
        indexes = [(t, d.replace(f"{schema}.", "").replace(f" {schema}.", " ")) for t, d in cursor.fetchall()]
        cursor.execute(f'SELECT app, name FROM "{schema}".django_migrations ORDER BY 1, 2')
        migrations = cursor.fetchall()
    return {"columns": columns, "constraints": constraints, "indexes": indexes, "migrations": migrations}


def test_a_cloned_schema_has_every_table_column_constraint_and_migration_of_a_migrated_one(db, session_orgs):
    connection.set_schema_to_public()
    cloned = organization_create(name="Cloned", slug="cloned", owner_email="o@c.example", send_invitation=False)
    migrated = organization_create(
        name="Migrated", slug="migrated", owner_email="o@m.example", send_invitation=False, clone=False
    )
    cloned_shape = schema_shape(cloned.organization.schema_name)
    migrated_shape = schema_shape(migrated.organization.schema_name)
    assert cloned_shape["columns"], "the cloned schema has tables"
    assert {t for t, *_ in cloned_shape["columns"]} >= {"projects_project", "events_email", "events_event"}
    for key in cloned_shape:
        left, right = set(cloned_shape[key]), set(migrated_shape[key])
        assert left == right, (key, sorted(left - right), sorted(right - left))


def test_the_template_schema_holds_no_data(db, session_orgs):
    template = Organization.objects.get(is_template=True)
    with connection.cursor() as cursor:
        for table in ("projects_project", "events_email", "events_event"):
            cursor.execute(f'SELECT count(*) FROM "{template.schema_name}".{table}')
            assert cursor.fetchone()[0] == 0, table


def test_each_organization_sees_only_its_own_schema_rows(world, other_org):
    from django_tenants.utils import schema_context

    from projects.models import Project

    Project.objects.create(name="Mine", slug="mine")
    with schema_context(other_org.schema_name):
        assert not Project.objects.filter(slug="mine").exists()
        Project.objects.create(name="Theirs", slug="theirs")
    connection.set_tenant(world.org)
    assert list(Project.objects.values_list("slug", flat=True)) == ["mine"]
