"""rxconfig.py follows the settings; backend/ stays free of Reflex."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import pytest

from tests.support import ROOT

_PROBE = (
    "import json, rxconfig; c = rxconfig.config; "
    "m = c.state_manager_mode; "
    "print(json.dumps({'mode': getattr(m, 'value', m), 'redis': c.redis_url, "
    "'badge': c.show_built_with_reflex, 'api': c.api_url, 'port': c.frontend_port}))"
)


def read_config(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "APP_URL"}}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_worker_in_memory_by_default_and_no_badge():
    config = read_config()
    assert config["mode"] == "memory"
    assert config["redis"] is None
    assert config["badge"] is False
    assert config["port"] == 3000


def test_redis_url_switches_reflex_to_redis_state():
    config = read_config(REDIS_URL="redis://127.0.0.1:6379/3", APP_URL="https://pay.example.com")
    assert config["mode"] == "redis"
    assert config["redis"] == "redis://127.0.0.1:6379/3"
    assert config["api"] == "https://pay.example.com"


@pytest.mark.parametrize("path", sorted((ROOT / "backend").rglob("*.py")), ids=lambda p: p.name)
def test_backend_never_imports_reflex(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        assert not any(n == "reflex" or n.startswith("reflex.") for n in names), path
