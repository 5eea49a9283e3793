"""gunicorn settings read from the working directory: scripts/serve.py, the Dockerfile and the
benchmarks start gunicorn there. Command-line flags still win; this file holds what flags
cannot say."""

import gc
from typing import Any


def post_worker_init(worker: Any) -> None:
    """Put what the worker has loaded (Django, our apps, their modules: ~170,000 objects) out of
    the garbage collector's reach. A full collection then scans only what requests create: it
    took ~80 ms over the loaded objects, holding the GIL, so every thread of the worker stalled
    (one request in several hundred started one)."""
    gc.freeze()
