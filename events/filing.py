"""Filing by hand: a person files an unfiled email, moves a filed one, says it is not project
mail, or undoes that. Each filing teaches the organization (projects.ProjectSignal) so the same
question is not asked twice, and files the waiting emails that the new knowledge now decides.
Tenant schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from events.apply import extraction_apply_in_transaction, extraction_from_waiting
from events.extraction_inputs import PERSONAL_DOMAINS, email_input_build, member_domains
from events.models import Email, EmailFiling, EmailLog, EmailState, Event, EventHistory, FilingState
from extraction.providers.rules import GENERIC_WORDS, client_party
from extraction.text import normalise_subject, prepare
from extraction.types import Context
from organizations.models import Organization
from projects.models import OPEN_STATUSES, Project, ProjectSignal, SignalKind
from projects.services import project_create

if TYPE_CHECKING:
    from accounts.models import User

# Subject words that say nothing about which project (besides GENERIC_WORDS): never taught.
UNTAUGHT_WORDS = GENERIC_WORDS | {"fwd", "fw", "re", "aw", "sv", "vs", "wg", "tr", "project", "projects"}
MAX_TAUGHT_WORDS = 4


class FilingError(Exception):
    """A filing that cannot be made; the message is meant for the user."""


@dataclass(frozen=True)
class Taught:
    kind: str
    value: str
    project_id: int


def _organization() -> Organization:
    tenant = getattr(connection, "tenant", None)
    if not isinstance(tenant, Organization):
        raise FilingError("No organization is active.")
    return tenant


def _lessons(email: Email, project: Project) -> list[Taught]:
    """What filing `email` into `project` teaches: the client's address and company domain (never
    our own people's, nor a personal mail domain), and the subject's distinctive words."""
    ours = member_domains()
    email_input = email_input_build(email)
    party = client_party(email_input, prepare(email_input), Context(organization_domains=sorted(ours)))
    lessons: list[Taught] = []
    if party is not None and party.address:
        lessons.append(Taught(SignalKind.SENDER, party.address.lower(), project.pk))
        if party.domain and party.domain not in PERSONAL_DOMAINS and party.domain not in ours:
            lessons.append(Taught(SignalKind.DOMAIN, party.domain, project.pk))
    words = [
        w
        for w in dict.fromkeys(re.findall(r"[^\W\d_]{4,}", normalise_subject(email.subject)))
        if w not in UNTAUGHT_WORDS
    ]
    lessons += [Taught(SignalKind.WORD, w, project.pk) for w in words[:MAX_TAUGHT_WORDS]]
    return lessons


def _teach(lessons: list[Taught], *, actor: User | None, unlearn_from: Project | None) -> list[dict[str, Any]]:
    """Store the lessons; a move also takes the same sender and words away from the project the
    email left (a correction is an unlearn plus a learn). Returns what was newly stored."""
    if unlearn_from is not None:
        values = [(t.kind, t.value) for t in lessons if t.kind != SignalKind.DOMAIN]
        if values:
            match = Q()
            for kind, value in values:
                match |= Q(kind=kind, value=value)
            ProjectSignal.objects.filter(match, project=unlearn_from).delete()
    stored: list[dict[str, Any]] = []
    for lesson in lessons:
        _, created = ProjectSignal.objects.get_or_create(
            project_id=lesson.project_id, kind=lesson.kind, value=lesson.value[:320], defaults={"taught_by": actor}
        )
        if created:
            stored.append({"kind": lesson.kind, "value": lesson.value, "project": lesson.project_id})
    return stored


def _log(email: Email, message: str) -> None:
    EmailLog.objects.create(email=email, state=email.state, message=message[:1000])


def _events_move(email: Email, source: Project, target: Project, actor: User | None) -> int:
    events = list(Event.objects.filter(email=email, project=source, deleted_at__isnull=True))
    for event in events:
        EventHistory.objects.create(
            event=event,
            action="moved",
            actor=actor,
            email=email,
            before={"project": source.pk, "project_name": source.name},
            after={"project": target.pk, "project_name": target.name},
            note="its email was moved to another project",
        )
    return Event.objects.filter(pk__in=[e.pk for e in events]).update(project=target, updated_at=timezone.now())


def _events_apply(email: Email, project: Project, organization: Organization) -> None:
    """Apply an unfiled email's waiting events to the project it was filed in."""
    if not email.waiting.get("events"):
        return
    extraction_apply_in_transaction(
        organization=organization,
        email=email,
        extraction=extraction_from_waiting(email.waiting, project=project),
        first_run=not Event.objects.filter(email=email).exists(),
    )


def _events_withdraw(email: Email) -> None:
    """Take an email's events off the timeline (it goes back to Unfiled, or is not project mail):
    its unedited events are deleted (its waiting events stay kept on the email), edited ones are
    soft-deleted so that an undo can bring them back as the person left them."""
    Event.objects.filter(email=email, edited=False).delete()
    Event.objects.filter(email=email, edited=True, deleted_at__isnull=True).update(deleted_at=timezone.now())


@transaction.atomic
def email_file(
    *,
    email: Email,
    project: Project | None = None,
    new_project: dict[str, str] | None = None,
    not_project_mail: bool = False,
    actor: User | None = None,
) -> Project | None:
    """File `email` into `project`, into a new project (`new_project`: name, client), or mark it as
    not project mail. Moves a filed email with its events. Returns the project it is now in.

    Raises projects.services.ProjectLimitError when a new project does not fit the plan, and
    FilingError for a filing that makes no sense (a merged project, an unprocessed email).
    """
    organization = _organization()
    email = Email.objects.select_for_update().get(pk=email.pk)
    if email.state != EmailState.PROCESSED and email.project_id is None and not email.waiting:
        raise FilingError("This email has not been processed yet.")
    source = Project.objects.filter(pk=email.project_id).first() if email.project_id else None
    if new_project is not None:
        project = project_create(
            organization=organization,
            actor=actor,
            name=(new_project.get("name") or "").strip() or email.subject[:200] or "Untitled project",
            client_name=(new_project.get("client") or new_project.get("client_name") or "").strip(),
            client_email=(new_project.get("client_email") or "").strip(),
        )
    if not not_project_mail:
        if project is None:
            raise FilingError("Choose a project.")
        if project.merged_into_id is not None or project.status not in OPEN_STATUSES:
            raise FilingError("That project is closed or merged; choose an open one.")
    if source is not None and project is not None and source.pk == project.pk:
        return project

    record = EmailFiling(email=email, actor=actor, from_project=source, to_project=project, from_filing=email.filing)
    if not_project_mail:
        _events_withdraw(email)
        email.project, email.filing = None, FilingState.NOT_PROJECT
        email.filing_reason = "a person said it is not project mail"
        record.to_filing = FilingState.NOT_PROJECT
        _log(email, f"Marked as not project mail{_by(actor)}")
        taught: list[dict[str, Any]] = []
    else:
        assert project is not None
        if source is not None:
            _events_move(email, source, project, actor)
        email.project, email.filing = project, FilingState.HAND
        email.filing_reason = f"filed by {actor.email}" if actor is not None else "filed by hand"
        if source is None:
            _events_apply(email, project, organization)
        record.to_filing = FilingState.HAND
        _log(email, f"{'Moved from ' + source.name + ' to' if source else 'Filed into'} {project.name}{_by(actor)}")
        taught = _teach(_lessons(email, project), actor=actor, unlearn_from=source)
    email.save(update_fields=["project", "filing", "filing_reason"])
    record.taught = taught
    record.save()
    if project is not None:
        Project.objects.filter(pk=project.pk).update(last_activity_at=timezone.now())
        waiting_file(email=email, project=project, organization=organization)
    return project


def _by(actor: User | None) -> str:
    return f" by {actor.email}" if actor is not None else ""


@transaction.atomic
def email_filing_undo(*, filing: EmailFiling, actor: User | None = None) -> Project | None:
    """Put the email back where this filing found it, and forget what the filing taught."""
    email = Email.objects.select_for_update().get(pk=filing.email_id)
    if filing.undone:
        raise FilingError("This filing was already undone.")
    latest = EmailFiling.objects.filter(email=email, undone=False).order_by("-at", "-id").first()
    if latest is None or latest.pk != filing.pk:
        raise FilingError("Only the latest filing of an email can be undone.")
    organization = _organization()
    current = Project.objects.filter(pk=email.project_id).first() if email.project_id else None
    previous = filing.from_project
    for lesson in filing.taught or []:
        ProjectSignal.objects.filter(project_id=lesson["project"], kind=lesson["kind"], value=lesson["value"]).delete()
    if previous is not None and current is not None:
        _events_move(email, current, previous, actor)
    elif previous is not None:  # it was marked not project mail: its events come back
        Event.objects.filter(email=email, deleted_at__isnull=False).update(deleted_at=None, project=previous)
        _events_apply(email, previous, organization)
    else:
        _events_withdraw(email)
    email.project = previous
    email.filing = filing.from_filing or (FilingState.AUTO if previous else FilingState.UNFILED)
    email.filing_reason = f"undone{_by(actor)}"
    email.save(update_fields=["project", "filing", "filing_reason"])
    filing.undone = True
    filing.save(update_fields=["undone"])
    _log(
        email,
        f"Filing undone{_by(actor)}: back {'in ' + previous.name if previous else 'to ' + email.get_filing_display()}",
    )
    return previous


def waiting_file(*, email: Email, project: Project, organization: Organization) -> list[int]:
    """File the unfiled emails that what was just learned now decides: the same thread, or the
    same client address when it is taught for this project alone. Returns their ids."""
    ids = [i for i in [email.message_id, email.in_reply_to, *email.references] if i]
    senders = set(ProjectSignal.objects.filter(kind=SignalKind.SENDER, project=project).values_list("value", flat=True))
    elsewhere = set(
        ProjectSignal.objects.filter(kind=SignalKind.SENDER, value__in=senders)
        .exclude(project=project)
        .values_list("value", flat=True)
    )
    senders -= elsewhere
    waiting = Email.objects.filter(filing=FilingState.UNFILED).exclude(pk=email.pk)
    decided = list(
        waiting.filter(
            Q(message_id__in=ids)
            | Q(in_reply_to__in=ids)
            | Q(references__contains=[email.message_id])
            | Q(from_address__in=senders)
        )
    )
    filed: list[int] = []
    for other in decided:
        other.project, other.filing = project, FilingState.AUTO
        other.filing_reason = (
            "same thread" if other.message_id in ids or other.in_reply_to in ids else "taught: this sender"
        )
        _events_apply(other, project, organization)
        other.save(update_fields=["project", "filing", "filing_reason"])
        _log(other, f"Filed into {project.name}: {other.filing_reason}, learned from a person's filing")
        filed.append(other.pk)
    return filed
