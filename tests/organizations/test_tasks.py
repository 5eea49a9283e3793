"""organizations.tasks: the worker mails invitations (the request only queues them)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from organizations.models import Invitation
from organizations.services import INVITATION_SEND_TASK, invitation_create, invitation_lookup
from organizations.tasks import invitation_send_task


def test_inviting_queues_the_mail_by_id_without_the_link(world, broker_tasks, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = invitation_create(
            organization=world.org, email="later@example.com", role="member", invited_by=world.admin
        )

    assert mail.outbox == []
    assert broker_tasks() == [(INVITATION_SEND_TASK, (invitation.pk,))]
    assert token not in str(broker_tasks())
    assert Invitation.objects.get(pk=invitation.pk).sent_at is None  # the team page says "not sent yet"


def test_the_task_mints_the_link_it_mails(world):
    invitation, unmailed = invitation_create(
        organization=world.org, email="later@example.com", role="member", invited_by=world.admin, send=False
    )

    # A task queued by an earlier release still carries the inviting request's host: ignored.
    invitation_send_task(invitation.pk, "http://testorg.localhost:6666")

    [message] = mail.outbox
    assert ":6666" not in message.body
    token = message.body.split(world.org.absolute_url("/invite/"))[1].split("/")[0]
    assert invitation_lookup(organization=world.org, token=token).pk == invitation.pk
    with pytest.raises(Exception, match="not valid"):
        invitation_lookup(organization=world.org, token=unmailed)
    assert Invitation.objects.get(pk=invitation.pk).sent_at is not None


@pytest.mark.parametrize("field", ["revoked_at", "accepted_at"])
def test_the_task_sends_nothing_for_an_invitation_revoked_or_accepted_meanwhile(world, field):
    invitation, _ = invitation_create(
        organization=world.org, email="later@example.com", role="member", invited_by=world.admin, send=False
    )
    Invitation.objects.filter(pk=invitation.pk).update(**{field: timezone.now()})

    invitation_send_task(invitation.pk)

    assert mail.outbox == []


def test_a_refused_mail_keeps_the_old_link_and_fails_the_task_for_its_retry(world):
    invitation, token = invitation_create(
        organization=world.org, email="later@example.com", role="member", invited_by=world.admin, send=False
    )

    with (
        mock.patch("organizations.services.send_mail", side_effect=ConnectionRefusedError),
        pytest.raises(ConnectionRefusedError),
    ):
        invitation_send_task(invitation.pk)

    assert invitation_lookup(organization=world.org, token=token).pk == invitation.pk
    assert Invitation.objects.get(pk=invitation.pk).sent_at is None
