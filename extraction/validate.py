"""Turn the model's JSON into an Extraction, enforcing the hard caps whatever the model said.

The email is untrusted, so the model's output is too: an injected "create 500 events" or a
made-up project id must not reach the database. Anything out of bounds is dropped or cut,
never trusted.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from extraction.schema import (
    MAX_CANDIDATES,
    MAX_EVENTS,
    MAX_EVIDENCE,
    MAX_NAME,
    MAX_PEOPLE,
    MAX_PERSON,
    MAX_REASON,
    MAX_SUMMARY,
    MAX_TITLE,
    NOISE_KINDS,
)
from extraction.text import SUBJECT_PREFIX, parse_address, prepare
from extraction.types import (
    EVENT_KINDS,
    Candidate,
    Context,
    EmailInput,
    ExtractedEvent,
    Extraction,
    ProjectDecision,
    Usage,
)

DATE_WINDOW = timedelta(days=5 * 366)
CURRENCY = re.compile(r"^[A-Z]{3}$")


class InvalidOutput(ValueError):
    """The model's text was not the JSON object the schema asks for."""


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    # Control characters have no business in titles; keep newlines out of one-line fields too.
    cleaned = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", " ", value).strip()
    return cleaned[:limit]


def _confidence(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.5
    if number != number:  # NaN
        return 0.5
    return min(max(number, 0.0), 1.0)


def _score(value: Any) -> float:
    """A project decision's confidence or a candidate's score: 0..1, and 0 (unsure: a person is
    asked) when the model gave no number."""
    if isinstance(value, bool):
        return 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return min(max(number, 0.0), 1.0) if number == number else 0.0


def _words(text: str, shortest: int = 3) -> set[str]:
    return {w for w in re.findall(r"[^\W\d_]+", text.lower()) if len(w) >= shortest}


def _project_name(name: str, client: str, email: EmailInput) -> str:
    """The proposed name, unless it was taken from a sentence of the body rather than the
    subject's topic: then "Client – <the subject without Re/Fwd>" instead."""
    client = client.strip()
    topic = name
    for dash in (" – ", " — ", " - "):
        head, found, tail = name.partition(dash)
        if found and head.strip().lower() == client.lower():
            topic = tail
            break
    subject = SUBJECT_PREFIX.sub("", email.subject or "").strip()
    # Short words count for "it is a piece of a sentence" ("We're go"), not as shared topic words.
    from_body = bool(_words(topic, 2) - _words(client, 2)) and _normalised(topic) in _normalised(email.text or "")
    if not from_body or (_words(topic) - _words(client)) & _words(subject) or not _words(subject):
        return name
    return (f"{client} – {subject}" if client and client.lower() not in subject.lower() else subject)[:MAX_NAME]


def _taught_project(email: EmailInput, context: Context) -> int | None:
    """The open project a person taught this email's sender to belong to, when exactly one."""
    open_ids = {p.id for p in context.projects}
    senders: dict[str, set[int]] = {}
    for signal in context.taught:
        if signal.kind == "sender" and signal.project_id in open_ids:
            senders.setdefault(signal.value.lower(), set()).add(signal.project_id)
    if not senders:
        return None
    addresses = [email.from_address.lower()]
    if email.from_address.lower() not in senders:
        forwarded = prepare(email).forwarded_from  # a colleague forwarding the client's mail
        addresses.append(parse_address(forwarded)[1] if forwarded else "")
    for address in addresses:
        projects = senders.get(address, set())
        if len(projects) == 1:
            return next(iter(projects))
    return None


def _candidates(raw: Any, project_ids: set[int], email: EmailInput) -> list[Candidate]:
    """The model's ranked places, kept only when they are listed projects or named new ones."""
    candidates: list[Candidate] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        project_id = item.get("project_id")
        score = _score(item.get("score"))
        if isinstance(project_id, int) and not isinstance(project_id, bool):
            if project_id in project_ids and all(c.project_id != project_id for c in candidates):
                candidates.append(Candidate(project_id=project_id, score=score))
            continue  # an id we did not list is never trusted, not even as a name
        name = _text(item.get("name"), MAX_NAME)
        if project_id is None and name and all(c.project_id is not None for c in candidates):
            client = _text(item.get("client_name"), MAX_NAME)
            candidates.append(
                Candidate(
                    project_id=None,
                    score=score,
                    name=_project_name(name, client, email),
                    client_name=client,
                    client_email=_email_address(item.get("client_email")),
                )
            )
    return candidates


def _email_address(value: Any) -> str:
    return _text(value, 254) if "@" in str(value) else ""


def _ranked(first: Candidate | None, others: list[Candidate]) -> list[Candidate]:
    """The decision's own place first, then the others best first, at most MAX_CANDIDATES."""
    rest = [
        c
        for c in others
        if first is None
        or (c.project_id != first.project_id if first.project_id is not None else c.project_id is not None)
    ]
    rest.sort(key=lambda c: c.score, reverse=True)
    return ([first] if first is not None else []) + rest[: MAX_CANDIDATES - (first is not None)]


def project_decision(raw: Any, *, email: EmailInput, context: Context) -> ProjectDecision:
    """The model's project decision, whatever it said: known ids only, confidence and scores in
    0..1, at most three candidates with the decision's own first, noise never a project; a
    sender a person taught for one project files the email there surely, as with the rules
    provider (the model's own choice stays a candidate)."""
    decision = _model_decision(raw if isinstance(raw, dict) else {}, email=email, context=context)
    taught = _taught_project(email, context)
    if taught is None:
        return decision
    first = Candidate(project_id=taught, score=max(decision.confidence, 0.97))
    return ProjectDecision(
        action="existing",
        project_id=taught,
        confidence=first.score,
        sure=True,
        reason="taught: this sender",
        candidates=_ranked(first, decision.candidates),
    )


def _model_decision(raw: dict[str, Any], *, email: EmailInput, context: Context) -> ProjectDecision:
    project_ids = {p.id for p in context.projects}
    action = raw.get("action")
    project_id = raw.get("project_id")
    confidence = _score(raw.get("confidence"))
    reason = _text(raw.get("reason"), MAX_REASON)
    noise = raw.get("noise") if raw.get("noise") in NOISE_KINDS else ""
    if noise:
        return ProjectDecision(
            action="none", confidence=confidence, noise=str(noise), reason=reason or f"not project mail ({noise})"
        )
    others = _candidates(raw.get("candidates"), project_ids, email)
    name = _text(raw.get("name"), MAX_NAME)
    if action == "existing" and isinstance(project_id, int) and project_id in project_ids:
        first = Candidate(project_id=project_id, score=confidence)
        return ProjectDecision(
            action="existing",
            project_id=project_id,
            confidence=confidence,
            reason=reason,
            candidates=_ranked(first, others),
        )
    if action in {"new", "existing"} and name:
        # An unknown id is never trusted; a name still lets the events app create or match by alias.
        client_name = _text(raw.get("client_name"), MAX_NAME)
        first = Candidate(
            project_id=None,
            score=confidence,
            name=_project_name(name, client_name, email),
            client_name=client_name,
            client_email=_email_address(raw.get("client_email")),
        )
        return ProjectDecision(
            action="new",
            name=first.name,
            client_name=first.client_name,
            client_email=first.client_email,
            confidence=confidence,
            reason=reason,
            candidates=_ranked(first, others),
        )
    return ProjectDecision(action="none", confidence=confidence, reason=reason)


def _date(value: Any, email_date: date) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = date.fromisoformat(value[:10])
    except ValueError:
        return None
    if abs(parsed - email_date) > DATE_WINDOW:
        return None
    return parsed


def _time(value: Any) -> time | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return time.fromisoformat(value[:8])
    except ValueError:
        return None


def _amount(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None
    if not amount.is_finite() or abs(amount) >= Decimal("1e12"):
        return None
    return amount.quantize(Decimal("0.01"))


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def extraction_from_output(
    text: str,
    *,
    email: EmailInput,
    context: Context,
    usage: list[Usage],
    provider: str,
    model: str,
) -> Extraction:
    """Parse and validate; raises InvalidOutput when the text is not a JSON object."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise InvalidOutput(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidOutput("not a JSON object")

    email_day = (email.date or datetime.now().astimezone()).date()
    event_ids = {e.id for e in context.recent_events}
    haystack = _normalised(email.text or "")

    decision = project_decision(data.get("project"), email=email, context=context)

    events: list[ExtractedEvent] = []
    events_value = data.get("events")
    raw_events: list[Any] = events_value if isinstance(events_value, list) else []
    for raw in raw_events:
        if len(events) >= MAX_EVENTS:
            break
        if not isinstance(raw, dict) or raw.get("kind") not in EVENT_KINDS:
            continue
        title = _text(raw.get("title"), MAX_TITLE)
        if not title:
            continue
        raw_date = raw.get("date")
        when = _date(raw_date, email_day)
        if raw_date and when is None:
            continue  # a date outside ±5 years (or unparseable) is a hallucination, not an event
        evidence = _text(raw.get("evidence"), MAX_EVIDENCE)
        confidence = _confidence(raw.get("confidence"))
        if evidence and _normalised(evidence) not in haystack:
            confidence = min(confidence, 0.3)  # not quoted from the email: keep it, but flag it
        updates = raw.get("updates_event_id")
        raw_action = raw.get("update_action")
        update_action: Literal["", "reschedule", "cancel", "paid"] = (
            raw_action if raw_action in ("reschedule", "cancel", "paid") else ""
        )
        if not (isinstance(updates, int) and updates in event_ids):
            updates, update_action = None, ""
        people_value = raw.get("people")
        people: list[Any] = people_value if isinstance(people_value, list) else []
        amount = _amount(raw.get("amount")) if raw.get("kind") == "payment" else None
        currency = str(raw.get("currency") or "").upper()
        events.append(
            ExtractedEvent(
                kind=raw["kind"],
                title=title,
                date=when,
                time=_time(raw.get("time")) if when else None,
                timezone=_text(raw.get("timezone"), 64),
                people=[p for p in (_text(x, MAX_PERSON) for x in people[:MAX_PEOPLE]) if p],
                amount=amount,
                currency=currency if amount is not None and CURRENCY.match(currency) else "",
                evidence=evidence,
                confidence=confidence,
                updates_event_id=updates,
                update_action=update_action,
            )
        )
    return Extraction(
        project=decision,
        events=events,
        summary=_text(data.get("summary"), MAX_SUMMARY),
        usage=usage,
        provider=provider,
        model=model,
    )
