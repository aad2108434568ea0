"""Helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def scratch_postgres_database(server_url: str, prefix: str = "payportal_test") -> Iterator[str]:
    """A new, empty database on the server of server_url, dropped afterwards (even if sessions
    were left open: DROP ... WITH (FORCE), PostgreSQL 13+)."""
    from sqlalchemy import create_engine, make_url, pool, text

    from backend.core.config import normalise_database_url

    server_url = normalise_database_url(server_url)
    name = f"{prefix}_{secrets.token_hex(6)}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
