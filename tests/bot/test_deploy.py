"""The deployment recipes agree with the settings: no variable the bot would silently ignore."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from bot.settings import HINTS, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
#: Variables read by docker compose itself (not by the bot).
COMPOSE_ONLY = {
    "POSTGRES_PASSWORD",
    "BOT_REPLICAS",
    "TLS_CERT_DIR",
    "TELEGRAM_API_ID",
    "TELEGRAM_API_HASH",
}


def _assigned(path: Path) -> set[str]:
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", path.read_text(), re.M))


def _fields() -> set[str]:
    return {name.upper() for name in Settings.model_fields}


def test_every_setting_is_documented_in_the_env_example() -> None:
    assert _fields() == _assigned(ROOT / ".env.example")


def test_every_deployment_setting_has_a_hint() -> None:
    deployment = {
        f
        for f in _fields()
        if f.startswith(("TELEGRAM_", "WEBHOOK_", "METRICS_", "MIGRATE_", "BOT_MODE", "STARTUP_"))
    }
    assert deployment <= set(HINTS), deployment - set(HINTS)


def test_the_env_template_and_compose_file_name_only_real_settings() -> None:
    assert _assigned(DEPLOY / "env.template") <= _fields() | COMPOSE_ONLY
    compose = (DEPLOY / "docker-compose.yml").read_text()
    bot_keys = set(re.findall(r"^      ([A-Z][A-Z0-9_]+): ", compose, re.M))
    server_side = {"POSTGRES_USER", "POSTGRES_DB", "NODE_ENV", "CACHE_TYPE", "CACHE_EXPIRE"}
    assert bot_keys - server_side <= _fields() | COMPOSE_ONLY | {"TELEGRAM_LOCAL"}
    for variable in re.findall(r"\$\{([A-Z_]+)", compose):
        assert variable in COMPOSE_ONLY, variable


def test_nginx_serves_the_webhook_path_of_the_env_template() -> None:
    template = (DEPLOY / "env.template").read_text()
    url = re.search(r"^WEBHOOK_URL=(\S+)", template, re.M)
    assert url is not None
    path = "/" + url.group(1).split("://", 1)[1].split("/", 1)[1]
    assert f"location = {path} " in (DEPLOY / "nginx" / "gov-media-bot.conf").read_text()


def test_the_image_copies_every_package_the_project_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (DEPLOY / "Dockerfile").read_text(), re.M))
    assert packages <= copied, packages - copied
