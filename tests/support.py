"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parents[1]
ALEMBIC_INI = ROOT / "alembic.ini"


def alembic_config(url: str | None = None, **kwargs: Any) -> Config:
    cfg = Config(ALEMBIC_INI, **kwargs)
    cfg.attributes["configure_logger"] = False  # leave pytest's logging alone
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escaping
    return cfg


def migrate(url: str) -> None:
    """`alembic upgrade head` on the database at url."""
    command.upgrade(alembic_config(url), "head")
