"""Fewer round trips than the ORM on the pipeline's hot paths (the webhook's store, the worker).

`rows_insert` writes rows of several models, tenant and public, in one statement (each INSERT
compiled by Django, run as data-modifying CTEs: atomic without a transaction of our own);
`prepared_cursor` runs a statement with server-side binding, prepared once per connection;
`tenant_table` names a table with its schema, so the webhook never switches the search path;
`queryset_sql` and `RowReader` let a query asked for every email be compiled once per process
and its rows read as the ORM would. bench/sql_paths.py measures each use against the ORM with
Django's `server_side_binding` and psycopg's automatic preparation, and against plain
`create()`/`bulk_create()` (BENCHMARKS.md, "config.sql against the stock path"): this module
is used only where it wins clearly, which is where it saves round trips.

Django internals used here, beyond the documented API (`Model.from_db`, `Model._state`,
`RawSQL`, `connections`, `router`), checked with Django 5.2.19 (`DJANGO_TESTED`;
tests/test_sql.py fails on another minor version until they are re-checked):
- `django.db.models.sql.InsertQuery`, its `insert_values(fields, objs)` and `get_compiler()`;
  the compiler's `returning_fields` attribute (set before `as_sql()`, as `execute_sql` does)
  and `as_sql()` returning one `(sql, params)` per statement, in the form `INSERT INTO "table" …`;
- `Options.db_table`, `pk`, `app_config`, `local_concrete_fields` and `concrete_fields`,
  `Field.generated` (Django 5.0+), and a foreign key's field cache (`is_cached`,
  `get_cached_value`);
- `Field.get_col()`, `Col.get_db_converters()` and `DatabaseOperations.get_db_converters()`,
  the converters a queryset applies to its rows;
- `Query.sql_with_params()`, `DatabaseOperations.quote_name()`;
- `BaseDatabaseWrapper.close_if_health_check_failed()`, `ensure_connection()`,
  `wrap_database_errors`, `queries_logged` and `.connection` (the psycopg connection), and
  `django.db.backends.utils.CursorWrapper`/`CursorDebugWrapper.debug_sql()`, so that these
  cursors are wrapped, logged and counted (`assertNumQueries`) as Django's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import ForeignKey, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql import InsertQuery
from django_tenants.utils import get_public_schema_name
from psycopg import Cursor

# The Django minor versions whose internals (listed above) this module was checked against.
DJANGO_TESTED = ("5.2",)


class _PreparingCursor(Cursor[Any]):
    """psycopg's server-side binding cursor (Django's ServerBindingCursor, less callproc),
    preparing every statement it runs on first use. Django's CursorWrapper calls
    `execute(sql, params)` without psycopg's `prepare` flag, so it is set here. The connection's
    prepare_threshold still wins: None (DATABASE_PREPARED_STATEMENTS=false) prepares nothing.
    """

    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Any:
        return super().execute(query, params, prepare=True if prepare is None else prepare, binary=binary)


class _PreparedDebugWrapper(CursorDebugWrapper):
    """Django's debug wrapper (DEBUG, assertNumQueries) logs the query psycopg last sent,
    which psycopg leaves unset when it runs a prepared statement: log the SQL as given, with
    its parameters beside it, as Django does for executemany."""

    def execute(self, sql: Any, params: Any = None) -> Any:
        with self.debug_sql(sql, params):
            return CursorWrapper.execute(self, sql, params)


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS, *, on_search_path: bool = False) -> Iterator[CursorWrapper]:
    """A cursor whose statements are prepared once per connection and get their values bound
    by the server. Its placeholders need a type PostgreSQL can infer (a column's, a cast), as
    with any server-side binding.

    By default it leaves the connection's search path as it is: for statements whose every
    table is named with its schema (`tenant_table`), which then need no `SET search_path`.
    With `on_search_path`, django-tenants first sets the current schema's path as for any
    query (a round trip only when it changed); PostgreSQL re-plans a prepared statement whose
    search path differs from the one it was planned with, so one statement text serves every
    organization.
    """
    wrapper = connections[using]
    if on_search_path:
        wrapper.cursor().close()  # django-tenants sets the path when Django opens a cursor
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    with wrapper.wrap_database_errors:
        # Django's own wrapping (CursorWrapper, or its debug wrapper when queries are
        # logged), so execute_wrapper hooks and assertNumQueries see these statements too.
        raw = _PreparingCursor(wrapper.connection)
        cursor = _PreparedDebugWrapper(raw, wrapper) if wrapper.queries_logged else CursorWrapper(raw, wrapper)
    with cursor:
        yield cursor


def tenant_table(model: type[Model], schema_name: str, using: str = DEFAULT_DB_ALIAS) -> str:
    """`model`'s table with its schema, quoted: the organization's schema for a model of
    TENANT_APPS (as the search path `schema_name, public` resolves it), else the public one."""
    quote = connections[using].ops.quote_name
    tenant_model = model._meta.app_config is not None and model._meta.app_config.name in settings.TENANT_APPS
    return f"{quote(schema_name if tenant_model else get_public_schema_name())}.{quote(model._meta.db_table)}"


M = TypeVar("M", bound=Model)


class RowReader(Generic[M]):
    """Instances of `model` from rows of fixed SQL that select its concrete fields in their order.

    What a RawQuerySet works out again for every query it runs (which column is which field,
    the fields' converters from the database) is worked out once here: on the worker's hot
    path that bookkeeping cost more CPU than the query. Rows become instances through
    `Model.from_db` and the converters the ORM itself would apply, as in a RawQuerySet.
    """

    def __init__(self, model: type[M]) -> None:
        self.model = model
        # Not the generated columns (a search vector, say): the database computes them, and
        # no caller reads them; instances leave them deferred.
        self.fields = [field for field in model._meta.concrete_fields if not field.generated]
        self.attnames = [field.attname for field in self.fields]
        self._converters: list[tuple[int, list[Any], Any]] | None = None

    def columns(self) -> str:
        """The quoted column names, comma separated, in the order `instance` reads them."""
        quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
        return ", ".join(quote(str(field.column)) for field in self.fields)

    def instance(self, values: Sequence[Any], using: str = DEFAULT_DB_ALIAS) -> M:
        """The instance of one row (its first len(fields) values), as loaded by the ORM on `using`."""
        db = connections[using]
        if self._converters is None:  # the same for every connection of the backend; racing threads agree
            converters = []
            for index, field in enumerate(self.fields):
                col = field.get_col(field.model._meta.db_table)
                found = db.ops.get_db_converters(col) + col.get_db_converters(db)
                if found:
                    converters.append((index, found, col))
            self._converters = converters
        row = list(values[: len(self.fields)])
        for index, found, col in self._converters:
            value = row[index]
            for converter in found:
                value = converter(value, col, db)
            row[index] = value
        return self.model.from_db(using, self.attnames, row)


def queryset_sql(queryset: QuerySet[Any, Any], params: Sequence[object], what: str) -> str:
    """The SQL of `queryset`, built from placeholder values `params`, to be run with real ones.

    Callers pass their parameters in the order of `params`; this raises if the ORM ever asks for
    them in another order (or another number), rather than run a query with crossed values.
    """
    sql, compiled = queryset.query.sql_with_params()
    if [str(p) for p in compiled] != [str(p) for p in params]:
        raise RuntimeError(f"unexpected parameters for {what}: {compiled!r}")
    return str(sql)


def _insert_sql(objs: Sequence[Model], using: str, schema_name: str | None) -> tuple[str, list[Any], bool]:
    """One model's INSERT of `objs`, its table named with its schema when `schema_name` is
    given; returns (sql, params, returns the primary keys)."""
    model = type(objs[0])
    meta = model._meta
    with_pk = all(obj.pk is not None for obj in objs)
    fields = [
        field
        for field in meta.local_concrete_fields
        if (with_pk or not field.primary_key) and not field.generated  # the database computes those
    ]
    query = InsertQuery(model)
    query.insert_values(fields, list(objs))
    compiler = query.get_compiler(using=using)
    if not with_pk:
        compiler.returning_fields = [meta.pk]
    statements = compiler.as_sql()
    if len(statements) != 1:  # PostgreSQL inserts many rows in one statement; this is a guard
        raise ValueError(f"{model.__name__}: expected one INSERT statement, got {len(statements)}")
    sql, params = statements[0]
    if schema_name is not None:
        unqualified = f"INSERT INTO {connections[using].ops.quote_name(meta.db_table)} "
        if not sql.startswith(unqualified):  # the compiler's form, checked rather than assumed
            raise ValueError(f"{model.__name__}: unexpected INSERT {sql[:80]!r}")
        sql = f"INSERT INTO {tenant_table(model, schema_name, using)} {sql[len(unqualified) :]}"
    return sql, list(params), not with_pk


def _new_keys_linked(
    group: Sequence[Model], earlier: dict[int, tuple[int, int]], quote: Any
) -> list[tuple[Model, ForeignKey, Model]]:
    """Point `group`'s foreign keys at unsaved rows of earlier groups to their new keys, in SQL.

    `earlier` maps id(instance) to (its group's index, its row's position). Returns the links,
    so the caller can set the real key once the statement has run.
    """
    links = []
    for obj in group:
        for field in obj._meta.concrete_fields:
            if not isinstance(field, ForeignKey) or not field.is_cached(obj):
                continue
            target = field.get_cached_value(obj)
            if target is None or target.pk is not None or id(target) not in earlier:
                continue
            index, position = earlier[id(target)]
            key = quote(str(target._meta.pk.column))
            # Our quoted column name and two integers, no input.
            subquery = f"(SELECT {key} FROM i{index} ORDER BY {key} OFFSET {position} LIMIT 1)"  # noqa: S608
            setattr(obj, field.attname, RawSQL(subquery, []))  # noqa: S611
            links.append((obj, field, target))
    return links


def rows_insert(*groups: Sequence[Model], using: str | None = None, schema_name: str | None = None) -> None:
    """INSERT every unsaved instance of `groups` (each a list of one model) in one statement.

    Instances without a primary key get theirs from the database, as with `save()`; a row whose
    foreign key points to an unsaved instance of an earlier group (an event's history row and
    the event) takes that instance's new key within the statement. All rows are written or
    none: an IntegrityError (a unique constraint, say) leaves nothing behind.

    The statement is prepared on the server (`prepared_cursor`). Tables resolve on the
    connection's search path, like every ORM query; with `schema_name` each is named with its
    schema instead (`tenant_table`), so the webhook stores without switching the path.
    """
    groups = tuple(group for group in groups if group)
    if not groups:
        return
    alias: str = using or router.db_for_write(type(groups[0][0])) or DEFAULT_DB_ALIAS
    quote = connections[alias].ops.quote_name
    clauses: list[str] = []
    params: list[Any] = []
    returned: list[tuple[int, Sequence[Model]]] = []
    earlier: dict[int, tuple[int, int]] = {}
    links: list[tuple[Model, ForeignKey, Model]] = []
    try:
        for index, group in enumerate(groups):
            links += _new_keys_linked(group, earlier, quote)
            sql, group_params, returns = _insert_sql(group, alias, schema_name)
            clauses.append(f"i{index} AS ({sql})")
            params += group_params
            if returns:
                returned.append((index, group))
                earlier |= {id(obj): (index, position) for position, obj in enumerate(group)}
        # Every CTE's keys in one row, one array per CTE: (SELECT array_agg(id ORDER BY id) FROM i0), …
        # The identity column numbers one INSERT's VALUES rows in their order, so sorting the keys
        # gives them back in the order of `group`.
        keys = {index: quote(str(group[0]._meta.pk.column)) for index, group in returned}
        # The SQL is built from quoted column names of our models, no input.
        selects = [f"(SELECT array_agg({keys[i]} ORDER BY {keys[i]}) FROM i{i})" for i, _ in returned]  # noqa: S608
        select = ", ".join(selects) or "1"
        with prepared_cursor(alias, on_search_path=schema_name is None) as cursor:
            cursor.execute(f"WITH {', '.join(clauses)} SELECT {select}", params)
            row = cursor.fetchone()
    finally:
        for obj, field, _ in links:  # None again; set to the real key below once written
            setattr(obj, field.attname, None)
    assert row is not None
    for position, (_, group) in enumerate(returned):
        for obj, pk in zip(group, row[position], strict=True):
            obj.pk = pk
    for obj, field, target in links:
        setattr(obj, field.attname, target.pk)
    for group in groups:
        for obj in group:
            obj._state.adding = False
            obj._state.db = alias
