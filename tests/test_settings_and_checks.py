"""Deployment safety: the CSP admits the tile server; demo mode fails the deploy check."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from placewise.core.middleware import tile_source


@pytest.mark.parametrize(
    "url,expected",
    [
        ("", ""),
        ("https://tiles.force.police.uk/osm/{z}/{x}/{y}.png", "https://tiles.force.police.uk"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("https://tile-{s}.example.org/{z}/{x}/{y}.png", "https:"),
        ("not a url", ""),
    ],
)
def test_tile_source(url, expected):
    assert tile_source(url) == expected


def run_check(tmp_path, **env):
    exe = Path(sys.executable).with_name("placewise")
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "PLACEWISE_DEMO"}}
    base |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}",
        "ALLOWED_HOSTS": "x.example",
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_HSTS_PRELOAD": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    return subprocess.run(
        [exe, "check", "--deploy", "--fail-level", "WARNING"],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_deploy_check_clean_with_production_settings(tmp_path):
    result = run_check(tmp_path, DEBUG="false", PLACEWISE_DEMO="false")
    assert result.returncode == 0, result.stderr


def test_deploy_check_fails_in_demo_mode(tmp_path):
    result = run_check(tmp_path, DEBUG="false", PLACEWISE_DEMO="true")
    assert result.returncode != 0 and "placewise.E001" in result.stderr


def test_missing_secret_key_is_refused_without_debug(tmp_path):
    exe = Path(sys.executable).with_name("placewise")
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY"}} | {"DEBUG": "false"}
    result = subprocess.run([exe, "check"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SECRET_KEY must be set" in result.stderr
