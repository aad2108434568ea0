"""Dispute evidence, notification choices, business profile and the live feed's watcher."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from backend.core.errors import Conflict, NotFound, ValidationFailed
from backend.models import Dispute, DomainEvent, Merchant, OutboundEmail, Payment, utcnow
from backend.models.enums import ActorType
from backend.services.context import Actor, Scope
from backend.services.identity import accounts
from backend.services.merchant import business_profile, notifications
from backend.services.payments import booking, dispute_evidence
from backend.services.payments.charges import ChargeInput, PaymentMethodInput, charge

PDF = b"%PDF-1.7\n" + b"x" * 100
USER = Actor(ActorType.SYSTEM)


@pytest.fixture
def uploads(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("UPLOADS_DIR", str(tmp_path / "uploads"))
    from backend.core.config import get_settings

    get_settings.cache_clear()
    yield tmp_path / "uploads" / "evidence"
    get_settings.cache_clear()


def _merchant(db: Session, name: str = "Shop") -> accounts.CreatedMerchant:
    import uuid

    created = accounts.create_merchant(
        db, email=f"o-{uuid.uuid4().hex[:8]}@shop.test", password="a long passphrase 1", name=name
    )
    db.commit()
    return created


def _disputed(db: Session, merchant_id: str) -> Dispute:
    outcome = charge(
        db,
        Scope(merchant_id, False),
        ChargeInput(PaymentMethodInput("card", "pm_card_visa"), amount=5_000, currency="USD"),
    )
    dispute = booking.open_dispute(db, outcome.payment)
    db.commit()
    return dispute


def test_evidence_is_checked_by_its_bytes_and_limits(db: Session, uploads) -> None:  # type: ignore[no-untyped-def]
    created = _merchant(db)
    scope = Scope(created.merchant.id, False)
    dispute = _disputed(db, created.merchant.id)
    with pytest.raises(ValidationFailed, match="not a PDF, PNG or JPEG"):
        dispute_evidence.add_evidence(
            db, scope, dispute.id, [dispute_evidence.Upload("x.pdf", b"<html>")], actor=USER
        )
    too_big = b"%PDF-" + b"0" * dispute_evidence.MAX_FILE_BYTES
    with pytest.raises(ValidationFailed, match="larger than 5 MB"):
        dispute_evidence.add_evidence(
            db, scope, dispute.id, [dispute_evidence.Upload("big.pdf", too_big)], actor=USER
        )
    many = [dispute_evidence.Upload(f"{i}.pdf", PDF) for i in range(11)]
    with pytest.raises(ValidationFailed, match="at most 10 files"):
        dispute_evidence.add_evidence(db, scope, dispute.id, many, actor=USER)
    # One bad file among good ones: nothing is stored.
    mixed = [dispute_evidence.Upload("a.pdf", PDF), dispute_evidence.Upload("b.png", b"GIF89a")]
    with pytest.raises(ValidationFailed):
        dispute_evidence.add_evidence(db, scope, dispute.id, mixed, actor=USER)
    db.rollback()
    assert not uploads.exists() or list(uploads.iterdir()) == []

    (row,) = dispute_evidence.add_evidence(
        db, scope, dispute.id, [dispute_evidence.Upload("../../etc/passwd.pdf", PDF)], actor=USER
    )
    db.commit()
    assert row.filename == "passwd.pdf" and row.content_type == "application/pdf"
    stored = list(uploads.iterdir())
    assert [p.name for p in stored] == [row.storage_name] and stored[0].read_bytes() == PDF
    assert row.storage_name.endswith(".pdf") and "passwd" not in row.storage_name

    other = _merchant(db, "Other")
    with pytest.raises(NotFound):
        dispute_evidence.add_evidence(
            db,
            Scope(other.merchant.id, False),
            dispute.id,
            [dispute_evidence.Upload("a.pdf", PDF)],
            actor=USER,
        )


def test_submitting_evidence_closes_the_response(db: Session, uploads) -> None:  # type: ignore[no-untyped-def]
    created = _merchant(db)
    scope = Scope(created.merchant.id, False)
    dispute = _disputed(db, created.merchant.id)
    with pytest.raises(ValidationFailed, match="Attach at least one file"):
        dispute_evidence.submit_evidence(
            db, scope, dispute.id, "A long enough story here.", actor=USER
        )
    db.rollback()
    dispute_evidence.add_evidence(
        db, scope, dispute.id, [dispute_evidence.Upload("r.pdf", PDF)], actor=USER
    )
    with pytest.raises(ValidationFailed, match="Explain"):
        dispute_evidence.submit_evidence(db, scope, dispute.id, "short", actor=USER)
    db.rollback()
    dispute_evidence.add_evidence(
        db, scope, dispute.id, [dispute_evidence.Upload("r.pdf", PDF)], actor=USER
    )
    submitted = dispute_evidence.submit_evidence(
        db, scope, dispute.id, "The parcel was delivered and signed for.", actor=USER
    )
    db.commit()
    assert submitted.status == "under_review"
    assert db.exec(
        select(DomainEvent).where(
            DomainEvent.object_id == dispute.id, DomainEvent.type == "dispute.updated"
        )
    ).first()
    with pytest.raises(Conflict):
        dispute_evidence.add_evidence(
            db, scope, dispute.id, [dispute_evidence.Upload("late.pdf", PDF)], actor=USER
        )


def test_past_deadline_refuses_evidence(db: Session, uploads) -> None:  # type: ignore[no-untyped-def]
    created = _merchant(db)
    dispute = _disputed(db, created.merchant.id)
    dispute.evidence_due_by = utcnow() - timedelta(minutes=1)
    db.add(dispute)
    db.commit()
    with pytest.raises(Conflict, match="deadline"):
        dispute_evidence.add_evidence(
            db,
            Scope(created.merchant.id, False),
            dispute.id,
            [dispute_evidence.Upload("a.pdf", PDF)],
            actor=USER,
        )


def test_notifications_follow_each_members_choice(db: Session) -> None:
    created = _merchant(db)
    merchant_id, owner = created.merchant.id, created.user.id
    assert notifications.recipients(db, merchant_id, "dispute_created") == [created.user.email]
    _disputed(db, merchant_id)
    first = notifications.send_due(db)
    db.commit()
    assert len(first) == 1
    assert notifications.send_due(db) == []  # once per dispute
    notifications.set_choices(
        db, merchant_id=merchant_id, user_id=owner, choices={"dispute_created": False}
    )
    db.commit()
    assert notifications.recipients(db, merchant_id, "dispute_created") == []
    assert notifications.recipients(db, merchant_id, "refund_failed") == [created.user.email]
    _disputed(db, merchant_id)
    assert notifications.send_due(db) == []
    with pytest.raises(ValidationFailed):
        notifications.set_choices(
            db, merchant_id=merchant_id, user_id=owner, choices={"spam": True}
        )
    sent = db.exec(select(OutboundEmail).where(OutboundEmail.template == "dispute_created")).all()
    assert len(sent) == 1


def test_business_profile_and_limits(db: Session) -> None:
    created = _merchant(db)
    profile = business_profile.Profile(
        "New name", "Help@New.test", "fr", "Europe/Paris", "fr_FR", "eur"
    )
    merchant = business_profile.update_profile(db, created.merchant.id, profile, actor=USER)
    assert (merchant.name, merchant.support_email, merchant.country) == (
        "New name",
        "help@new.test",
        "FR",
    )
    assert (merchant.timezone, merchant.locale, merchant.default_currency) == (
        "Europe/Paris",
        "fr_FR",
        "EUR",
    )
    for bad in (
        business_profile.Profile("", "a@b.test", "FR", "UTC", "fr_FR", "EUR"),
        business_profile.Profile("X", "not-an-email", "FR", "UTC", "fr_FR", "EUR"),
        business_profile.Profile("X", "a@b.test", "ZZ", "UTC", "fr_FR", "EUR"),
        business_profile.Profile("X", "a@b.test", "FR", "Mars/Olympus", "fr_FR", "EUR"),
        business_profile.Profile("X", "a@b.test", "FR", "UTC", "xx_XX", "EUR"),
        business_profile.Profile("X", "a@b.test", "FR", "UTC", "fr_FR", "XXX"),
    ):
        with pytest.raises(ValidationFailed):
            business_profile.update_profile(db, created.merchant.id, bad, actor=USER)
    with pytest.raises(ValidationFailed):
        business_profile.update_refund_limits(
            db, created.merchant.id, support_refund_limit=-1, step_up_refund_threshold=0, actor=USER
        )
    business_profile.update_refund_limits(
        db, created.merchant.id, support_refund_limit=0, step_up_refund_threshold=25_000, actor=USER
    )
    db.commit()
    stored = db.get(Merchant, created.merchant.id)
    assert stored is not None and stored.support_refund_limit == 0
    price = business_profile.price(db, created.merchant.id)
    assert price.example.total == 10_000 and price.example_currency == "EUR"
    assert price.example.platform_fee + price.example.gateway_fee + price.example.net == 10_000
    assert price.describe() == "3%"


def test_live_feed_watcher_queries_once_per_interval_whatever_the_subscribers(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A payment reaches every open dashboard of its merchant (and none of another), and the
    database sees one query per merchant and interval, not one per browser."""
    from backend.core import db as backend_db
    from portal.state import live_feed as feed

    monkeypatch.setattr(backend_db, "get_engine", lambda: db_engine)
    with Session(db_engine, expire_on_commit=False) as session:
        created = _merchant(session)
        other = _merchant(session, "Other")
    reads: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if "FROM events" in statement:
            reads.append(statement)

    async def scenario() -> tuple[list[Payment], int, int]:
        hub = feed.Hub()
        mine = [hub.subscribe(f"tab-{i}", created.merchant.id, False) for i in range(50)]
        theirs = hub.subscribe("their-tab", other.merchant.id, False)
        await asyncio.sleep(feed.POLL_SECONDS * 2)  # primed
        event.listen(db_engine, "before_cursor_execute", count)
        try:
            with Session(db_engine, expire_on_commit=False) as session:
                charge(
                    session,
                    Scope(created.merchant.id, False),
                    ChargeInput(
                        PaymentMethodInput("card", "pm_card_visa"), amount=1_234, currency="USD"
                    ),
                )
                session.commit()
            got = await asyncio.wait_for(
                asyncio.gather(*(s.queue.get() for s in mine)), timeout=1.0
            )
            await asyncio.sleep(feed.POLL_SECONDS * 4)
        finally:
            event.remove(db_engine, "before_cursor_execute", count)
        polls = len(reads)
        for sub in [*mine, theirs]:
            hub.unsubscribe(sub)
        return got, polls, theirs.queue.qsize()

    # A loop of its own in a thread: the browser tests' Playwright may hold this thread's loop.
    with ThreadPoolExecutor(1) as pool:
        got, polls, foreign = pool.submit(asyncio.run, scenario()).result()
    assert len(got) == 50 and {p.amount for p in got} == {1_234}
    assert foreign == 0
    # About six intervals passed, each reading once per merchant (2): nowhere near 51 per poll.
    assert 2 <= polls <= 2 * 10
