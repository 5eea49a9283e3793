from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from events.models import Email, EmailState
from tests.factories import EmailFactory

INBOX = "/inbox/"


def test_admins_can_reprocess_one_email(world, client_as, django_capture_on_commit_callbacks):
    email = EmailFactory(state=EmailState.FAILED)
    url = reverse("events:inbox_reprocess", args=[email.code])
    assert url in client_as(world.admin).get(INBOX).content.decode()
    with mock.patch("events.enqueue.async_task") as async_task, django_capture_on_commit_callbacks(execute=True):
        response = client_as(world.admin).post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("events:inbox")
    email.refresh_from_db()
    assert email.state == EmailState.QUEUED
    assert async_task.call_count == 1


def test_admins_can_reprocess_all_failed_and_held_mail(world, client_as):
    failed, held, done = (EmailFactory(state=s) for s in (EmailState.FAILED, EmailState.HELD, EmailState.PROCESSED))
    with mock.patch("events.enqueue.async_task"):
        response = client_as(world.owner).post(reverse("events:inbox_reprocess_all"))
    assert response.status_code == 302
    states = dict(Email.objects.values_list("pk", "state"))
    assert (states[failed.pk], states[held.pk], states[done.pk]) == ("queued", "queued", "processed")


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_below_admin_cannot_reprocess(world, client_as, role):
    email = EmailFactory(state=EmailState.FAILED)
    client = client_as(world.user(role))
    assert reverse("events:inbox_reprocess", args=[email.code]) not in client.get(INBOX).content.decode()
    assert client.post(reverse("events:inbox_reprocess", args=[email.code])).status_code == 403
    assert client.post(reverse("events:inbox_reprocess_all")).status_code == 403
    email.refresh_from_db()
    assert email.state == EmailState.FAILED


def test_reprocess_needs_post_and_a_real_email(world, client_as):
    admin = client_as(world.admin)
    email = EmailFactory(state=EmailState.FAILED)
    assert admin.get(reverse("events:inbox_reprocess", args=[email.code])).status_code == 405
    missing = reverse("events:inbox_reprocess", args=["00000000-0000-0000-0000-000000000000"])
    assert admin.post(missing).status_code == 404
    assert client_as(world.outsider).post(reverse("events:inbox_reprocess", args=[email.code])).status_code == 404


def test_a_row_that_moved_on_is_not_re_processed_from_the_inbox(world, client_as):
    email = EmailFactory(state=EmailState.PROCESSED)
    with mock.patch("events.enqueue.async_task") as async_task:
        response = client_as(world.admin).post(reverse("events:inbox_reprocess", args=[email.code]), follow=True)
    assert "nothing to re-process from the inbox" in response.content.decode()
    email.refresh_from_db()
    assert email.state == EmailState.PROCESSED
    assert async_task.call_count == 0


def test_the_email_page_offers_re_process_for_processed_mail_with_what_it_does_but_not_in_flight(world, client_as):
    admin = client_as(world.admin)
    processed = EmailFactory(state=EmailState.PROCESSED)
    queued = EmailFactory(state=EmailState.QUEUED, project=None)
    body = admin.get(reverse("events:email", args=[processed.code])).content.decode()
    assert reverse("events:email_reprocess", args=[processed.code]) in body
    assert "events people edited or deleted stay as they are" in body
    assert (
        reverse("events:email_reprocess", args=[queued.code])
        not in admin.get(reverse("events:email", args=[queued.code])).content.decode()
    )
    with mock.patch("events.enqueue.async_task") as async_task:
        response = admin.post(reverse("events:email_reprocess", args=[queued.code]), follow=True)
    assert "already waiting to be processed" in response.content.decode()
    assert async_task.call_count == 0
