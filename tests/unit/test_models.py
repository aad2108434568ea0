"""The SQLModel tables on in-memory SQLite, the UTCDateTime type and backend.core.ids."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session, SQLModel

from backend.core import ids
from backend.core.db import make_engine
from backend.models import FeeTier, Membership, Merchant, Payment, User, UTCDateTime
from backend.models.enums import Role

BIG = 2**31 + 1_000_000  # does not fit a 32-bit INTEGER


@pytest.fixture
def engine() -> Iterator[Engine]:
    engine = make_engine("sqlite://")  # the application's engine: foreign keys enforced
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        session.add(FeeTier(id="starter", name="Starter", level=1, percent_pips=30_000))
        session.commit()
        yield session


def add_merchant(session: Session, merchant_id: str = "mer_1") -> Merchant:
    merchant = Merchant(id=merchant_id, name="Shop", support_email="help@shop.test")
    session.add(merchant)
    session.commit()
    return merchant


def test_merchant_user_membership_payment_round_trip(session: Session) -> None:
    add_merchant(session)
    session.add(User(id="usr_1", email="owner@shop.test", password_hash="x"))
    # The models declare no relationship(), so one flush does not order inserts by foreign key
    # (it would insert Membership before User): parents are flushed first.
    session.flush()
    session.add(Membership(id="mem_1", merchant_id="mer_1", user_id="usr_1"))
    session.add(
        Payment(
            id="pay_1",
            merchant_id="mer_1",
            currency="USD",
            amount=BIG,
            amount_captured=BIG,
            metadata_={"order": "A-1", "nested": {"n": 1, "ok": True}, "tags": ["a", "b"]},
            risk_reasons=["velocity"],
        )
    )
    session.commit()
    session.expunge_all()  # read back from the database, not the identity map

    merchant = session.get(Merchant, "mer_1")
    membership = session.get(Membership, "mem_1")
    payment = session.get(Payment, "pay_1")
    assert merchant is not None and membership is not None and payment is not None

    assert merchant.fee_tier_id == "starter"
    assert membership.role == Role.OWNER
    assert isinstance(payment.amount, int) and payment.amount == BIG
    assert payment.amount_captured == BIG
    assert payment.metadata_ == {"order": "A-1", "nested": {"n": 1, "ok": True}, "tags": ["a", "b"]}
    assert payment.risk_reasons == ["velocity"]
    for stamp in (merchant.created_at, membership.created_at, payment.created_at):
        assert stamp.tzinfo == UTC
        assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)


def test_metadata_attribute_maps_to_metadata_column() -> None:
    assert "metadata" in Payment.__table__.c
    assert "metadata_" not in Payment.__table__.c


def test_money_columns_are_bigint() -> None:
    money = {
        "payments": ["amount", "amount_captured", "amount_refunded", "platform_fee", "net_amount"],
        "refunds": ["amount", "platform_fee_refunded", "gateway_fee_refunded"],
        "disputes": ["amount"],
        "orders": ["amount"],
        "fee_tiers": ["fixed_fee"],
        "fee_overrides": ["fixed_fee"],
    }
    for table, columns in money.items():
        for column in columns:
            column_type = SQLModel.metadata.tables[table].c[column].type
            assert isinstance(column_type, sa.BigInteger), f"{table}.{column}"


def test_merchant_needs_an_existing_fee_tier(engine: Engine) -> None:
    with Session(engine) as session, pytest.raises(IntegrityError):
        add_merchant(session)  # no fee_tiers row "starter" in this database


def test_aware_datetimes_are_stored_as_utc(session: Session) -> None:
    add_merchant(session)
    local = datetime(2024, 3, 10, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    session.add(
        Payment(id="pay_tz", merchant_id="mer_1", currency="USD", amount=1, created_at=local)
    )
    session.commit()
    session.expunge_all()

    payment = session.get(Payment, "pay_tz")
    assert payment is not None
    assert payment.created_at == local
    assert payment.created_at.tzinfo == UTC
    assert payment.created_at == datetime(2024, 3, 11, 4, 30, tzinfo=UTC)


def test_naive_datetimes_are_refused(session: Session) -> None:
    add_merchant(session)
    session.add(
        Payment(
            id="pay_naive", merchant_id="mer_1", currency="USD", amount=1, created_at=datetime.now()
        )
    )
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


def test_utc_datetime_type_directly() -> None:
    column_type = UTCDateTime()
    dialect = sa.create_engine("sqlite://").dialect
    with pytest.raises(ValueError, match="naive datetime"):
        column_type.process_bind_param(datetime(2024, 1, 1), dialect)
    assert column_type.process_bind_param(None, dialect) is None
    assert column_type.process_result_value(None, dialect) is None
    stored = column_type.process_bind_param(
        datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))), dialect
    )
    assert stored == datetime(2024, 1, 1, 0, 0)  # SQLite: naive UTC
    assert column_type.process_result_value(stored, dialect) == datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        datetime(2024, 1, 1, tzinfo=UTC),  # no microseconds: still six digits
        datetime(2026, 11, 22, 6, 50, 5, 123, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-3))),
    ],
)
def test_sqlite_text_is_what_sqlalchemys_datetime_would_store(value: datetime) -> None:
    """UTCDateTime's one-step SQLite processor writes exactly the text of the two-step path,
    so stored timestamps keep sorting and comparing as before."""
    dialect = sa.create_engine("sqlite://").dialect
    two_steps = sa.DateTime().dialect_impl(dialect).bind_processor(dialect)
    one_step = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    naive_utc = UTCDateTime().process_bind_param(value, dialect)
    assert one_step(value) == two_steps(naive_utc)
    assert one_step(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        one_step(datetime(2024, 1, 1))


def test_new_id_shape_and_uniqueness() -> None:
    made = [ids.new_id("pay") for _ in range(10_000)]

    assert len(set(made)) == len(made)
    for value in made[:100]:
        assert re.fullmatch(r"pay_[0-9a-hjkmnp-tv-z]{26}", value), value
    assert len(ids.new_id("mer")) <= 40  # fits the id columns


def test_new_id_sorts_in_creation_order_across_milliseconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter(
        range(1_700_000_000_000_000_000, 1_700_000_000_500_000_000, 1_000_000)
    )  # 1 ms steps
    monkeypatch.setattr(ids.time, "time_ns", lambda: next(clock))

    made = [ids.new_id("evt") for _ in range(500)]

    assert sorted(made) == made


def test_new_id_sorts_in_creation_order_in_real_time() -> None:
    import time

    made = []
    for _ in range(5):
        made.append(ids.new_id("evt"))
        time.sleep(0.002)
    assert sorted(made) == made
