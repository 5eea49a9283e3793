"""Stripe without the network: a fake HTTP client behind the real stripe-python code, and a
dj-stripe WebhookEndpoint with a known secret."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from django.test import Client

WEBHOOK_SECRET = "whsec_test_secret"
TEST_KEY = "sk_test_" + "x" * 24
PRICE_STARTER = "price_starter_test"
PRICE_PROFESSIONAL = "price_professional_test"


GENERATED: dict[str, dict[str, Any]] = {
    "cus_": {
        "object": "customer",
        "email": "",
        "metadata": {},
        "balance": 0,
        "delinquent": False,
        "invoice_settings": {},
    },
    "acct_": {"object": "account", "settings": {}, "type": "standard"},
    "prod_": {"object": "product", "name": "Product", "type": "service", "metadata": {}},
}


def _empty_list(url: str) -> dict[str, Any]:
    return {"object": "list", "data": [], "has_more": False, "url": url}


def current_shape(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as the API version dj-stripe pins would return it on a re-fetch.

    Some corpus events are years older than that version; real Stripe answers a re-fetch in
    the current shape (lists always present, items pointing at their subscription).
    """
    obj = json.loads(json.dumps(obj))
    kind = obj.get("object")
    for kind_, field in (("charge", "refunds"), ("transfer", "reversals"), ("subscription", "items")):
        value = obj.get(field)
        if kind == kind_ and not (isinstance(value, dict) and "data" in value):
            obj[field] = _empty_list(f"/v1/{kind_}s/{obj['id']}/{field}")
        elif kind == kind_:
            value.update({"object": "list", "has_more": value.get("has_more", False)})
    if kind == "subscription":
        for item in obj["items"]["data"]:
            item.setdefault("subscription", obj["id"])
            if item.get("subscription") is None:
                item["subscription"] = obj["id"]
    return obj


class FakeStripe(stripe.HTTPClient):
    """Answers Stripe API calls from `objects` (by id) and records every request."""

    name = "fake"

    def __init__(self) -> None:
        super().__init__()
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self.counter = 0

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def posts(self, path: str) -> list[dict[str, list[str]]]:
        return [body for method, url, body in self.requests if method == "post" and urlsplit(url).path == path]

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, *, _usage: Any = None
    ) -> tuple[str, int, dict[str, str]]:
        body = parse_qs(post_data.decode() if isinstance(post_data, bytes) else (post_data or ""))
        self.requests.append((method, url, body))
        path = urlsplit(url).path
        status, payload = self.answer(method, path, body)
        return json.dumps(payload), status, {"request-id": f"req_{len(self.requests)}"}

    def answer(self, method: str, path: str, body: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        self.counter += 1
        if method == "post" and path == "/v1/customers":
            metadata = {k[9:-1]: v[0] for k, v in body.items() if k.startswith("metadata[")}
            return 200, self.add(
                {
                    "id": f"cus_fake{self.counter}",
                    "object": "customer",
                    "email": body.get("email", [""])[0],
                    "metadata": metadata,
                    "livemode": False,
                    "created": int(time.time()),
                    "balance": 0,
                    "delinquent": False,
                    "invoice_settings": {},
                }
            )
        if method == "post" and path == "/v1/checkout/sessions":
            return 200, {
                "id": f"cs_test_{self.counter}",
                "object": "checkout.session",
                "url": "https://checkout.stripe.test/s",
            }
        if method == "post" and path == "/v1/billing_portal/sessions":
            return 200, {
                "id": f"bps_{self.counter}",
                "object": "billing_portal.session",
                "url": "https://billing.stripe.test/p",
            }
        if method == "post" and path == "/v1/billing/meter_events":
            return 200, {"object": "billing.meter_event", "identifier": body["identifier"][0]}
        if method == "get" and path == "/v1/account":
            return 200, {"id": "acct_fake", "object": "account", "settings": {}, "livemode": False}
        object_id = path.rstrip("/").rsplit("/", 1)[-1]
        if method == "get" and object_id in self.objects:
            return 200, current_shape(self.objects[object_id])
        if method == "get" and object_id.startswith(tuple(GENERATED)):
            # Objects an event refers to exist in a real Stripe account; stand in a minimal one.
            prefix = next(p for p in GENERATED if object_id.startswith(p))
            return 200, {"id": object_id, "livemode": False, "created": int(time.time()), **GENERATED[prefix]}
        kind = GENERATED.get(object_id.split("_", 1)[0] + "_", {}).get("object", "object")
        return 404, {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "message": f"No such {kind}: '{object_id}'",
            }
        }

    def close(self) -> None:
        pass


@pytest.fixture
def stripe_keys(settings: Any) -> None:
    settings.STRIPE_TEST_SECRET_KEY = TEST_KEY
    settings.STRIPE_PRICE_STARTER = PRICE_STARTER
    settings.STRIPE_PRICE_PROFESSIONAL = PRICE_PROFESSIONAL


@pytest.fixture
def fake_stripe(stripe_keys: None, monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    fake = FakeStripe()
    monkeypatch.setattr(stripe, "default_http_client", fake)
    return fake


@pytest.fixture
def webhook_url(public: Any) -> str:
    from djstripe.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(
        id="we_test",
        url="https://localhost/stripe/webhook/",
        secret=WEBHOOK_SECRET,
        livemode=False,
        djstripe_uuid=uuid.uuid4(),
        enabled_events=["*"],
        status="enabled",
        api_version="2026-05-27.dahlia",
    )
    return f"/stripe/webhook/{endpoint.djstripe_uuid}/"


def post_event(client: Client, url: str, payload: str | bytes, *, secret: str = WEBHOOK_SECRET) -> Any:
    text = payload.decode() if isinstance(payload, bytes) else payload
    header = stripe.WebhookSignature.generate_signature_header(text, secret)
    return client.post(url, data=text, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
