"""A reconciliation run for one merchant and mode: both sides gathered, matched
(matching.py), and what differs kept as exceptions.

Three comparisons:
- each Stripe account that holds the merchant's payments (the platform's, and each of the
  merchant's own): our charge, refund and dispute balance transactions against Stripe's
  balance transactions, found through the payments' gateway_payment_id, the refunds'
  gateway_refund_id and the disputes' gateway_dispute_id. On a merchant's own account every
  Stripe movement is the merchant's, so one we do not know is reported, and Stripe's payouts
  are compared with the ones we imported; the platform's account holds every merchant's
  money, so there only ours are looked for;
- our payouts on the payout rail (Plaid, or its sandbox twin) that we show in transit or paid:
  the rail's transfer must exist, be for the same amount, and not have failed or come back;
- nothing else: a run never books anything. A payout the rail returned is booked by the rail's
  own sync; here it is reported until that happened (or someone resolves it).

A finding is stored once per (kind, our record, their record): running again refreshes what it
saw, never duplicates, and leaves a resolved exception resolved. An open exception about a
record this run looked at and found in order is resolved, with a note saying so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from backend.core.errors import NotFound, ServiceError
from backend.core.ids import new_id
from backend.gateways.base import (
    Gateway,
    GatewayUnavailable,
    ProcessorBalanceTransaction,
    ProcessorPayout,
)
from backend.integrations.bank_payouts import PayoutRail, RailUnavailable, payout_rail
from backend.models import (
    BalanceTransaction,
    Dispute,
    GatewayConfig,
    Payment,
    Payout,
    ReconciliationException,
    Refund,
)
from backend.models.enums import PayoutStatus, ReconciliationKind, ReconciliationStatus
from backend.models.ledger import PLATFORM
from backend.services import audit
from backend.services.context import SYSTEM, Actor
from backend.services.payments import gateway_configs, routing
from backend.services.reconciliation import stripe_import
from backend.services.reconciliation.matching import OUR_TYPES, Finding, Matched, Ours, match

log = logging.getLogger(__name__)

K = ReconciliationKind
RS = ReconciliationStatus
LOOKBACK = timedelta(days=30)  # how far back a run compares
GRACE = timedelta(days=2)  # a movement younger than this may still be on its way to the other side
# The processor may date a movement a little before ours (we book once it answered).
MARGIN = timedelta(days=1)
LIST_LIMIT = 10_000
# What the rail calls a transfer that did not (or no longer does) reach the bank.
RAIL_FAILED = frozenset({"failed", "returned", "cancelled"})


@dataclass
class RunSummary:
    found: int = 0  # new exceptions
    still_open: int = 0  # found again, already known
    resolved: int = 0  # open ones this run found in order
    errors: list[str] = field(default_factory=list)


def run(
    db: Session,
    merchant_id: str,
    livemode: bool,
    now: datetime,
    *,
    lookback: timedelta = LOOKBACK,
    actor: Actor = SYSTEM,
) -> RunSummary:
    """Compare the last `lookback` of the merchant's records in this mode with Stripe's and
    the payout rail's, in the caller's transaction."""
    since = now - lookback
    summary = RunSummary()
    by_account = _our_movements(db, merchant_id, livemode, since)
    accounts: dict[str, GatewayConfig | None] = {PLATFORM: None} if PLATFORM in by_account else {}
    for config in gateway_configs.own_accounts(db, merchant_id=merchant_id, livemode=livemode):
        accounts[config.id] = config
    for account, config in accounts.items():
        try:
            matched = _stripe_account(db, config, by_account.get(account, []), since, now)
        except (GatewayUnavailable, ServiceError) as exc:
            message = exc.message if isinstance(exc, ServiceError) else str(exc)
            summary.errors.append(f"Stripe ({_account_name(config)}): {message}")
            continue
        _keep(db, merchant_id, livemode, account, matched, now, summary, actor)
    try:
        matched = _rail_payouts(db, merchant_id, livemode, since, now)
    except RailUnavailable as exc:
        summary.errors.append(f"Payout rail: {exc.message}")
    else:
        _keep(db, merchant_id, livemode, PLATFORM, matched, now, summary, actor)
    return summary


def _account_name(config: GatewayConfig | None) -> str:
    return "the platform's account" if config is None else f"processor {config.id}"


# -- our side -------------------------------------------------------------------------------


def _our_movements(
    db: Session, merchant_id: str, livemode: bool, since: datetime
) -> dict[str, list[Ours]]:
    """Our Stripe-processed movements since `since`, by the Stripe account that holds them
    (PLATFORM, or the merchant's own processor configuration)."""
    rows = db.exec(
        select(BalanceTransaction).where(
            BalanceTransaction.merchant_id == merchant_id,
            BalanceTransaction.livemode == livemode,
            col(BalanceTransaction.type).in_(list(OUR_TYPES)),
            BalanceTransaction.created_at >= since,
        )
    ).all()
    refunds = _by_id(db, Refund, {r.source_id for r in rows if r.source_type == "refund"})
    disputes = _by_id(db, Dispute, {r.source_id for r in rows if r.source_type == "dispute"})
    payment_ids = {r.source_id for r in rows if r.source_type == "payment"}
    payment_ids |= {x.payment_id for x in [*refunds.values(), *disputes.values()]}
    payments = _by_id(db, Payment, payment_ids)
    configs = _by_id(db, GatewayConfig, {p.gateway_config_id or "" for p in payments.values()})
    found: dict[str, list[Ours]] = {}
    for row in rows:
        processor_id, fee, payment = None, None, None
        if row.source_type == "payment":
            payment = payments.get(row.source_id)
            processor_id = payment.gateway_payment_id if payment else None
            fee = payment.gateway_fee if payment else None
        elif row.source_type == "refund" and row.source_id in refunds:
            refund = refunds[row.source_id]
            payment, processor_id = payments.get(refund.payment_id), refund.gateway_refund_id
        elif row.source_type == "dispute" and row.source_id in disputes:
            dispute = disputes[row.source_id]
            payment, processor_id = payments.get(dispute.payment_id), dispute.gateway_dispute_id
            fee = dispute.fee if row.type == "dispute" else None
        if payment is None or payment.gateway != "stripe":
            continue  # the sandbox keeps no balance to compare with
        config = configs.get(payment.gateway_config_id or "")
        account = config.id if config and gateway_configs.is_own_account(config) else PLATFORM
        found.setdefault(account, []).append(
            Ours(
                id=row.id,
                type=OUR_TYPES[row.type],
                object_type=row.source_type,
                object_id=row.source_id,
                processor_id=processor_id,
                currency=row.currency,
                amount=row.amount,
                fee=fee,
                created=row.created_at,
                record=_our_record(row, processor_id, fee),
            )
        )
    return found


def _by_id(db: Session, model: Any, ids: set[str]) -> dict[str, Any]:
    ids.discard("")
    if not ids:
        return {}
    return {row.id: row for row in db.exec(select(model).where(col(model.id).in_(list(ids))))}


def _our_record(row: BalanceTransaction, processor_id: str | None, fee: int | None) -> dict:
    return {
        "id": row.id,
        "type": row.type,
        "amount": row.amount,
        "fee": fee,
        "currency": row.currency,
        "object": f"{row.source_type} {row.source_id}",
        "processor_id": processor_id,
        "payout": row.payout_id,
        "created": row.created_at.isoformat(),
    }


# -- Stripe's side --------------------------------------------------------------------------


def _stripe_account(
    db: Session, config: GatewayConfig | None, ours: list[Ours], since: datetime, now: datetime
) -> Matched:
    gateway = routing.route_for_config(config).gateway
    listed = gateway.list_balance_transactions(created_after=since - MARGIN, limit=LIST_LIMIT)
    own = config is not None
    payouts = gateway.list_payouts(created_after=since - MARGIN, limit=LIST_LIMIT) if own else []
    if own:
        listed = _with_payouts(gateway, listed, payouts)
    else:  # the platform's account: only what is this merchant's
        wanted = {o.processor_id for o in ours if o.processor_id}
        listed = [bt for bt in listed if bt.source_id in wanted]
    judged_before = now - GRACE
    matched = match(ours, listed, judged_before=judged_before, report_unknown=own)
    # A movement dated before the window may be one of ours from before it: not reported.
    matched.findings = [
        f
        for f in matched.findings
        if f.kind != K.MISSING_OURS or _created(listed, f.their_id) >= since
    ]
    if own:
        assert config is not None
        recent = [p for p in payouts if p.created >= since]
        matched.findings += _imported_payouts(db, config, recent, judged_before, matched)
    return matched


def _created(listed: list[ProcessorBalanceTransaction], bt_id: str) -> datetime:
    return next(bt.created for bt in listed if bt.id == bt_id)


def _with_payouts(
    gateway: Gateway, listed: list[ProcessorBalanceTransaction], payouts: list[ProcessorPayout]
) -> list[ProcessorBalanceTransaction]:
    """The movements, each with the Stripe payout that paid it out (its evidence groups them
    by payout), for the payouts of the window."""
    paid_by: dict[str, str] = {}
    for payout in payouts:
        for bt in gateway.list_balance_transactions(payout_id=payout.id, limit=LIST_LIMIT):
            paid_by[bt.id] = payout.id
    return [
        bt if bt.payout_id or bt.id not in paid_by else _paid_out(bt, paid_by[bt.id])
        for bt in listed
    ]


def _paid_out(bt: ProcessorBalanceTransaction, payout_id: str) -> ProcessorBalanceTransaction:
    return replace(bt, payout_id=payout_id)


def _imported_payouts(
    db: Session,
    config: GatewayConfig,
    theirs: list[ProcessorPayout],
    judged_before: datetime,
    matched: Matched,
) -> list[Finding]:
    """A merchant's own Stripe payouts against the ones we imported: missing or different."""
    if not theirs:
        return []
    ours = {
        p.rail_transfer_id: p
        for p in db.exec(
            select(Payout).where(
                Payout.holder == config.id,
                Payout.rail == stripe_import.RAIL,
                col(Payout.rail_transfer_id).in_([t.id for t in theirs]),
            )
        )
    }
    found = []
    for payout in theirs:
        record = {
            "id": payout.id,
            "amount": payout.amount,
            "currency": payout.currency,
            "status": payout.status,
            "arrival_date": payout.arrival_date.isoformat(),
            "created": payout.created.isoformat(),
        }
        mine = ours.get(payout.id)
        if mine is None:
            if payout.created <= judged_before:
                matched.their_ids.add(payout.id)
                found.append(
                    Finding(
                        K.MISSING_OURS,
                        "",
                        payout.id,
                        "payout",
                        "",
                        payout.currency,
                        None,
                        payout.amount,
                        None,
                        record,
                    )
                )
            continue
        matched.our_ids.add(mine.id)
        if mine.amount != payout.amount or mine.currency != payout.currency.upper():
            found.append(
                Finding(
                    K.AMOUNT_DIFFERS,
                    mine.id,
                    payout.id,
                    "payout",
                    mine.id,
                    mine.currency,
                    mine.amount,
                    payout.amount,
                    payout_record(mine),
                    record,
                )
            )
    return found


def payout_record(payout: Payout) -> dict[str, Any]:
    return {
        "id": payout.id,
        "amount": payout.amount,
        "currency": payout.currency,
        "status": payout.status,
        "rail": payout.rail,
        "transfer": payout.rail_transfer_id,
        "created": payout.created_at.isoformat(),
    }


# -- the payout rail ------------------------------------------------------------------------


def _rail_payouts(
    db: Session, merchant_id: str, livemode: bool, since: datetime, now: datetime
) -> Matched:
    """Our payouts in transit or paid against the rail's transfers."""
    rail = payout_rail()
    matched = Matched()
    payouts = db.exec(
        select(Payout).where(
            Payout.merchant_id == merchant_id,
            Payout.livemode == livemode,
            Payout.holder == PLATFORM,
            Payout.rail == rail.name,
            col(Payout.status).in_([PayoutStatus.IN_TRANSIT, PayoutStatus.PAID]),
            Payout.created_at >= since,
        )
    ).all()
    for payout in payouts:
        matched.our_ids.add(payout.id)
        matched.findings += _rail_findings(rail, payout, now, matched)
    return matched


def _rail_findings(
    rail: PayoutRail, payout: Payout, now: datetime, matched: Matched
) -> list[Finding]:
    def finding(
        kind: ReconciliationKind, their_id: str = "", actual: int | None = None, theirs: Any = None
    ) -> Finding:
        return Finding(
            kind,
            payout.id,
            their_id,
            "payout",
            payout.id,
            payout.currency,
            payout.amount,
            actual,
            payout_record(payout),
            theirs,
        )

    if not payout.rail_transfer_id:
        return [finding(K.MISSING_THEIRS)] if payout.created_at <= now - GRACE else []
    try:
        state = rail.get(payout.rail_transfer_id)
    except NotFound:
        return [finding(K.MISSING_THEIRS)]
    theirs = {
        "id": state.transfer_id,
        "amount": state.amount,
        "currency": state.currency,
        "status": state.status,
        "failure_code": state.failure_code,
        "failure_message": state.failure_message,
    }
    matched.their_ids.add(state.transfer_id)
    found = []
    if state.status in RAIL_FAILED:
        found.append(finding(K.PAYOUT_RETURNED, state.transfer_id, 0, theirs))
    if state.amount != payout.amount or state.currency.upper() != payout.currency:
        found.append(finding(K.AMOUNT_DIFFERS, state.transfer_id, state.amount, theirs))
    return found


# -- keeping what was found -----------------------------------------------------------------


def _keep(
    db: Session,
    merchant_id: str,
    livemode: bool,
    account: str,
    matched: Matched,
    now: datetime,
    summary: RunSummary,
    actor: Actor,
) -> None:
    seen: set[tuple[str, str, str]] = set()
    for f in matched.findings:
        key = (f.kind.value, f.our_id, f.their_id)
        seen.add(key)
        existing = _existing(db, merchant_id, *key)
        if existing is not None:
            if existing.status == RS.OPEN:
                existing.evidence = {"ours": f.ours, "theirs": f.theirs}
                existing.expected, existing.actual = f.expected, f.actual
                existing.last_seen_at = now
                db.add(existing)
                summary.still_open += 1
            continue
        row = ReconciliationException(
            id=new_id("rex"),
            merchant_id=merchant_id,
            livemode=livemode,
            kind=f.kind,
            account=account,
            our_id=f.our_id,
            their_id=f.their_id,
            object_type=f.object_type,
            object_id=f.object_id,
            currency=f.currency.upper(),
            expected=f.expected,
            actual=f.actual,
            evidence={"ours": f.ours, "theirs": f.theirs},
            created_at=now,
            last_seen_at=now,
        )
        try:
            with db.begin_nested():  # a run beside this one may have stored it just now
                db.add(row)
                db.flush()
        except IntegrityError:
            summary.still_open += 1
            continue
        summary.found += 1
    if not (matched.our_ids or matched.their_ids):
        return
    stale = db.exec(
        select(ReconciliationException).where(
            ReconciliationException.merchant_id == merchant_id,
            ReconciliationException.livemode == livemode,
            ReconciliationException.account == account,
            ReconciliationException.status == RS.OPEN,
            or_(
                col(ReconciliationException.our_id).in_(list(matched.our_ids - {""})),
                col(ReconciliationException.their_id).in_(list(matched.their_ids - {""})),
            ),
        )
    ).all()
    for row in stale:
        if (row.kind, row.our_id, row.their_id) in seen:
            continue
        row.status = RS.RESOLVED
        row.resolved_at = now
        row.resolution_note = "No longer differs: a later run found both sides in agreement."
        db.add(row)
        audit.record_by(
            db,
            actor,
            "reconciliation_exception.resolved",
            row,
            "reconciliation_exception",
            {"kind": row.kind, "automatic": True},
        )
        summary.resolved += 1


def _existing(
    db: Session, merchant_id: str, kind: str, our_id: str, their_id: str
) -> ReconciliationException | None:
    return db.exec(
        select(ReconciliationException).where(
            ReconciliationException.merchant_id == merchant_id,
            ReconciliationException.kind == kind,
            ReconciliationException.our_id == our_id,
            ReconciliationException.their_id == their_id,
        )
    ).first()
