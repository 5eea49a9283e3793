"""anymail's URLs alone, with a receiver of the bench's own instead of ours.

BENCH_WEBHOOK_RECEIVER=noop (the baseline): it does nothing. =durable (a diagnostic floor):
it writes the raw message as one row of a bare table in one autocommit statement, the least
that any receiver must do to have the message stored before it answers.
"""

import os
from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.db import connection
from django.urls import include, path

FLOOR_TABLE = "bench_webhook_floor"

inbound.disconnect(dispatch_uid="projectr_inbound")


def noop_receiver(sender: object, **kwargs: Any) -> None:
    return None


def durable_receiver(sender: object, event: AnymailInboundEvent, **kwargs: Any) -> None:
    raw = event.esp_event.get("RawEmail", "") if isinstance(event.esp_event, dict) else ""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {FLOOR_TABLE} (raw) VALUES (%s)", [raw])


receivers = {"noop": noop_receiver, "durable": durable_receiver}
inbound.connect(receivers[os.environ.get("BENCH_WEBHOOK_RECEIVER", "noop")], dispatch_uid="bench_receiver")

urlpatterns = [path("anymail/", include("anymail.urls"))]
