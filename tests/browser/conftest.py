"""Browser tests: a real gunicorn serving the test database, driven by Debian's Chromium.

- The server is a separate process, so everything it must see is committed: the browser
  workspace ("browserorg") and its people are created once per session outside any test
  transaction, and dropped again at the end (and at the start, in case a run was killed).
- Chromium resolves *.localhost to loopback, so the workspace is http://browserorg.localhost:<port>/.
- Without /usr/bin/chromium the tests skip with the reason; with CI set they fail instead.
- Every test gets a fresh browser context (its own cookies) and a page that records dialogs,
  console errors and page errors, so a test can prove that no script ran.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from organizations.models import Invitation, Membership, Organization, Role
from organizations.services import organization_create, platform_ensure, schema_name_for

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
# Debian's Chromium; PROJECTR_CHROMIUM points elsewhere (another distribution, macOS).
CHROMIUM = os.environ.get("PROJECTR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-background-networking", "--disable-gpu"]
SLUG = "browserorg"
EMAIL_DOMAIN = f"{SLUG}.test"
PASSWORD = "correct horse battery staple"
ROLES = ("owner", "admin", "member", "viewer")
SERVER_START_TIMEOUT = 60.0


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> str:
    if not os.path.exists(CHROMIUM):
        reason = f"chromium not installed: {CHROMIUM} is missing (scripts/ensure_chromium.py installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the browser tests")
        print(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django then refuses ORM calls
    # ("SynchronousOnlyOperation") although they are plain synchronous calls from the test.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


# --- the committed workspace -------------------------------------------------------------------


@pytest.fixture(scope="session")
def test_database(
    django_db_setup: Any, django_db_blocker: Any, django_db_keepdb: bool, django_db_createdb: bool
) -> Iterator[str]:
    """The test database's name, set up here when pytest-django did not do it.

    pytest-django creates the test database only when a selected test asks for `db`; a run of
    browser tests alone asks for none, and everything below would land in the development
    database (the one `make run` serves).
    """
    creation = connection.creation
    if connection.settings_dict["NAME"] == creation._get_test_db_name():
        yield str(connection.settings_dict["NAME"])
        return
    old_name = connection.settings_dict["NAME"]
    keepdb = django_db_keepdb and not django_db_createdb
    with django_db_blocker.unblock():
        creation.create_test_db(verbosity=0, autoclobber=True, keepdb=keepdb, serialize=False)
    yield str(connection.settings_dict["NAME"])
    with django_db_blocker.unblock():
        creation.destroy_test_db(old_name, verbosity=0, keepdb=keepdb)


@dataclass
class BrowserWorld:
    org: Organization
    users: dict[str, User]
    base_url: str = ""

    def user(self, role: str) -> User:
        return self.users[role]

    def url(self, path: str = "/") -> str:
        return f"{self.base_url}{path}"


def _schema_exists(schema: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name = %s", [schema])
        return cursor.fetchone() is not None


def delete_users(**filters: Any) -> None:
    """Delete users; the cascade reaches tenant tables (events they edited), so it runs with
    a tenant schema on the search path."""
    connection.set_schema_to_public()
    # Any tenant schema gives the collector the tables; ours holds the rows, the (empty)
    # template stands in when a killed run left users behind without the workspace.
    for schema in (schema_name_for(SLUG), settings.TENANT_BASE_SCHEMA):
        if _schema_exists(schema):
            connection.set_schema(schema)
            break
    try:
        User.objects.filter(**filters).delete()
    finally:
        connection.set_schema_to_public()


def _drop_browser_workspace() -> None:
    schema = schema_name_for(SLUG)
    delete_users(email__iendswith=f"@{EMAIL_DOMAIN}")
    for organization in Organization.objects.filter(slug=SLUG):
        organization.delete(force_drop=True)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def make_user(email: str, *, password: str = PASSWORD) -> User:
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture(scope="session")
def browser_world(chromium: str, test_database: str, django_db_blocker: Any) -> Iterator[BrowserWorld]:
    from billing.services import plans_ensure

    with django_db_blocker.unblock():
        _drop_browser_workspace()
        platform_ensure()
        plans_ensure()
        onboarding = organization_create(
            name="Browser Studio", slug=SLUG, owner_email=f"owner@{EMAIL_DOMAIN}", send_invitation=False
        )
        organization = onboarding.organization
        # The owner "accepted" the onboarding invitation: they are created as a member below.
        Invitation.objects.filter(organization=organization).update(accepted_at=timezone.now())
        users = {}
        for role in ROLES:
            users[role] = make_user(f"{role}@{EMAIL_DOMAIN}")
            Membership.objects.create(user=users[role], organization=organization, role=Role(role))
        connection.set_schema_to_public()
    yield BrowserWorld(org=organization, users=users)
    with django_db_blocker.unblock():
        _drop_browser_workspace()


@pytest.fixture(scope="session")
def db_blocker(django_db_blocker: Any) -> Any:
    """Session-scoped handle for committing data from tests (`with db_blocker.unblock(): ...`)."""
    return django_db_blocker


# --- the server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": settings.BASE_DOMAIN})
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the test web server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - our own local server
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(
        f"the test web server did not answer within {SERVER_START_TIMEOUT:.0f}s:\n{log_path.read_text()[-3000:]}"
    )


@pytest.fixture(scope="session")
def live_server_url(chromium: str, test_database: str) -> Iterator[str]:
    """http://localhost:<port> — a gunicorn on the test database; workspaces are <slug>.localhost:<port>."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.browser.server_settings",
        "PROJECTR_BROWSER_DB_NAME": test_database,
        "DEBUG": "false",
        "BASE_DOMAIN": settings.BASE_DOMAIN,
        "PUBLIC_PORT": str(port),
        "SITE_SCHEME": "http",
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_MANIFEST": "false",
        "PYTHONUNBUFFERED": "1",
    }
    # One log per test database: parallel sessions (other engineers, xdist) keep their own.
    log_path = ARTIFACTS / f"server-{test_database}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line, no outside input
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--access-logfile",
                "-",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(port, process, log_path)
            yield f"http://{settings.BASE_DOMAIN}:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="session")
def world(browser_world: BrowserWorld, live_server_url: str) -> BrowserWorld:
    port = live_server_url.rsplit(":", 1)[1]
    browser_world.base_url = f"http://{browser_world.org.host}:{port}"
    return browser_world


# --- pages ----------------------------------------------------------------------------------


@dataclass
class Recorder:
    """What a page did that a test may need to prove did not happen."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    # Responses >= 400, the favicon's included (base.html links one).
    failed_responses: list[str] = field(default_factory=list)

    def nothing_ran(self) -> bool:
        return not (self.dialogs or self.page_errors)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    # UTC whatever the machine's zone: a person without a zone takes the browser's on their first
    # page (static/js/timezone.js), which reloads that page when it differs from the page's UTC.
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any, recorder: Recorder) -> Any:
    page = context.new_page()

    def on_dialog(dialog: Any) -> None:
        recorder.dialogs.append(f"{dialog.type}: {dialog.message}")
        # hx-confirm asks through window.confirm; the tests answer yes.
        dialog.accept()

    def on_console(message: Any) -> None:
        # A failed load is also a console error; failed_responses names the URL.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            recorder.console_errors.append(message.text)

    def on_response(response: Any) -> None:
        if response.status >= 400:
            recorder.failed_responses.append(f"{response.status} {response.url}")

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda error: recorder.page_errors.append(str(error)))
    return page


def session_cookie(world: BrowserWorld, user: User, db_blocker: Any) -> dict[str, str]:
    """A signed-in session for the workspace host, as a Playwright cookie (no sign-in form)."""
    with db_blocker.unblock():
        client = Client(HTTP_HOST=world.org.host)
        client.force_login(user)
        connection.set_schema_to_public()
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return {"name": settings.SESSION_COOKIE_NAME, "value": value, "url": world.url("/")}


@pytest.fixture
def sign_in(context: Any, world: BrowserWorld, db_blocker: Any) -> Callable[[User], None]:
    """sign_in(user): give the browser a session for the workspace host without the sign-in form."""

    def do(user: User) -> None:
        context.add_cookies([session_cookie(world, user, db_blocker)])

    return do


def screenshot(page: Any, name: str) -> None:
    """Write tests/artifacts/<name>.png (every run, so a reviewer can look at each main page)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
