"""Email addresses are redacted before any log handler writes them."""

from __future__ import annotations

import io
import logging

from config.security import RedactEmailsFilter, redact_emails


def test_it_keeps_the_first_letter_and_the_domain():
    assert redact_emails("from Pat.Manager+x@client.example to a@b.co") == "from P***@client.example to a***@b.co"


def test_text_without_addresses_is_unchanged():
    assert redact_emails("Inbound postmark stored in org_acme as accepted") == (
        "Inbound postmark stored in org_acme as accepted"
    )


def test_the_filter_redacts_arguments_and_tracebacks(caplog):
    caplog.handler.addFilter(RedactEmailsFilter())
    logger = logging.getLogger("inbound.services")
    with caplog.at_level(logging.INFO):
        logger.info("Inbound %s from %s: %s", "postmark", "pat@client.example", "rejected")
        try:
            raise ValueError("bad address owner@testorg.test")
        except ValueError:
            logger.exception("Failed for %s", "viewer@testorg.test")
    assert "pat@client.example" not in caplog.text
    assert "viewer@testorg.test" not in caplog.text
    assert "owner@testorg.test" not in caplog.text
    assert "p***@client.example" in caplog.text
    assert "o***@testorg.test" in caplog.text


def test_the_configured_console_handler_redacts():
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    assert any(isinstance(f, RedactEmailsFilter) for f in handler.filters)
    stream = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    try:
        logging.getLogger("inbound.views").warning("Refused mail from %s", "someone@client.example")
    finally:
        handler.setStream(previous)
    assert "s***@client.example" in stream.getvalue()
    assert "someone@client.example" not in stream.getvalue()
