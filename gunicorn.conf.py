"""gunicorn settings read from the working directory: scripts/serve.py, the Dockerfile and the
benchmarks start gunicorn there. Command-line flags still win; this file holds what flags
cannot say."""

import gc
from typing import Any

from gunicorn.glogging import Logger


def post_worker_init(worker: Any) -> None:
    """Put what the worker has loaded (Django, our apps, their modules: ~170,000 objects) out of
    the garbage collector's reach. A full collection then scans only what requests create: it
    took ~80 ms over the loaded objects, holding the GIL, so every thread of the worker stalled
    (one request in several hundred started one)."""
    gc.freeze()


class RedactingLogger(Logger):
    """The access log without credentials in paths: invitation, hand-off and reset links and
    calendar feed tokens become [redacted] in the request line, path, query, referrer and every
    header or environ atom (ops.logs.redact_token_paths)."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> dict[str, Any]:
        # Imported here: gunicorn reads this file before it puts the project on sys.path.
        from ops.logs import redact_token_paths

        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact_token_paths(value) if isinstance(value, str) else value for key, value in atoms.items()}


logger_class = RedactingLogger
