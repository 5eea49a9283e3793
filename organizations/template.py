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
