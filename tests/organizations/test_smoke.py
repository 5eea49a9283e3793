from django.db import connection


def test_the_workspace_schema_is_active_in_tests(org):
    assert connection.schema_name == org.schema_name
