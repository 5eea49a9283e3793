"""`make screenshots`: the dashboard's key pages, as docs/dashboard.md shows them, into docs/img/.

What it shows is the demo of `make run`: a database of its own on the same PostgreSQL server
(`projectr_screenshots`, dropped at the start and the end) gets the demo organization from
`seed_demo`, whose mail goes through the real pipeline dated relative to today, so the agenda
and the timelines' today line always have something around them. The web server, Chromium and
the signed-in session are the browser tests' own (tests/browser/conftest.py); the pages' paths
are test_every_page's. Each capture is squeezed with pngquant (Debian's; installed here when
running as root with apt, like scripts/ensure_chromium.py does for Chromium), so the images stay
small enough to keep in git.

    .venv/bin/python scripts/screenshots.py [--only agenda,timeline] [--keep-database]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from debian_packages import apt_install, can_install

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
DATABASE = os.environ.get("SCREENSHOTS_DATABASE_NAME", "projectr_screenshots")
WIDTHS = {1366: 900, 390: 844}  # a laptop and a phone (iPhone 12-15), CSS pixels
# Long pages are cut here: the docs show what a page looks like, not all of it.
MAX_HEIGHT = {1366: 1300, 390: 1400}
# How much of the page below an anchor (the today line) stays in the picture.
ANCHOR_MARGIN = 450
# Whatever the caller's environment or .env says, this run is offline and touches only its own
# database: the rules engine (no AI calls), mail kept in memory, no Redis (a shared queue or
# cache would reach a worker on another database), files in a temporary folder.
ENVIRONMENT = {
    "DATABASE_NAME": DATABASE,
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "STATIC_MANIFEST": "false",
    "ANTHROPIC_API_KEY": "",
    "PROJECTR_AI_PROVIDER": "rules",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "REDIS_URL": "",
    "ADMIN_REQUIRE_MFA": "false",
    # Public apps' tables straight from the models, as test databases do: this one is thrown away.
    "FAST_TEST_MIGRATIONS": "true",
    "DEMO_PASSWORD": secrets.token_urlsafe(12),
    "PYTHONUNBUFFERED": "1",
}


@dataclass(frozen=True)
class Shot:
    """One page: `path` may name {project}, {email}, {event}. A long page is cut to its top,
    or, with `anchor` (a CSS selector), to a window that ends a little below that element."""

    name: str
    path: str
    anchor: str = ""


def shots() -> list[Shot]:
    from tests.browser.test_every_page import PAGES

    return [
        Shot("agenda", PAGES["agenda"]),
        Shot("timeline", PAGES["timeline"], anchor=".today-line"),
        Shot("inbox", PAGES["inbox"]),
        Shot("unfiled", PAGES["unfiled"]),
        Shot("email", PAGES["email"] + "?highlight={event}"),
        Shot("search", "/search/?q=deposit"),
        Shot("usage", PAGES["usage"]),
        Shot("billing", PAGES["billing"]),
        Shot("team", PAGES["team"]),
    ]


# --- the database -----------------------------------------------------------------------------


def _database_recreate(*, drop_only: bool = False) -> None:
    from django.db import connection

    connection.close()
    # Django's own way in when the database named in settings may not exist (test databases).
    with connection._nodb_cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        if not drop_only:
            cursor.execute(f'CREATE DATABASE "{DATABASE}"')


def _seed(data_dir: Path) -> Any:
    """The demo organization of `make run`, in this run's database; returns it."""
    from django.conf import settings
    from django.core.management import call_command

    from billing.services import plans_ensure
    from organizations.models import Organization

    print(f"▸ database {DATABASE}: migrations and the demo (a minute or two) …", flush=True)
    call_command("migrate_schemas", "--noinput", "--run-syncdb", verbosity=0)
    call_command("createcachetable", verbosity=0)
    call_command("setup_platform")
    plans_ensure()
    # seed_demo keeps the demo's password and mail files in DATA_DIR: not the checkout's .data.
    settings.DATA_DIR = data_dir
    call_command("seed_demo")
    return Organization.objects.get(slug="acme")


def _targets(organization: Any) -> dict[str, str]:
    """The codes the pages' paths name: the timeline with the most events, and an email whose
    event has an evidence sentence to highlight (the kickoff meeting the demo always has)."""
    from django.db.models import Count
    from django_tenants.utils import schema_context

    from events.models import Event
    from projects.models import Project

    with schema_context(organization.schema_name):
        project = Project.objects.annotate(n=Count("events")).order_by("-n", "name").first()
        event = (
            Event.objects.filter(kind="meeting", email__isnull=False, deleted_at__isnull=True)
            .exclude(evidence="")
            .select_related("email")
            .order_by("date", "pk")
            .first()
        )
        if project is None or event is None:
            raise SystemExit("the demo has no project or no event with evidence: is seed_demo broken?")
        return {"project": str(project.code), "email": str(event.email.code), "event": str(event.code)}


# --- the server and the browser -----------------------------------------------------------------


@contextlib.contextmanager
def _server(log_path: Path) -> Iterator[int]:
    """The web server as the browser tests start theirs (live_server_url): gunicorn with
    tests.browser.server_settings, which serves static files from the finders."""
    from django.conf import settings

    from tests.browser.conftest import _free_port, _wait_until_serving

    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.server_settings",
        "PROJECTR_BROWSER_DB_NAME": DATABASE,
        "BASE_DOMAIN": settings.BASE_DOMAIN,
        "PUBLIC_PORT": str(port),
        "SITE_SCHEME": "http",
    }
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*command, "--workers", "1", "--threads", "4"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_serving(port, process, log_path)
            yield port
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class _Unblocked:
    """session_cookie() takes pytest-django's blocker; outside pytest nothing is blocked."""

    def unblock(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


def _pngquant() -> str:
    found = shutil.which("pngquant")
    if found:
        return found
    if can_install():
        print("▸ installing Debian's pngquant …", flush=True)
        apt_install("pngquant")
        found = shutil.which("pngquant")
        if found:
            return found
    raise SystemExit("pngquant is needed to keep the images small: apt-get install pngquant (or brew install pngquant)")


def _squeeze(pngquant: str, source: Path, target: Path) -> None:
    # 256 colours at most; a flat UI keeps its text crisp at these qualities.
    result = subprocess.run(
        [pngquant, "--quality=55-90", "--speed=1", "--strip", "--force", "--output", str(target), str(source)],
        check=False,
    )
    if result.returncode == 99:  # the quality floor not reached: keep it as good as pngquant can
        subprocess.run([pngquant, "--speed=1", "--strip", "--force", "--output", str(target), str(source)], check=True)
    elif result.returncode != 0:
        raise SystemExit(f"pngquant failed on {source} ({result.returncode})")


def _clip(page: Any, shot: Shot, width: int) -> dict[str, float]:
    """The part of the full page to keep: from the top, or up to a little past the anchor."""
    full = float(page.evaluate("document.documentElement.scrollHeight"))
    bottom = min(full, MAX_HEIGHT[width])
    if shot.anchor:
        box = page.locator(shot.anchor).first.bounding_box()
        if box is None:
            raise SystemExit(f"{shot.name}: nothing on the page matches {shot.anchor}")
        # bounding_box() is relative to the viewport; the clip to the whole page.
        anchor_bottom = box["y"] + box["height"] + float(page.evaluate("window.scrollY"))
        bottom = min(full, max(bottom, anchor_bottom + ANCHOR_MARGIN))
    top = max(0.0, bottom - MAX_HEIGHT[width])
    return {"x": 0, "y": top, "width": width, "height": bottom - top}


def _capture(organization: Any, port: int, wanted: list[Shot], workdir: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from accounts.models import User
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, BrowserWorld, session_cookie

    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} is missing: `make screenshots` installs it (scripts/ensure_chromium.py)")
    pngquant = _pngquant()
    codes = _targets(organization)
    world = BrowserWorld(org=organization, users={}, base_url=f"http://{organization.host}:{port}")
    owner = User.objects.get(email="owner@acme.test")
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width, height in WIDTHS.items():
                context = browser.new_context(viewport={"width": width, "height": height}, timezone_id="UTC")
                context.set_default_timeout(15_000)
                context.add_cookies([session_cookie(world, owner, _Unblocked())])
                page = context.new_page()
                # The first page takes the browser's time zone for the owner and reloads once.
                page.goto(world.url("/agenda/"), wait_until="networkidle")
                for shot in wanted:
                    response = page.goto(world.url(shot.path.format(**codes)), wait_until="networkidle")
                    if response is None or response.status != 200:
                        status = response.status if response else "no response"
                        raise SystemExit(f"{shot.name}: {shot.path} answered {status}")
                    raw = workdir / f"{shot.name}_{width}.png"
                    page.screenshot(path=str(raw), full_page=True, clip=_clip(page, shot, width))
                    target = OUT / raw.name
                    _squeeze(pngquant, raw, target)
                    written.append(target)
                    print(f"  {target.relative_to(ROOT)}  {target.stat().st_size / 1024:.0f} KB", flush=True)
                context.close()
        finally:
            browser.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated page names (default: all)")
    parser.add_argument("--keep-database", action="store_true", help=f"leave {DATABASE} for a look afterwards")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="projectr-screenshots-") as temporary:
        workdir = Path(temporary)
        os.environ.update(ENVIRONMENT, MEDIA_ROOT=str(workdir / "media"))
        os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(48))
        os.environ.setdefault("ANYMAIL_WEBHOOK_SECRET", f"screenshots:{secrets.token_urlsafe(16)}")
        os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
        # Playwright's sync API runs an event loop in this thread; these ORM calls are plain sync.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()

        wanted = shots()
        if arguments.only:
            names = set(arguments.only.split(","))
            wanted = [shot for shot in wanted if shot.name in names]
            if not wanted:
                parser.error(f"--only names none of: {', '.join(s.name for s in shots())}")

        _database_recreate()
        try:
            organization = _seed(workdir / "data")
            with _server(workdir / "server.log") as port:
                written = _capture(organization, port, wanted, workdir)
        finally:
            if not arguments.keep_database:
                _database_recreate(drop_only=True)
    total = sum(path.stat().st_size for path in written)
    print(f"▸ {len(written)} images, {total / 1024:.0f} KB, in {OUT.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
