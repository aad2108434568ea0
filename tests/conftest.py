"""Shared fixtures: database and Redis URLs. Backends that are not configured skip their tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.core.config import normalise_database_url

# Support modules that are plugins (fixtures) and imported for helpers too: rewrite their asserts.
pytest.register_assert_rewrite("tests.integration.paypal_support")

# backend.core.jobs builds its Huey when first imported: tests run tasks inline in memory, and never
# write a queue file into the project.
os.environ.setdefault("JOBS_BACKEND", "memory")
# The payout rail's twin keeps its state in each test process's memory (no file in the project)
# and moves transfers only when a test says so (`advance`), never by the clock.
os.environ.setdefault("SANDBOX_RAIL_PATH", ":memory:")
os.environ.setdefault("SANDBOX_RAIL_POST_SECONDS", "off")
os.environ.setdefault("SANDBOX_RAIL_SETTLE_SECONDS", "off")


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
    """The URL of a new, empty PostgreSQL database beside the shared TEST_DATABASE_URL one
    (same server and credentials), dropped after the test, so tests that need an empty schema,
    such as migrations, never clobber it."""
    from tests.support import scratch_postgres_database

    with scratch_postgres_database(postgres_url) as url:
        yield url


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
    from backend.core import throttle
    from backend.core.db import make_engine

    throttle._limiter.cache_clear()  # a fresh database, fresh per-process rate-limit counters
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


def _reset_caches() -> None:
    """Settings, engine and per-process singletons read the environment once: start afresh."""
    from backend.api import deps
    from backend.core import throttle, ttl_cache
    from backend.core.config import get_settings
    from backend.core.db import get_engine
    from backend.services.payments import routing

    for cached in (get_settings, get_engine, routing._build, deps._limiter, throttle._limiter):
        cached.cache_clear()
    ttl_cache.clear_all()


@pytest.fixture(scope="session")
def _migrated_postgres(postgres_url: str) -> Iterator[str]:
    """One PostgreSQL database migrated to head for the session; tests use their own merchants."""
    from tests.support import migrate, scratch_postgres_database

    with scratch_postgres_database(postgres_url, "payportal_api") as url:
        migrate(url)
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def app_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of each kind for whole-application tests."""
    if request.param == "sqlite":
        template = request.getfixturevalue("_migrated_sqlite_template")
        path = tmp_path / "app.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("_migrated_postgres")


@pytest.fixture
def configured_app(app_database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The backend configured for app_database (as DATABASE_URL would), caches reset around."""
    monkeypatch.setenv("DATABASE_URL", app_database)
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    _reset_caches()
    yield app_database
    from backend.core.db import get_engine

    get_engine().dispose()
    _reset_caches()
