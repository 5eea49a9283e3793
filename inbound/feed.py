"""Feeding stored messages (.eml files, mbox archives) through the webhook's code path.

Used by the ingest_eml and import_mbox commands: same parsing, routing to the named
organization, sender policy and dedupe; backfills are exempt from the loop limit.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from django.db import InterfaceError, OperationalError

from events.ingest import head_bytes, parse_bytes
from events.processing import email_process
from inbound.models import Verdict
from inbound.services import Received, delivery_receive
from organizations.models import Organization

logger = logging.getLogger(__name__)


@dataclass
class FeedSummary:
    counts: Counter[str] = field(default_factory=Counter)  # stored, duplicate, rejected, failed
    processed: Counter[str] = field(default_factory=Counter)  # final states with --sync
    # Stored and queued without their tasks (enqueue=False): the caller dispatches them.
    waiting: list[int] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{key}: {self.counts[key]}" for key in ("stored", "duplicate", "rejected", "failed")]
        if self.processed:
            parts.append("processed → " + ", ".join(f"{k} {v}" for k, v in sorted(self.processed.items())))
        return "; ".join(parts)


def message_feed(
    *,
    organization: Organization,
    raw: bytes,
    provider: str,
    summary: FeedSummary,
    check_sender: bool = True,
    sync: bool = False,
    enqueue: bool = True,
) -> str:
    """Store one message for `organization` (and process it at once with `sync`); returns the outcome key.

    `enqueue=False` stores it queued without its task and adds its id to `summary.waiting`, for
    the caller to dispatch (events.ai_batches.backfill_dispatch)."""
    try:
        outcome = delivery_receive(
            # The header block decides; the body is parsed only if the message is stored.
            received=Received(provider=provider, message=parse_bytes(head_bytes(raw)), raw=raw, headers_only=True),
            organization=organization,
            check_sender=check_sender,
            backfill=True,
            enqueue=enqueue and not sync,
        )
    except (OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("Could not ingest a %s message", provider)
        summary.counts["failed"] += 1
        return "failed"
    if outcome.stored:
        key = "stored"
        if sync and outcome.verdict == Verdict.ACCEPTED and outcome.email_id is not None:
            result = email_process(schema_name=organization.schema_name, email_id=outcome.email_id)
            summary.processed[result.state] += 1
        elif not enqueue and outcome.verdict == Verdict.ACCEPTED and outcome.email_id is not None:
            summary.waiting.append(outcome.email_id)
    elif outcome.verdict == Verdict.DUPLICATE:
        key = "duplicate"
    else:
        key = "rejected"
    summary.counts[key] += 1
    return key
