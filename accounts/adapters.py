from __future__ import annotations

import base64
import hashlib
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse

from config.security import client_ip, rate_limit_hit, rate_limit_used_up

# A browser someone signed in with before carries this signed cookie naming them (the last few
# users of that browser): OWASP's "device cookies", so a flood of failures from a shared IP
# (an office, a mobile carrier's NAT) never locks out the people who normally sign in there.
DEVICE_COOKIE = "projectr_device"
DEVICE_COOKIE_SALT = "projectr.device"
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 3600
DEVICE_COOKIE_USERS = 5


def _ip_key(request: HttpRequest) -> str:
    return f"sign-in-failed-ip:{client_ip(request)}"


def _device_users(request: HttpRequest) -> list[str]:
    value = request.get_signed_cookie(DEVICE_COOKIE, default="", salt=DEVICE_COOKIE_SALT, max_age=DEVICE_COOKIE_MAX_AGE)
    return [part for part in str(value).split(",") if part]


def site_url(path: str) -> str:
    """An absolute URL on the public host from BASE_DOMAIN and PUBLIC_PORT, for links in mail:
    never from the request's Host header, whose port (and, behind some proxies, name) a
    visitor chooses."""
    port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
    return f"{settings.SITE_SCHEME}://{settings.BASE_DOMAIN}{port}{path}"


class _Site:
    """What allauth's mail templates read as `current_site` (name and domain), without the Host header."""

    def __init__(self) -> None:
        port = f":{settings.PUBLIC_PORT}" if settings.PUBLIC_PORT else ""
        self.name = "Projectr"
        self.domain = f"{settings.BASE_DOMAIN}{port}"


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "too_many_failures_from_network": (
            "Too many failed sign-ins from your network. Wait a few minutes, or sign in from a browser "
            "you have used here before."
        ),
    }

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth keys failed logins by the request's site, which is the host here (no
        # django.contrib.sites): every workspace host would get its own 5 attempts per
        # address. One key for the whole platform keeps the limit real.
        login = str(credentials.get("email", credentials.get("username", ""))).lower()
        return f"{settings.BASE_DOMAIN}:{login}"

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        """Failures are limited per address (allauth's `login_failed` per key, in
        settings.ACCOUNT_RATE_LIMITS) and per client IP (here), separately.

        The IP limit never refuses a sign-in that proves more than a password: an address with
        TOTP (the password only opens the code step, which has its own per-user limit), or a
        browser that signed in as that address before. Anyone else from an IP over its limit
        gets the same answer whether the password is right or not, so guessing from there
        learns nothing; allauth's per-IP counters are off because they refused everyone.
        """
        limit, window = settings.SIGN_IN_FAILURES_PER_IP, settings.SIGN_IN_FAILURES_WINDOW
        if rate_limit_used_up(_ip_key(request), limit=limit, window=window) and not self._proves_more(
            request, credentials
        ):
            rate_limit_hit(_ip_key(request), limit=limit, window=window)
            raise self.validation_error("too_many_failures_from_network")
        user = super().authenticate(request, **credentials)
        if user is None:
            rate_limit_hit(_ip_key(request), limit=limit, window=window)
        return user

    def _proves_more(self, request: HttpRequest, credentials: dict[str, Any]) -> bool:
        from accounts.models import User

        login = str(credentials.get("email", credentials.get("username", ""))).strip()
        user = User.objects.filter(email__iexact=login, is_active=True).first()
        if user is None:
            return False
        if str(user.pk) in _device_users(request):
            return True
        return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()

    def post_login(self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post_login(request, user, **kwargs)
        users = [str(user.pk), *(pk for pk in _device_users(request) if pk != str(user.pk))]
        response.set_signed_cookie(
            DEVICE_COOKIE,
            ",".join(users[:DEVICE_COOKIE_USERS]),
            salt=DEVICE_COOKIE_SALT,
            max_age=DEVICE_COOKIE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
        return response

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        # Every link allauth puts in a mail (reset, confirmation, sign-up) and the site name and
        # domain it prints are rebuilt from BASE_DOMAIN/PUBLIC_PORT: allauth builds them from
        # the request, whose Host header (and so the port) the visitor writes.
        from urllib.parse import urlsplit

        context = dict(context)
        for name, value in list(context.items()):
            if name.endswith("_url") and isinstance(value, str) and value.startswith(("http://", "https://")):
                parts = urlsplit(value)
                context[name] = site_url(parts.path + (f"?{parts.query}" if parts.query else ""))
        context["current_site"] = _Site()
        super().send_mail(template_prefix, email, context)

    def format_email_subject(self, subject: str) -> str:
        # allauth prefixes the request's host (port included) when no prefix is set.
        return f"[Projectr] {subject}"

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Organizations are onboarded by staff; people join through invitations
        # (organizations.views.invitation_accept), never through open sign-up.
        return False


def _fernet() -> Fernet:
    # A dedicated key derived from SECRET_KEY, so TOTP secrets are unreadable in a DB dump.
    digest = hashlib.sha256(f"projectr.mfa:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


class MFAAdapter(DefaultMFAAdapter):
    """Stores TOTP secrets and recovery-code seeds encrypted at rest (allauth stores them in clear)."""

    def encrypt(self, text: str) -> str:
        return _fernet().encrypt(text.encode()).decode()

    def decrypt(self, encrypted_text: str) -> str:
        return _fernet().decrypt(encrypted_text.encode()).decode()
