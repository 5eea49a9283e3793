"""Error bodies. Every 400 names the field at fault:
`{"detail": "…", "errors": [{"field": "title", "message": "…"}]}`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

# The request attribute where the throttle (api.auth) says which limit a 429 is for.
THROTTLED_DETAIL = "throttled_detail"

# Where ninja says a value came from; the client only needs the field's own name.
_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


class ApiFieldError(Exception):
    """A request value the service or a check refused, for a 400 that names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def field_name(loc: Iterable[Any], body_params: set[str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        source = parts.pop(0)
        # A whole-body schema parameter (`payload`) is not something the client wrote.
        if source == "body" and parts and parts[0] in body_params:
            parts.pop(0)
    return ".".join(parts) or "body"


def _bad_request(api: NinjaAPI, request: HttpRequest, errors: list[dict[str, str]]) -> HttpResponse:
    fields = ", ".join(sorted({e["field"] for e in errors}))
    return api.create_response(request, {"detail": f"Invalid request: {fields}.", "errors": errors}, status=400)


def install(api: NinjaAPI, *, body_params: set[str]) -> None:
    # Handlers take `Any`: ninja types them against the exception class *or* instance.

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        errors = [
            {"field": field_name(e.get("loc", ()), body_params), "message": str(e.get("msg", "invalid"))}
            for e in exc.errors
        ]
        return _bad_request(api, request, errors or [{"field": "body", "message": "invalid"}])

    def on_django_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        if hasattr(exc, "error_dict"):
            errors = [
                {"field": "body" if name == "__all__" else name, "message": " ".join(messages)}
                for name, messages in exc.message_dict.items()
            ]
        else:
            errors = [{"field": "body", "message": " ".join(exc.messages)}]
        return _bad_request(api, request, errors)

    def on_field(request: HttpRequest, exc: Any) -> HttpResponse:
        return _bad_request(api, request, [{"field": exc.field, "message": exc.message}])

    def on_unauthenticated(request: HttpRequest, exc: Any) -> HttpResponse:
        response = api.create_response(
            request, {"detail": "A valid API key is needed: Authorization: Bearer <key>."}, status=401
        )
        response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response

    api.add_exception_handler(NinjaValidationError, on_validation)
    api.add_exception_handler(DjangoValidationError, on_django_validation)
    api.add_exception_handler(ApiFieldError, on_field)

    def on_throttled(request: HttpRequest, exc: Any) -> HttpResponse:
        # ninja sets Retry-After on what this returns.
        detail = getattr(request, THROTTLED_DETAIL, "Too many requests.")
        return api.create_response(request, {"detail": f"{detail} Retry after the time in Retry-After."}, status=429)

    api.add_exception_handler(AuthenticationError, on_unauthenticated)
    api.add_exception_handler(Throttled, on_throttled)
