"""The deployment files: compose.yaml is a valid Compose file for web, worker, PostgreSQL and
Redis, and the GitHub Actions workflow runs what .ci/run runs.

`docker compose config` loads the YAML (merging `<<` keys), interpolates `${VAR:-default}`
from the environment, then validates the result against the Compose Specification. The tests
take the same three steps, the last with compose_spec (a Rust implementation of the
specification), since the Docker CLI is not part of the test environment.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from compose_spec import PyCompose

from tests.conftest import ROOT

COMPOSE = ROOT / "compose.yaml"
# Compose's own variables, not the application's.
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "Q_WORKERS"}
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${NAME}` / `${NAME:-default}`; any other use of `$` is a mistake here."""
    resolved = VARIABLE.sub(lambda m: env.get(m["name"]) or m["default"] or "", text)
    assert "$" not in resolved, "compose.yaml uses an interpolation form these tests do not know"
    return resolved


def compose_config(env: dict[str, str] | None = None) -> dict[str, Any]:
    merged = yaml.safe_load(COMPOSE.read_text())  # resolves the `<<` merge keys
    loaded: dict[str, Any] = yaml.safe_load(interpolate(yaml.safe_dump(merged), env or {}))
    return loaded


def validate(config: dict[str, Any]) -> PyCompose:
    return PyCompose.from_yaml(yaml.safe_dump(config))


SERVICES = ["db", "proxy", "redis", "web", "worker"]


def test_compose_yaml_follows_the_compose_specification_with_and_without_a_dot_env():
    assert sorted(validate(compose_config()).service_names()) == SERVICES
    production = {"SECRET_KEY": "s" * 50, "BASE_DOMAIN": "projectr.example", "POSTGRES_PASSWORD": "pw"}
    assert sorted(validate(compose_config(production)).service_names()) == SERVICES


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("services", "web", "restart"), "sometimes"),
        (("services", "db", "healthcheck", "interval"), "soon"),
        (("services", "web", "depends_on", "db", "condition"), "when_ready"),
    ],
)
def test_the_specification_check_rejects_a_broken_compose_file(path, value):
    config = compose_config()
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ValueError, match=path[-1]):
        validate(config)


def test_web_and_worker_run_one_image_on_postgresql_and_redis_once_both_are_healthy():
    services = compose_config()["services"]
    web, worker = services["web"], services["worker"]
    assert web["image"] == worker["image"] and web["build"] == worker["build"] == "."
    assert worker["command"] == ["python", "manage.py", "qcluster"]
    for service in (web, worker):
        assert service["environment"]["DATABASE_URL"].endswith("@db:5432/projectr")
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
    assert services["db"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")


def host_ports(service: dict[str, Any]) -> list[str]:
    """The host side of each published port ("8000:8000" and the long form alike)."""
    published = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            published.append(str(port.get("published", "")))
        else:
            parts = str(port).split(":")
            published.append(parts[-2] if len(parts) > 1 else "")
    return published


def test_web_and_worker_scale_with_docker_compose_scale_behind_the_one_published_port():
    """`docker compose up --scale web=2 --scale worker=2`: a fixed container name or a fixed host
    port on a scaled service makes its second replica fail to start."""
    services = compose_config()["services"]
    for name in ("web", "worker"):
        assert "container_name" not in services[name], name
        assert host_ports(services[name]) == [], f"{name} publishes a host port: its second replica cannot bind it"
    published = [port for service in services.values() for port in host_ports(service)]
    assert len(published) == len(set(published)), published
    proxy = services["proxy"]
    assert host_ports(proxy) == ["8000"] and services["web"]["expose"] == ["8000"]
    assert "container_name" not in proxy and "deploy" not in proxy  # one proxy: `--scale` is for web


def test_the_proxy_finds_every_web_replica_at_run_time_and_passes_forwarded_headers_through():
    proxy = compose_config()["services"]["proxy"]
    source, target = proxy["volumes"][0].split(":")[:2]
    assert target == "/etc/nginx/conf.d/default.conf"
    conf = (ROOT / source).read_text()
    directives = [line.split("#")[0].strip() for line in conf.splitlines() if line.split("#")[0].strip()]
    # Through a variable nginx resolves `web` per request with Docker's DNS, which answers with
    # every replica; a literal `proxy_pass http://web:8000` is resolved once at start-up.
    assert "resolver 127.0.0.11 valid=10s ipv6=off;" in directives
    assert "set $web http://web:8000;" in directives and "proxy_pass $web;" in directives
    assert "proxy_set_header Host $http_host;" in directives
    # TRUSTED_PROXY_COUNT counts the proxies in front of it: it must add no X-Forwarded-For entry.
    assert not any("X-Forwarded" in directive for directive in directives)
    # The webhook checks credentials before reading a body: nginx must not buffer it first.
    assert "proxy_request_buffering off;" in directives and "client_max_body_size 0;" in directives


def test_every_application_variable_compose_passes_is_documented_in_env_example():
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    passed = {m["name"] for m in VARIABLE.finditer(COMPOSE.read_text())} - COMPOSE_ONLY
    assert passed and passed <= documented, sorted(passed - documented)


def test_the_github_workflow_runs_what_ci_runs():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    steps = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert "bash .ci/run" in steps
    assert "make test" in (ROOT / ".ci" / "run").read_text()
