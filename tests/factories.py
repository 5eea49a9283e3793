"""Small factory_boy factories for tenant data. Use them with the connection on a tenant (the `org` fixture)."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from events.models import Attachment, Email, EmailLog, EmailState, Event, EventKind
from projects.models import Project


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    slug = factory.Sequence(lambda n: f"project-{n}")
    client_name = "Client Ltd"
    client_email = factory.Sequence(lambda n: f"client{n}@client.example")
    last_activity_at = factory.LazyFunction(timezone.now)


class EmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Email

    message_id = factory.Sequence(lambda n: f"<msg-{n}@client.example>")
    provider = "eml"
    from_address = "pm@client.example"
    from_name = "Pat Manager"
    to = factory.LazyFunction(lambda: ["testorg@in.projectr.example"])
    subject = factory.Sequence(lambda n: f"Kitchen refit, update {n}")
    date = factory.LazyFunction(timezone.now)
    received_at = factory.LazyFunction(timezone.now)
    text = "Hello,\n\nThe site meeting is on Friday at 10am.\nPlease send the invoice.\n\nPat"
    project = factory.SubFactory(ProjectFactory)
    state = EmailState.PROCESSED


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    email = factory.SubFactory(EmailFactory)
    filename = "plan.pdf"
    content_type = "application/pdf"
    file = factory.django.FileField(filename="plan.pdf", data=b"%PDF-1.4 test")
    size = 13


class EmailLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailLog

    email = factory.SubFactory(EmailFactory)
    state = EmailState.PROCESSED
    message = "Processed by rules"


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    project = factory.SubFactory(ProjectFactory)
    email = None
    kind = EventKind.MEETING
    title = factory.Sequence(lambda n: f"Site meeting {n}")
    date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=7))
    evidence = "The site meeting is on Friday at 10am."
    confidence = 0.9
    provider = "rules"
