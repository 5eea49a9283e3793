from __future__ import annotations

import base64
import hashlib
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from cryptography.fernet import Fernet
from django.conf import settings
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth keys failed logins by the request's site, which is the host here (no
        # django.contrib.sites): every workspace host would get its own 5 attempts per
        # address. One key for the whole platform keeps the limit real.
        login = str(credentials.get("email", credentials.get("username", ""))).lower()
        return f"{settings.BASE_DOMAIN}:{login}"

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
