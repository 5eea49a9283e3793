"""Real-world messages (tests/corpora/mime) never crash the rules provider or the prompt builder."""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

import pytest

from extraction.prompt import user_message
from extraction.providers.rules import extract
from extraction.schema import MAX_EVENTS
from extraction.text import prepare
from extraction.types import Context, EmailInput, ProjectRef
from tests.conftest import CORPORA

MIME = sorted((CORPORA / "mime").glob("*"))
CONTEXT = Context(projects=[ProjectRef(id=1, name="Kitchen renovation", client_email="a@client.example")])


def email_input(path: Path) -> EmailInput | None:
    """What events.extraction_inputs would hand over, built leniently from the raw bytes."""
    try:
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        body = message.get_body(preferencelist=("plain", "html"))
        text = body.get_content() if body is not None else ""
        try:
            sent = parsedate_to_datetime(str(message.get("Date", "")))
        except (TypeError, ValueError, IndexError):
            sent = None
        sender = getaddresses([str(message.get("From", ""))])
        return EmailInput(
            message_id=str(message.get("Message-ID", "")),
            subject=str(message.get("Subject", "")),
            from_address=sender[0][1] if sender else "",
            from_name=sender[0][0] if sender else "",
            to=[a for _, a in getaddresses([str(message.get("To", ""))])],
            cc=[],
            date=sent if sent is None or sent.tzinfo else None,
            text=text if isinstance(text, str) else "",
            headers=[(k, str(v)) for k, v in message.items()],
            in_reply_to=str(message.get("In-Reply-To", "")),
            references=str(message.get("References", "")).split(),
        )
    except Exception:  # noqa: BLE001 - unparseable input is the inbound app's to reject, not ours
        return None


@pytest.mark.parametrize("path", MIME, ids=lambda p: p.name)
def test_the_rules_provider_handles_every_corpus_message(path: Path) -> None:
    email = email_input(path)
    if email is None:
        pytest.skip("not parseable as an email")

    result = extract(email, CONTEXT)
    user_message(email, CONTEXT, prepare(email))

    assert len(result.events) <= MAX_EVENTS
    assert result.project.action in {"existing", "new", "none"}
