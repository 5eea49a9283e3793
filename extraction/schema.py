"""The JSON schema the model must answer in (structured output via `output_config.format`).

Constrained decoding enforces types, enums and required keys only; lengths, counts and date
ranges are written into descriptions for the model and enforced afterwards by
extraction.validate (the API does not enforce other constraints).
"""

from __future__ import annotations

from typing import Any

from extraction.types import EVENT_KINDS

MAX_EVENTS = 25
MAX_TITLE = 200
MAX_EVIDENCE = 1000
MAX_SUMMARY = 500
MAX_NAME = 200
MAX_PEOPLE = 10
MAX_PERSON = 120
MAX_CANDIDATES = 3
MAX_REASON = 120
# What not-project mail is (ProjectDecision.noise); "" for project mail.
NOISE_KINDS = ("", "newsletter", "receipt", "pitch", "auto-reply", "notification", "internal")


def _nullable(kind: str, description: str) -> dict[str, Any]:
    # anyOf rather than a type list: the structured-output subset (and anthropic.transform_schema) takes anyOf.
    return {"anyOf": [{"type": kind}, {"type": "null"}], "description": description}


OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["project", "summary", "events"],
    "properties": {
        "project": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "action",
                "project_id",
                "name",
                "client_name",
                "client_email",
                "confidence",
                "candidates",
                "noise",
                "reason",
            ],
            "properties": {
                "action": {"type": "string", "enum": ["existing", "new", "none"]},
                "project_id": _nullable(
                    "integer", "For action=existing: the id of one of the listed projects; otherwise null."
                ),
                "name": {
                    "type": "string",
                    "description": f"For action=new: 'Client – topic of the subject' (≤ {MAX_NAME} chars).",
                },
                "client_name": {
                    "type": "string",
                    "description": "The client organisation (or person) for a new project.",
                },
                "client_email": {
                    "type": "string",
                    "description": "The client's email address for a new project, or empty.",
                },
                "confidence": {
                    "type": "number",
                    "description": "0 to 1: how likely the email belongs where `action` says.",
                },
                "candidates": {
                    "type": "array",
                    "description": f"At most {MAX_CANDIDATES} places, best first, the one `action` names first.",
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["project_id", "name", "client_name", "client_email", "score"],
                        "properties": {
                            "project_id": _nullable("integer", "A listed project's id, or null for a new project."),
                            "name": {"type": "string", "description": "For a new project: its name; else empty."},
                            "client_name": {"type": "string", "description": "For a new project: its client."},
                            "client_email": {"type": "string", "description": "For a new project: or empty."},
                            "score": {"type": "number", "description": "0 to 1, on the scale of `confidence`."},
                        },
                    },
                },
                "noise": {
                    "type": "string",
                    "enum": list(NOISE_KINDS),
                    "description": "For mail that is no project's: what it is; empty for project mail.",
                },
                "reason": {
                    "type": "string",
                    "description": f"A few words on what decided it (≤ {MAX_REASON} chars).",
                },
            },
        },
        "summary": {"type": "string", "description": f"One or two sentences (≤ {MAX_SUMMARY} chars)."},
        "events": {
            "type": "array",
            "description": f"At most {MAX_EVENTS} events, only ones stated in this email's own text.",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [
                    "kind",
                    "title",
                    "date",
                    "time",
                    "timezone",
                    "people",
                    "amount",
                    "currency",
                    "evidence",
                    "confidence",
                    "updates_event_id",
                    "update_action",
                ],
                "properties": {
                    "kind": {"type": "string", "enum": list(EVENT_KINDS)},
                    "title": {"type": "string", "description": f"Short, ≤ {MAX_TITLE} chars."},
                    "date": _nullable("string", "YYYY-MM-DD, absolute, or null when none is given."),
                    "time": _nullable("string", "HH:MM (24h) when a time is given, else null."),
                    "timezone": {
                        "type": "string",
                        "description": "IANA name or UTC offset when a time is given, else empty.",
                    },
                    "people": {"type": "array", "items": {"type": "string"}, "description": f"≤ {MAX_PEOPLE} names."},
                    "amount": _nullable("string", "For payments: the amount as a decimal number string, e.g. 2500.00."),
                    "currency": {
                        "type": "string",
                        "description": "ISO 4217 code for payments (EUR, USD, GBP…), else empty.",
                    },
                    "evidence": {
                        "type": "string",
                        "description": "The exact sentence of the email the event comes from.",
                    },
                    "confidence": {"type": "number", "description": "0 to 1."},
                    "updates_event_id": _nullable(
                        "integer", "When this email reschedules or cancels a listed earlier event: its id."
                    ),
                    "update_action": {"type": "string", "enum": ["", "reschedule", "cancel", "paid"]},
                },
            },
        },
    },
}
