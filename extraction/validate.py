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
    MAX_EVENTS,
    MAX_EVIDENCE,
    MAX_NAME,
    MAX_PEOPLE,
    MAX_PERSON,
    MAX_SUMMARY,
    MAX_TITLE,
)
from extraction.types import (
    EVENT_KINDS,
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
    project_ids = {p.id for p in context.projects}
    event_ids = {e.id for e in context.recent_events}
    haystack = _normalised(email.text or "")

    project_value = data.get("project")
    raw_project: dict[str, Any] = project_value if isinstance(project_value, dict) else {}
    action = raw_project.get("action")
    project_id = raw_project.get("project_id")
    name = _text(raw_project.get("name"), MAX_NAME)
    if action == "existing" and isinstance(project_id, int) and project_id in project_ids:
        decision = ProjectDecision(
            action="existing", project_id=project_id, confidence=_confidence(raw_project.get("confidence"))
        )
    elif action in {"new", "existing"} and name:
        # An unknown id is never trusted; a name still lets the events app create or match by alias.
        decision = ProjectDecision(
            action="new",
            name=name,
            client_name=_text(raw_project.get("client_name"), MAX_NAME),
            client_email=_text(raw_project.get("client_email"), 254)
            if "@" in str(raw_project.get("client_email"))
            else "",
            confidence=_confidence(raw_project.get("confidence")),
        )
    else:
        decision = ProjectDecision(action="none")

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
        update_action: Literal["", "reschedule", "cancel"] = (
            "reschedule"
            if raw.get("update_action") == "reschedule"
            else "cancel"
            if raw.get("update_action") == "cancel"
            else ""
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
