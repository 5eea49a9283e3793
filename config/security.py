"""Security plumbing shared by every host: secrets from files, rate limits, log redaction,
and the MFA gate in front of the Django admin. See docs/security.md.

Nothing here imports Django settings at module level: settings.py imports `env_secret`.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

# --- secrets ----------------------------------------------------------------------------------


def env_secret(name: str, default: str = "") -> str:
    """`NAME` from the environment, or the contents of the file `NAME_FILE` names (Docker and
    Kubernetes secrets are mounted as files). Setting both is a mistake we refuse to guess about."""
    value = os.environ.get(name, "")
    path = os.environ.get(f"{name}_FILE", "")
    if value and path:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as error:
            raise ImproperlyConfigured(f"{name}_FILE={path} cannot be read: {error}") from error
    return value or default


# --- rate limits ------------------------------------------------------------------------------


def rate_limit_hit(key: str, *, limit: int, window: int) -> bool:
    """Count one hit for `key` in a fixed window; True when the limit is already used up.

    The counter lives in the shared cache (database or Redis), so every process and every host
    counts together. `cache.add` then `incr` is atomic on both backends; a limit of 0 disables.
    """
    from django.core.cache import cache

    if limit <= 0:
        return False
    bucket = f"rl:{key}:{int(time.time()) // window}"
    if cache.add(bucket, 1, timeout=window + 1):
        return False
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr: this hit opens a new window
        cache.add(bucket, 1, timeout=window + 1)
        return False
    return count > limit


def rate_limit_used_up(key: str, *, limit: int, window: int) -> bool:
    """Has `key` already had `limit` hits in this window? (Counts nothing.)"""
    from django.core.cache import cache

    if limit <= 0:
        return False
    return int(cache.get(f"rl:{key}:{int(time.time()) // window}", 0)) >= limit


def client_ip(request: HttpRequest) -> str:
    from allauth.account.adapter import get_adapter

    # allauth's adapter honours ALLAUTH_TRUSTED_PROXY_COUNT, as sign-in limits do.
    return str(get_adapter().get_client_ip(request))


def too_many_requests(message: str, *, retry_after: int) -> HttpResponse:
    response = HttpResponse(message, status=429, content_type="text/plain")
    response["Retry-After"] = str(retry_after)
    return response


# Links that carry their own credential. Path prefixes on every host; the reset link is allauth's.
TOKEN_PATHS = {"invite/": "invitation", "handoff/": "handoff", "accounts/password/reset/key/": "reset"}


def _token_failed(response: HttpResponse) -> bool:
    # Our views answer 403 or 404 to a token that is wrong, used or expired; allauth's reset
    # page answers 200 with `token_fail` in its context.
    context = getattr(response, "context_data", None) or {}
    return response.status_code in (403, 404) or bool(context.get("token_fail"))


class TokenRateLimitMiddleware:
    """Invitation, hand-off and password-reset links: at most TOKEN_RATE_LIMIT *failed* attempts
    per client IP per window, across all hosts; beyond it a wrong link answers 429 until the
    window ends.

    A valid link is always honoured, however many wrong ones came from the same IP (an office
    behind one address, or someone spraying guesses from it): the link itself is the proof, so
    the view checks it first and only a failure is counted or refused. What keeps guessing
    hopeless is the tokens' size (256-bit random or HMAC-signed, docs/security.md); the limit
    keeps a prober's noise bounded and visible.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        path = request.path_info.lstrip("/")
        scope = next((name for prefix, name in TOKEN_PATHS.items() if path.startswith(prefix)), None)
        if scope is None:
            return self.get_response(request)
        response = self.get_response(request)
        if not _token_failed(response):
            return response
        window, limit = settings.TOKEN_RATE_LIMIT_WINDOW, settings.TOKEN_RATE_LIMIT
        if rate_limit_hit(f"{scope}:{client_ip(request)}", limit=limit, window=window):
            return too_many_requests("Too many attempts; wait a few minutes and try again.", retry_after=window)
        return response


# --- the admin needs MFA ------------------------------------------------------------------------


def _on_public_host(request: HttpRequest) -> bool:
    from django_tenants.utils import get_public_schema_name

    return getattr(getattr(request, "tenant", None), "schema_name", "") == get_public_schema_name()


class AdminMFAMiddleware:
    """The Django admin (public host only) is for staff who have turned on TOTP.

    Its own login form would skip allauth's second factor, so it is replaced by allauth's
    sign-in; staff without an authenticator are sent to set one up.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith("/admin/") and _on_public_host(request):
            response = self._gate(request)
            if response is not None:
                return response
        return self.get_response(request)

    def _gate(self, request: HttpRequest) -> HttpResponse | None:
        from allauth.mfa.models import Authenticator
        from allauth.mfa.utils import is_mfa_enabled
        from django.conf import settings
        from django.contrib import messages
        from django.shortcuts import redirect
        from django.urls import reverse
        from django.utils.http import url_has_allowed_host_and_scheme, urlencode

        if request.path_info.startswith("/admin/login/"):
            target = request.GET.get("next", "/admin/")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "/admin/"
            return redirect(f"{reverse('account_login')}?{urlencode({'next': target})}")
        user = request.user
        if not settings.ADMIN_REQUIRE_MFA:
            return None
        if user.is_authenticated and user.is_staff and not is_mfa_enabled(user, [Authenticator.Type.TOTP]):
            messages.warning(request, "Turn on two-factor authentication to use the admin.")
            return redirect(reverse("mfa_activate_totp"))
        return None


# --- logs ---------------------------------------------------------------------------------------

EMAIL_RE = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,}|localhost)")


def redact_emails(text: str) -> str:
    """`pat.manager@client.com` → `p***@client.com`: enough to tell senders' domains apart."""
    return EMAIL_RE.sub(r"\1***@\2", text)


class RedactingFilter(logging.Filter):
    """Rewrites every record's message and traceback through `redact` before any handler writes them."""

    @staticmethod
    def redact(text: str) -> str:
        raise NotImplementedError

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class RedactEmailsFilter(RedactingFilter):
    """No full email address reaches a log handler."""

    redact = staticmethod(redact_emails)


def redaction_filters() -> dict[str, Any]:
    return {"redact_emails": {"()": "config.security.RedactEmailsFilter"}}
