"""Projects: what a timeline belongs to. Tenant schema."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Func, Value
from django.db.models.functions import Lower

# Full-text search (events.selectors_search, docs/dashboard.md "Search"); events' vectors use
# these too. Every vector uses the 'simple' configuration: mail arrives in a dozen languages,
# often several in one thread, and one language's stemmer applied to another's words (or to
# names, product names, codes) mangles them; 'simple' only lowercases, and the query matches
# words by prefix instead ("invoice" finds "invoices", "Rechnung" finds "Rechnungen").
SEARCH_CONFIG = "simple"
# What of a long email is indexed: a tsvector holds at most 1 MB and mail has no length limit
# the database checks; the first 100,000 characters of the text (~15,000 words) stay well under.
SEARCH_TEXT_CHARS = 100_000


def address_words(field: str) -> Func:
    """An address as words ("pm client example"): the parser keeps "pm@client.example" as one
    token, so a search for the sender's domain or name alone would not find it."""
    return Func(F(field), Value("@.-_+"), Value("     "), function="translate", output_field=models.TextField())


class ProjectStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    ARCHIVED = "archived", "Archived"


OPEN_STATUSES = (ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD)


class Project(models.Model):
    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    # Used by `slug+hint@` inbound addresses to name the project explicitly.
    slug = models.SlugField(max_length=80, unique=True)
    client_name = models.CharField(max_length=200, blank=True)
    client_email = models.EmailField(blank=True)
    status = models.CharField(max_length=20, choices=ProjectStatus.choices, default=ProjectStatus.ACTIVE)
    summary = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Secret for the project's iCalendar feed; rotating it revokes old subscriptions.
    feed_token = models.CharField(max_length=64, blank=True, db_index=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Name (A), client and client's address (B); the aliases have their own (ProjectAlias.search).
    search = models.GeneratedField(
        expression=SearchVector("name", config=SEARCH_CONFIG, weight="A")
        + SearchVector("client_name", "client_email", address_words("client_email"), config=SEARCH_CONFIG, weight="B"),
        output_field=SearchVectorField(),
        db_persist=True,
        serialize=False,
    )

    class Meta:
        ordering = ["-last_activity_at", "-created_at"]
        indexes = [
            models.Index(Lower("name"), name="project_lower_name"),
            GinIndex(fields=["search"], name="project_search"),
        ]

    def __str__(self) -> str:
        return self.name


class ProjectAlias(models.Model):
    """Another name the project is known by (old names after a merge, client code names)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=200)
    search = models.GeneratedField(
        expression=SearchVector("alias", config=SEARCH_CONFIG, weight="A"),
        output_field=SearchVectorField(),
        db_persist=True,
        serialize=False,
    )

    class Meta:
        constraints = [models.UniqueConstraint(Lower("alias"), name="project_alias_unique_lower")]
        indexes = [GinIndex(fields=["search"], name="project_alias_search")]

    def __str__(self) -> str:
        return self.alias


class SignalKind(models.TextChoices):
    SENDER = "sender", "Sender"
    DOMAIN = "domain", "Sender's domain"
    WORD = "word", "Subject word"


class ProjectSignal(models.Model):
    """What people taught by filing mail: mail with this sender, domain or subject word belongs
    here. Read into every extraction's context (extraction.types.TaughtSignal); a person can
    see and remove them in the project's settings."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="signals")
    kind = models.CharField(max_length=10, choices=SignalKind.choices)
    value = models.CharField(max_length=320)
    taught_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["project", "kind", "value"], name="project_signal_unique")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class ProjectMerge(models.Model):
    """One merge of `source` into `target` and exactly what it moved, so a person can undo it for a
    day (projects.services.project_merge_undo). Kept afterwards as the record of who merged what."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    source = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="merges_in")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The ids of the rows that moved: {"events": [...], "emails": [...], "aliases": [...], "signals": [...]}.
    moved = models.JSONField(default=dict)
    # The source's name as the alias the merge gave the target ("" when the target had it already).
    alias_added = models.CharField(max_length=200, blank=True)
    # What the merge changed on the source, to put back.
    source_status = models.CharField(max_length=20, choices=ProjectStatus.choices)
    source_feed_token = models.CharField(max_length=64, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"
