from __future__ import annotations

from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django_tenants.utils import schema_context

from events.models import Email, EmailState
from tests.factories import EmailFactory


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_reprocess_requeues_failed_and_held_mail(org):
    failed = EmailFactory(state=EmailState.FAILED)
    held = EmailFactory(state=EmailState.HELD)
    done = EmailFactory(state=EmailState.PROCESSED)
    with mock.patch("events.enqueue.async_task"):
        assert "Re-queued 1 of 1" in run("reprocess", "--org", "testorg", "--failed")
    assert "Re-queued 1 of 1" in run("reprocess", "--org", "testorg", "--sync", str(held.code))
    with schema_context(org.schema_name):
        states = {e.pk: e.state for e in Email.objects.all()}
    assert states[failed.pk] == EmailState.QUEUED
    assert states[held.pk] == EmailState.PROCESSED
    assert states[done.pk] == EmailState.PROCESSED


def test_reprocess_needs_something_to_do(org):
    with pytest.raises(CommandError):
        run("reprocess", "--org", "testorg")
