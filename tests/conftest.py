"""Shared fixtures: database and Redis URLs. Backends that are not configured skip their tests."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, pool, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.config import normalise_database_url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """TEST_DATABASE_URL as a SQLAlchemy URL (postgresql+psycopg://...). A shared database."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL not set: PostgreSQL tests skipped")
    return normalise_database_url(url)


@pytest.fixture(scope="session")
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL not set: Redis tests skipped")
    return url


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped after the test.

    Created beside the shared TEST_DATABASE_URL database (same server and credentials), so
    tests that need an empty schema, such as migrations, never clobber it.
    """
    name = f"payportal_test_{secrets.token_hex(6)}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        # FORCE (PostgreSQL 13+) ends sessions a test left open instead of failing the drop.
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A file-backed SQLite database in the test's temporary directory (created on first use)."""
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(scope="session")
def _migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file migrated to head; each test gets a copy (faster than migrating again)."""
    from tests.support import migrate

    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def db_engine(_migrated_sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a fresh, migrated SQLite database (the fee tiers are seeded)."""
    from backend.db import make_engine

    path = tmp_path / "app.db"
    shutil.copyfile(_migrated_sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def db(db_engine: Engine) -> Iterator[Session]:
    """A session on a fresh migrated database; commit freely, the database is thrown away."""
    with Session(db_engine, expire_on_commit=False) as session:
        yield session
