"""The control server of bench/edge_memory.py: our settings, but a first middleware reads the whole
request body before anything checks the credentials, as an edge that reads before authenticating
does. It shows what the benchmark's requests cost when the body is read."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

MIDDLEWARE = ["bench.edge_memory_control.ReadBodyFirst", *MIDDLEWARE]
DATA_UPLOAD_MAX_MEMORY_SIZE = None


class ReadBodyFirst:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.body  # noqa: B018
        return self.get_response(request)
