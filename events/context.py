"""Build the pure inputs of extraction (EmailInput, Context) from an Email row. Tenant schema."""

from __future__ import annotations

from events.models import Email
from extraction.types import Context, EmailInput


def email_input_build(email: Email) -> EmailInput:
    return EmailInput(
        message_id=email.message_id,
        subject=email.subject,
        from_address=email.from_address,
        from_name=email.from_name,
        to=list(email.to),
        cc=list(email.cc),
        date=email.date,
        text=email.text,
        headers=[(str(name), str(value)) for name, value in email.headers],
        in_reply_to=email.in_reply_to,
        references=list(email.references),
        attachment_names=[a.filename for a in email.attachments.all()],
        project_hint=email.project_hint,
    )


def context_build(email: Email) -> Context:
    """The organization's open projects and the email's thread. Placeholder until issue #4 lands."""
    return Context()
