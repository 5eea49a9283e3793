"""Build the template schema that every organization is cloned from.

Running the migrations into a new schema replays the whole migration plan, including every
public-schema app's (dj-stripe's alone takes ~50 s on 2 cores), although only the tenant
apps create tables there. So the template is built directly: the tenant apps' tables from
their current models, then every migration recorded as applied, which is the state a full
migrate would leave. Later migrations reach the template through `migrate_schemas` like any
schema. tests/organizations/test_tenancy.py proves that a schema cloned from this template
equals one built by running the migrations: tables, columns, constraints, indexes, records.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django_tenants.utils import schema_context
from psycopg import sql


def template_schema_build(schema_name: str) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema_name)).as_string(cursor.connection))
        with schema_context(schema_name):
            # Only tables that belong in a tenant schema: those of the tenant apps.
            models = [
                model
                for label in settings.TENANT_APPS
                for model in apps.get_app_config(label.rsplit(".", 1)[-1]).get_models(include_auto_created=False)
            ]
            with connection.schema_editor() as editor:
                for model in models:
                    # Foreign keys are created at the end of the block, so model order does not matter.
                    editor.create_model(model)
            recorder = MigrationRecorder(connection)
            recorder.ensure_schema()
            loader = MigrationLoader(connection, ignore_no_migrations=True)
            for key in sorted(loader.graph.nodes):
                # As the executor does: a squashed migration is recorded with the ones it replaces.
                for app_label, name in loader.graph.nodes[key].replaces:
                    recorder.record_applied(app_label, name)
                recorder.record_applied(*key)


def schema_clone(base: str, new: str) -> None:
    """Create schema `new` as an empty copy of `base`: tables, constraints, indexes, migration records.

    Replaces django-tenants' `clone_schema()` PL/pgSQL function, whose catalog look-ups grow with
    every schema in the database (one clone took ~0.2 s with a few organizations and ~10 s with
    200, docs/performance.md) and which renames UNIQUE constraints. Here the template's
    definitions are read once, filtered by its namespace, and replayed with the names kept.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        # Only public on the path, so pg_get_*def() qualify the template's own tables by schema;
        # the caller sets the connection's schema again afterwards.
        cursor.execute("SET search_path TO public")
        cursor.execute(
            "SELECT oid, quote_ident(%s), quote_ident(%s) FROM pg_namespace WHERE nspname = %s", [base, new, base]
        )
        namespace, base_quoted, new_quoted = cursor.fetchone()
        # The catalogs have no index on a relation's namespace, so filtering pg_class by it scans
        # every schema's relations: with 200 organizations that was a quarter of a clone. The
        # template's tables are found through pg_depend instead (each relation depends on its
        # namespace; indexed by the referenced object), their constraints and indexes by table.
        cursor.execute(
            """SELECT c.oid, c.relname FROM pg_depend d JOIN pg_class c ON c.oid = d.objid
               WHERE d.refclassid = 'pg_namespace'::regclass AND d.refobjid = %s
                 AND d.classid = 'pg_class'::regclass AND c.relkind = 'r'
               ORDER BY c.relname""",
            [namespace],
        )
        found = cursor.fetchall()
        table_ids, tables = [oid for oid, _ in found], [name for _, name in found]
        cursor.execute(
            """SELECT rel.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
               FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
               WHERE con.conrelid = ANY(%s) AND con.contype IN ('p', 'u', 'x', 'f')
               ORDER BY con.contype = 'f', rel.relname, con.conname""",
            [table_ids],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            """SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
               WHERE i.indrelid = ANY(%s)
                 AND i.indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = ANY(%s))
               ORDER BY 1""",
            [table_ids, table_ids],
        )
        indexes = [definition for (definition,) in cursor.fetchall()]

        def quoted(name: str) -> str:
            return sql.Identifier(name).as_string(cursor.connection)

        # As PostgreSQL prints them in definitions (quoted only when needed).
        old_prefix, new_prefix = f"{base_quoted}.", f"{new_quoted}."
        cursor.execute(f"CREATE SCHEMA {new_quoted}")
        for table in tables:
            cursor.execute(
                f"CREATE TABLE {new_prefix}{quoted(table)} (LIKE {old_prefix}{quoted(table)} "
                "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING CONSTRAINTS INCLUDING GENERATED)"
            )
        for table, name, _kind, definition in constraints:
            # Foreign keys between tenant tables point at the new schema; those to public stay.
            definition = definition.replace(f"REFERENCES {old_prefix}", f"REFERENCES {new_prefix}")
            cursor.execute(f"ALTER TABLE {new_prefix}{quoted(table)} ADD CONSTRAINT {quoted(name)} {definition}")
        for definition in indexes:
            cursor.execute(definition.replace(f" ON {old_prefix}", f" ON {new_prefix}", 1))
        # Both prefixes are quote_ident() output of schema names we chose.
        cursor.execute(
            f"INSERT INTO {new_prefix}django_migrations (app, name, applied) "  # noqa: S608
            f"SELECT app, name, applied FROM {old_prefix}django_migrations ORDER BY id"
        )
