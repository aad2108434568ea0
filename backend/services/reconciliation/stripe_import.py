"""Payouts a merchant's own Stripe account made, imported into our ledger.

A merchant who takes payments with their own Stripe key is paid by Stripe, not by us: what we
know of those payouts is what Stripe tells us, through its list (`import_payouts`, the daily
job and the portal's button) or its `payout.*` events to the processor's webhook endpoint. Both
go through `apply_payout`, so a payout is recorded once (keyed by Stripe's po_ id, the payouts'
unique (rail, rail_transfer_id)) and then only moves forward, whichever arrives first or twice.
Every booking goes through the one booking path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, select

from backend.core.ids import new_id
from backend.gateways.base import GatewayUnavailable, ProcessorPayout
from backend.models import GatewayConfig, Payout, ProcessorPayoutCursor, utcnow
from backend.models.enums import PayoutStatus
from backend.services.context import SYSTEM, Actor
from backend.services.payments import booking, gateway_configs, routing

log = logging.getLogger(__name__)

RAIL = "stripe"
# Each import reads again the payouts created in the week before the newest one it saw, so a
# payout that moved (paid, failed) after the last import moves here too even if its event was
# lost: Stripe's payouts arrive within days.
OVERLAP = timedelta(days=7)
PAGE_LIMIT = 1000
PO = PayoutStatus
# How far along a payout is; a snapshot never moves one back (events come late and out of
# order). A paid payout may still fail: the bank returned it.
_STAGE = {PO.PENDING: 0, PO.IN_TRANSIT: 1, PO.PAID: 2, PO.FAILED: 3, PO.CANCELED: 3}


@dataclass(frozen=True)
class ImportResult:
    config_id: str
    recorded: int = 0
    moved: int = 0
    error: str | None = None


class Applied(StrEnum):
    RECORDED = "recorded"
    MOVED = "moved"
    UNCHANGED = "unchanged"
    FOREIGN = "foreign"  # the po_ id is another account's: never touched from this one


def apply_payout(
    db: Session, config: GatewayConfig, snapshot: ProcessorPayout, actor: Actor
) -> Applied:
    """Record the account's payout the first time it is seen, else move ours forward to the
    snapshot's status."""
    status = _status(snapshot.status)
    payout = db.exec(
        select(Payout)
        .where(Payout.rail == RAIL, Payout.rail_transfer_id == snapshot.id)
        .with_for_update()
    ).first()
    if payout is None:
        payout = Payout(
            id=new_id("po"),
            merchant_id=config.merchant_id,
            livemode=config.livemode,
            holder=config.id,
            amount=snapshot.amount,
            currency=snapshot.currency.upper(),
            status=status,
            automatic=True,
            rail=RAIL,
            rail_transfer_id=snapshot.id,
            arrival_date=snapshot.arrival_date,
            failure_code=snapshot.failure_code,
            failure_message=snapshot.failure_message,
            created_at=snapshot.created,
        )
        booking.record_processor_payout(db, payout, actor)
        return Applied.RECORDED
    if payout.holder != config.id or payout.merchant_id != config.merchant_id:
        return Applied.FOREIGN
    if not _ahead(status, payout.status):
        return Applied.UNCHANGED
    _move(db, payout, status, snapshot, actor)
    return Applied.MOVED


def _status(stripe_status: str) -> PayoutStatus:
    try:
        return PayoutStatus(stripe_status)
    except ValueError:
        return PO.PENDING  # a status Stripe adds later: recorded, moved by the next one we know


def _ahead(target: str, current: str) -> bool:
    if current == PO.PAID and target == PO.FAILED:
        return True
    return _STAGE[PayoutStatus(target)] > _STAGE[PayoutStatus(current)]


def _move(
    db: Session, payout: Payout, target: PayoutStatus, snapshot: ProcessorPayout, actor: Actor
) -> None:
    if target in (PO.IN_TRANSIT, PO.PAID) and payout.status == PO.PENDING:
        booking.payout_in_transit(db, payout, actor)
    if target == PO.PAID:
        booking.payout_paid(db, payout, actor, snapshot.arrival_date)
    elif target == PO.FAILED:
        code = snapshot.failure_code or "failed"
        message = snapshot.failure_message or "The bank did not accept the payout"
        booking.payout_failed(db, payout, code, message, actor)
    elif target == PO.CANCELED and payout.status == PO.PENDING:
        booking.cancel_payout(db, payout, actor)


def import_payouts(
    db: Session, config: GatewayConfig, *, actor: Actor = SYSTEM, now: datetime | None = None
) -> ImportResult:
    """Read the account's payouts since the last import and apply each, in the caller's
    transaction; the cursor moves with them. Stripe unreachable: nothing changes."""
    cursor = db.get(ProcessorPayoutCursor, config.id) or ProcessorPayoutCursor(
        gateway_config_id=config.id
    )
    since = cursor.created_after - OVERLAP if cursor.created_after else None
    try:
        listed = routing.route_for_config(config).gateway.list_payouts(
            created_after=since, limit=PAGE_LIMIT
        )
    except GatewayUnavailable as exc:
        log.warning("payout import of %s: %s", config.id, exc.message)
        return ImportResult(config.id, error=exc.message)
    recorded = moved = 0
    for snapshot in sorted(listed, key=lambda p: (p.created, p.id)):  # oldest first
        applied = apply_payout(db, config, snapshot, actor)
        recorded += applied == Applied.RECORDED
        moved += applied == Applied.MOVED
        if cursor.created_after is None or snapshot.created > cursor.created_after:
            cursor.created_after = snapshot.created
    cursor.imported_at = now or utcnow()
    db.add(cursor)
    return ImportResult(config.id, recorded, moved)


def import_merchant(
    db: Session, merchant_id: str, livemode: bool, *, actor: Actor = SYSTEM
) -> list[ImportResult]:
    """Every own Stripe account of the merchant in this mode."""
    return [
        import_payouts(db, config, actor=actor)
        for config in gateway_configs.own_accounts(db, merchant_id=merchant_id, livemode=livemode)
    ]
