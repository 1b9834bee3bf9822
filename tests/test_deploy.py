"""The deployment kit (deploy/): nginx accepts its configuration, the compose file runs N
replicas on one data volume behind the proxy with health checks, the image runs as a
non-root user, and the service unit serves the ASGI entrypoint."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from benchmarks.replicas import NGINX_CONF, render_nginx_conf

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _nginx_test(conf: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [NGINX, "-t", "-q", "-e", "stderr", "-p", str(prefix), "-c", str(conf)],
        capture_output=True, text=True, timeout=30, check=False,
    )


@pytest.fixture
def nginx() -> str:
    if not Path(NGINX).exists():
        pytest.skip("nginx is missing; scripts/test installs Debian's nginx package")
    return NGINX


def test_nginx_accepts_the_config_with_loopback_replicas(nginx: str, tmp_path: Path) -> None:
    conf = tmp_path / "nginx.conf"
    conf.write_text(render_nginx_conf(["127.0.0.1:18501", "127.0.0.1:18502"], "127.0.0.1:18080", tmp_path))
    result = _nginx_test(conf, tmp_path)
    assert result.returncode == 0, result.stderr
    text = conf.read_text()
    assert "server 127.0.0.1:18501 max_fails=1" in text and "server 127.0.0.1:18502 max_fails=1" in text
    assert "server app:8501" not in text


def test_nginx_rejects_a_broken_config(nginx: str, tmp_path: Path) -> None:
    """The check above can fail: the same render with a typo is refused."""
    conf = tmp_path / "nginx.conf"
    text = render_nginx_conf(["127.0.0.1:18501"], "127.0.0.1:18080", tmp_path)
    conf.write_text(text.replace("proxy_http_version 1.1;", "proxy_http_versio 1.1;", 1))
    result = _nginx_test(conf, tmp_path)
    assert result.returncode != 0 and "proxy_http_versio" in result.stderr


def test_the_proxy_keeps_sessions_on_one_replica_and_upgrades_websockets() -> None:
    text = NGINX_CONF.read_text()
    upstream = re.search(r"upstream asi_app \{(.*?)\n    \}", text, re.DOTALL).group(1)
    assert "hash $asi_route consistent;" in upstream
    assert "$cookie_asi_route" in text and "add_header Set-Cookie $asi_route_cookie;" in text
    stream = re.search(r"location /_stcore/stream \{(.*?)\}", text, re.DOTALL).group(1)
    assert "proxy_set_header Upgrade $http_upgrade;" in stream
    assert "proxy_set_header Connection $connection_upgrade;" in stream
    assert re.search(r"location = /_app/metrics \{\s*return 404;", text)  # never public


def test_render_refuses_no_replicas(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one replica"):
        render_nginx_conf([], "127.0.0.1:18080", tmp_path)


def test_compose_runs_replicas_behind_nginx_on_one_data_volume() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    app, proxy, ingest = services["app"], services["proxy"], services["ingest"]

    assert str(app["deploy"]["replicas"]) == "${ASI_REPLICAS:-2}"
    assert app["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert "asi-data:/data" in app["volumes"] and "asi-data" in compose["volumes"]
    assert "asi-data:/data" in ingest["volumes"] and ingest["profiles"] == ["tools"]
    assert app["environment"]["ASI_DATA_DIR"] == "/data"
    assert app["environment"]["ASI_ALLOW_ROLE_SWITCH"] == "0"  # real data: never a role switch
    health = app["healthcheck"]
    assert "/_app/ready" in " ".join(health["test"]) and health["interval"] and health["retries"] >= 1
    assert "ports" not in app  # replicas are reached through the proxy only

    assert proxy["image"].startswith("nginx:")
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in proxy["volumes"]
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    assert proxy["ports"] == ["${ASI_HTTP_PORT:-80}:8080"]
    listen = re.search(r"^\s*listen (\S+);", NGINX_CONF.read_text(), re.MULTILINE).group(1)
    assert listen == "8080"
    assert "server app:8501" in NGINX_CONF.read_text()  # the compose service name and port

    secret = compose["secrets"]["streamlit_secrets"]["file"]
    assert (DEPLOY / secret.split(":-")[1].rstrip("}")).is_file()


def test_the_image_runs_as_a_non_root_user_with_a_health_check() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.MULTILINE)
    user = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert user and user[-1] not in {"root", "0"}
    assert re.search(r"^VOLUME \[\"/data\"\]$", text, re.MULTILINE)
    assert "HEALTHCHECK" in text and "/_app/ready" in text
    assert "asi_me.ui.asgi:app" in text
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    assert "data/" in ignored and ".streamlit/secrets.toml" in ignored


def test_the_service_unit_serves_the_asgi_entrypoint_unprivileged() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(DEPLOY / "asi-explorer@.service")
    service = unit["Service"]
    assert service["User"] == "asi" and service["NoNewPrivileges"] == "true"
    assert "asi_me.ui.asgi:app" in service["ExecStart"] and "--port %i" in service["ExecStart"]
    assert service["Restart"] == "always"
    assert unit["Install"]["WantedBy"] == "multi-user.target"
