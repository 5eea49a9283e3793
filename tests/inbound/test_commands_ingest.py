from __future__ import annotations

import mailbox
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_tenants.utils import schema_context

from events.models import Email, EmailState, Event
from inbound.models import Delivery, Verdict
from tests.conftest import CORPORA
from tests.inbound.conftest import make_message


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def emails(org) -> list[Email]:
    with schema_context(org.schema_name):
        return list(Email.objects.order_by("id"))


@pytest.fixture
def eml_dir(tmp_path: Path) -> Path:
    (tmp_path / "b.eml").write_bytes(make_message(message_id="<second@client.test>", subject="Second"))
    (tmp_path / "a.eml").write_bytes(make_message(message_id="<first@client.test>", subject="First"))
    return tmp_path


def test_ingest_eml_stores_files_in_name_order_and_queues_them(world, eml_dir, django_capture_on_commit_callbacks):
    with (
        mock.patch("events.enqueue.async_task") as async_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        output = run("ingest_eml", "--org", "testorg", str(eml_dir))
    assert "stored: 2; duplicate: 0; rejected: 0; failed: 0" in output
    assert [e.subject for e in emails(world.org)] == ["First", "Second"]
    assert {e.provider for e in emails(world.org)} == {"eml"}
    assert async_task.call_count == 2


def test_ingest_eml_keeps_the_order_of_the_arguments(world, eml_dir):
    run("ingest_eml", "--org", "testorg", str(eml_dir / "b.eml"), str(eml_dir / "a.eml"))
    assert [e.subject for e in emails(world.org)] == ["Second", "First"]


def test_ingest_eml_sync_processes_each_email_and_it_shows_on_the_timeline(world, tmp_path, client_as):
    path = tmp_path / "meeting.eml"
    path.write_bytes(
        make_message(
            # A member forwards the client's mail: a member writing only to the team about no
            # known project would be internal chatter, which makes no project.
            subject="Fwd: Harbour refit: site meeting",
            body=(
                "---------- Forwarded message ---------\nFrom: Pat Client <pat@harbour-client.test>\n"
                "Subject: Harbour refit: site meeting\n\nHi team,\n\n"
                "The site meeting is on 20 November 2026 at 10:00.\nThe final invoice is due on 30 November 2026.\n"
            ),
        )
    )
    output = run("ingest_eml", "--org", "testorg", "--sync", str(path))
    assert "processed → processed 1" in output
    (email,) = emails(world.org)
    assert email.state == EmailState.PROCESSED
    page = client_as(world.member).get("/inbox/")
    assert "Fwd: Harbour refit: site meeting" in page.content.decode()
    assert "Processed" in page.content.decode()
    with schema_context(world.org.schema_name):
        events = list(Event.objects.filter(email__pk=email.pk))
    assert {(e.kind, e.date.isoformat()) for e in events} >= {("meeting", "2026-11-20")}
    with schema_context(world.org.schema_name):
        project_code = Email.objects.get(pk=email.pk).project.code
    timeline = client_as(world.member).get(reverse("projects:timeline", args=[project_code]))
    assert timeline.status_code == 200
    assert any(event.title in timeline.content.decode() for event in events)


def test_ingest_eml_applies_the_sender_policy_unless_skipped(world, tmp_path):
    path = tmp_path / "stranger.eml"
    path.write_bytes(make_message(sender="stranger@elsewhere.test"))
    assert "rejected: 1" in run("ingest_eml", "--org", "testorg", str(path))
    assert "stored: 1" in run("ingest_eml", "--org", "testorg", "--skip-sender-check", str(path))


def test_ingest_eml_counts_duplicates_and_is_not_subject_to_the_loop_limit(world, eml_dir, settings):
    settings.INBOUND_LOOP_LIMIT = 1
    run("ingest_eml", "--org", "testorg", str(eml_dir))
    output = run("ingest_eml", "--org", "testorg", str(eml_dir))
    assert "stored: 0; duplicate: 2" in output
    assert not Delivery.objects.filter(verdict=Verdict.HELD).exists()


def test_ingest_eml_refuses_an_unknown_organization_or_path(world, eml_dir):
    with pytest.raises(CommandError):
        run("ingest_eml", "--org", "nope", str(eml_dir))
    with pytest.raises(CommandError):
        run("ingest_eml", "--org", "testorg", str(eml_dir / "missing.eml"))


def test_ingest_eml_takes_the_whole_mime_corpus_without_failures(world):
    output = run("ingest_eml", "--org", "testorg", "--skip-sender-check", str(CORPORA / "mime"))
    counts = dict(part.split(": ") for part in output.strip().split("; "))
    assert counts["failed"] == "0"
    assert sum(int(v) for v in counts.values()) == len(list((CORPORA / "mime").iterdir()))


def test_import_mbox_feeds_every_message_in_order(world, tmp_path):
    path = tmp_path / "archive.mbox"
    box = mailbox.mbox(path)
    for index in range(3):
        box.add(make_message(message_id=f"<m{index}@client.test>", subject=f"Update {index}"))
    box.flush()
    box.close()
    output = run("import_mbox", "--org", "testorg", "--sync", str(path))
    assert "stored: 3" in output
    assert [e.subject for e in emails(world.org)] == ["Update 0", "Update 1", "Update 2"]
    assert {e.provider for e in emails(world.org)} == {"mbox"}
    assert {e.state for e in emails(world.org)} == {EmailState.PROCESSED}


def test_import_mbox_reads_the_corpus_archive(world):
    output = run(
        "import_mbox", "--org", "testorg", "--skip-sender-check", str(CORPORA / "mime" / "cpython_mailbox_01.mbox")
    )
    assert "failed: 0" in output
