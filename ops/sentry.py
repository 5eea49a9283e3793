"""Error reports to Sentry (or anything that speaks its protocol: GlitchTip, a self-hosted
Sentry), switched on by SENTRY_DSN from config.settings.

What is reported: an exception in a request (Django integration), and every ERROR log record
with its traceback (logging integration) — which is how a failed django-q2 task arrives:
sentry-sdk has no django-q integration, and django-q2's own error-reporter hook is loaded
from package entry points, which an application that is not an installed package cannot
declare; its monitor logs every failed task at ERROR with the task's traceback, in every
worker, so the logging integration catches them all.

What is not: the people and the mail. No user details, cookies, request bodies (webhook
payloads are mail), local variables (they hold message text) or SQL parameters; and before an
event leaves, every string in it goes through the same redaction as the logs: email addresses
(config.security.redact_emails) and token path segments (ops.logs.redact_token_paths).
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sentry_sdk
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.utils import get_default_release

from config.security import redact_emails
from ops.logs import redact_token_paths

if TYPE_CHECKING:
    from sentry_sdk._types import Event, Hint, Log

CHECKOUT = Path(__file__).resolve().parent.parent
# django-q2's monitor: "Failed 'events.tasks.email_process_task' (hotel-nine-…) - <error> : <traceback>".
DJANGO_Q_LOGGER = "django-q"
DJANGO_Q_FAILED = "Failed '"


def release_name(configured: str = "") -> str | None:
    """SENTRY_RELEASE, else the checkout's commit (`git rev-parse HEAD`), else what sentry-sdk
    finds in the platform's variables (HEROKU_SLUG_COMMIT, SOURCE_VERSION, …), else none."""
    if configured:
        return configured
    try:
        commit = subprocess.run(  # noqa: S603 - fixed arguments, no input of anyone's
            ["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"],  # noqa: S607 - git from PATH
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return commit or get_default_release()


def scrub(value: Any) -> Any:
    """Every string in an event, however deep, redacted as the logs are."""
    if isinstance(value, str):
        # An address in a query string or a URL arrives percent-encoded.
        text = value.replace("%40", "@") if "%40" in value else value
        return redact_token_paths(redact_emails(text))
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub(item) for item in value)
    return value


def before_send(event: Event, hint: Hint) -> Event | None:
    scrubbed: Event = scrub(event)
    if scrubbed.get("logger") == DJANGO_Q_LOGGER:
        message = str((scrubbed.get("logentry") or {}).get("message") or "")
        if message.startswith(DJANGO_Q_FAILED):
            # One issue per task function: the message starts with the task's random name.
            function = message[len(DJANGO_Q_FAILED) :].split("'", 1)[0]
            scrubbed["fingerprint"] = ["django-q task failed", function]
            scrubbed.setdefault("tags", {})["task"] = function
    return scrubbed


def scrub_log(log: Log, hint: Hint) -> Log | None:
    """Should anything send Sentry logs after all (sentry_sdk.logger), they are scrubbed too."""
    scrubbed: Log = scrub(log)
    return scrubbed


def sentry_init(*, dsn: str, environment: str, release: str = "") -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release_name(release),
        integrations=[
            DjangoIntegration(),
            # ERROR records become events, INFO and up ride along as their breadcrumbs; no
            # records as Sentry logs (`level`): the logs are stdout's (ops.logs).
            LoggingIntegration(level=None, event_level=logging.ERROR, breadcrumb_level=logging.INFO),
        ],
        # Only what is listed above: no integration switched on because its library is installed
        # (the Anthropic one would record prompts, which are mail, as soon as tracing is on).
        auto_enabling_integrations=False,
        # Who and what: no user, no cookies, no bodies (webhook payloads are mail), no local
        # variables (they hold message text), no SQL parameters, no AI prompts or answers.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_bodies": [],
            "stack_frame_variables": False,
            "database_query_data": False,
            "gen_ai": {"inputs": False, "outputs": False},
        },
        max_request_body_size="never",
        before_send=before_send,
        before_send_log=scrub_log,
    )
