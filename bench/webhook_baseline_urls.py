"""anymail's URLs alone, with a receiver that does nothing (ours is disconnected)."""

from typing import Any

from anymail.signals import inbound
from django.urls import include, path

inbound.disconnect(dispatch_uid="projectr_inbound")


def noop_receiver(sender: object, **kwargs: Any) -> None:
    return None


inbound.connect(noop_receiver, dispatch_uid="bench_noop")

urlpatterns = [path("anymail/", include("anymail.urls"))]
