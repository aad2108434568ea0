"""Alembic migrations on real databases: SQLite always, PostgreSQL when TEST_DATABASE_URL is set.

The central check: after `alembic upgrade head` the database matches SQLModel.metadata exactly,
so a model change without a migration fails here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from pprint import pformat
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import backend.models  # noqa: F401  (registers every table on SQLModel.metadata)
from backend.core.config import get_settings
from backend.core.db import make_engine
from backend.models import FeeTier, Merchant, Payment

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"

EXPECTED_FEE_TIERS = [
    ("starter", "Starter", 1, 30_000, 0, "USD", "Default for new merchants"),
    ("professional", "Professional", 2, 15_000, 0, "USD", "Reduced fees for established merchants"),
    ("enterprise", "Enterprise", 3, 5_000, 0, "USD", "Minimal fees for high-volume merchants"),
]


def alembic_config(url: str | None = None, **kwargs: Any) -> Config:
    cfg = Config(ALEMBIC_INI, **kwargs)
    cfg.attributes["configure_logger"] = False  # leave pytest's logging alone
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser escaping
    return cfg


def schema_diff(engine: Engine, metadata: sa.MetaData = SQLModel.metadata) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def table_names(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database of each kind: a SQLite file, or a fresh PostgreSQL database."""
    fixture = "sqlite_url" if request.param == "sqlite" else "fresh_postgres_url"
    return request.getfixturevalue(fixture)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    yield engine
    engine.dispose()


def test_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"migration history has branched: {heads}"


def test_upgrade_head_matches_models(database_url: str, engine: Engine) -> None:
    command.upgrade(alembic_config(database_url), "head")

    diff = schema_diff(engine)
    assert diff == [], "models and migrations disagree; add a migration:\n" + pformat(diff)


def test_fee_tiers_are_seeded(database_url: str, engine: Engine) -> None:
    command.upgrade(alembic_config(database_url), "head")

    with Session(engine) as session:
        tiers = session.exec(select(FeeTier).order_by(FeeTier.level)).all()
    assert [
        (t.id, t.name, t.level, t.percent_pips, t.fixed_fee, t.fixed_fee_currency, t.description)
        for t in tiers
    ] == EXPECTED_FEE_TIERS
    for tier in tiers:
        assert tier.created_at.tzinfo == UTC
        assert abs(datetime.now(UTC) - tier.created_at) < timedelta(minutes=5)


def test_downgrade_base_then_upgrade_again(database_url: str, engine: Engine) -> None:
    cfg = alembic_config(database_url)
    command.upgrade(cfg, "head")

    command.downgrade(cfg, "base")
    assert table_names(engine) == {"alembic_version"}

    command.upgrade(cfg, "head")
    diff = schema_diff(engine)
    assert diff == [], pformat(diff)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM fee_tiers")).scalar_one() == 3


def test_comparison_detects_a_column_without_migration(database_url: str, engine: Engine) -> None:
    """The guard above is only worth something if it notices drift; prove that it does."""
    command.upgrade(alembic_config(database_url), "head")

    drifted = sa.MetaData()
    for table in SQLModel.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["payments"].append_column(sa.Column("loyalty_points", sa.BigInteger))
    sa.Table("loyalty_programs", drifted, sa.Column("id", sa.String(40), primary_key=True))

    diff = schema_diff(engine, drifted)
    summary = {(d[0], d[2], d[3].name) if d[0] == "add_column" else (d[0], d[1].name) for d in diff}
    assert summary == {
        ("add_column", "payments", "loyalty_points"),
        ("add_table", "loyalty_programs"),
    }


def test_migrated_schema_round_trips_money_and_time(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
    engine = make_engine(database_url)  # the application's engine (SQLite foreign keys on)
    big = 2**31 + 12_345
    created = datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=5)))
    try:
        with Session(engine) as session:
            session.add(Merchant(id="mer_1", name="Shop", support_email="help@shop.test"))
            session.flush()  # the merchant's default fee tier must exist: it is seeded
            session.add(
                Payment(
                    id="pay_1",
                    merchant_id="mer_1",
                    currency="IDR",
                    amount=big,
                    metadata_={"order": "A-1", "tags": ["x"]},
                    created_at=created,
                )
            )
            session.commit()
        with Session(engine) as session:
            payment = session.get(Payment, "pay_1")
            merchant = session.get(Merchant, "mer_1")
        assert payment is not None and merchant is not None
        assert merchant.fee_tier_id == "starter"
        assert payment.amount == big and isinstance(payment.amount, int)
        assert payment.created_at == created and payment.created_at.tzinfo == UTC
        assert payment.metadata_ == {"order": "A-1", "tags": ["x"]}
    finally:
        engine.dispose()


def test_url_comes_from_settings_when_not_set_on_config(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    try:
        command.upgrade(alembic_config(), "head")
    finally:
        get_settings.cache_clear()

    engine = sa.create_engine(sqlite_url, poolclass=sa.pool.NullPool)
    try:
        assert {"alembic_version", "fee_tiers", "payments"} <= table_names(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "target", "expected"),
    [
        # Later SQLite revisions alter tables in batch mode, which must reflect a live database.
        ("sqlite://", "0001", ["CREATE TABLE payments", "amount BIGINT NOT NULL"]),
        (
            "postgresql://user@db.invalid/payportal",
            "head",
            ["CREATE TABLE payments", "amount BIGINT NOT NULL", "TIMESTAMP WITH TIME ZONE"],
        ),
    ],
)
def test_offline_mode_renders_sql(url: str, target: str, expected: list[str]) -> None:
    """`alembic upgrade --sql` needs no database, only the dialect."""
    buffer = io.StringIO()
    command.upgrade(alembic_config(url, output_buffer=buffer), target, sql=True)

    sql = buffer.getvalue()
    for fragment in [*expected, "INSERT INTO fee_tiers", "'starter'", "'enterprise'"]:
        assert fragment in sql
