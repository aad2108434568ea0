"""The matching rules, on plain values: which of our balance movements is which of the
processor's, and what differs. No database, no network: runs.py gathers both sides.

A movement is keyed by the processor's object it is about and which way the money went: a
charge (our payment's PaymentIntent), a refund (our refund's re_ id), a refund that failed, a
dispute's withdrawal and its reinstatement (our dispute's dp_ id). Stripe books dispute
movements as "adjustment" (or "dispute") transactions whose source is the dispute, so the
direction tells the withdrawal from the reinstatement.

Then, per pair: amounts (and currencies) must be equal; the processor's fee must be what we
booked where we book one (a charge's processing fee, a dispute's fee). A movement of ours the
processor does not show, or one of theirs we do not know, is only reported once it is older
than the grace period: both sides take a moment (events arrive late, balance transactions are
written after the charge).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backend.gateways.base import ProcessorBalanceTransaction
from backend.models.enums import ReconciliationKind

K = ReconciliationKind

# Our balance transaction types that the processor shows as one of its own, by the
# direction key they match on.
OUR_TYPES = {
    "charge": "charge",
    "refund": "refund",
    "refund_failure": "refund_failure",
    "dispute": "dispute",
    "dispute_reversal": "dispute_reversal",
}


def their_key(bt: ProcessorBalanceTransaction) -> str | None:
    """Which of our movement types a processor's balance transaction is, or None for those
    we do not book per object (payouts, Stripe's own fees, transfers...)."""
    if bt.type in ("charge", "payment"):
        return "charge"
    if bt.type in ("refund", "payment_refund"):
        return "refund"
    if bt.type in ("refund_failure", "payment_failure_refund"):
        return "refund_failure"
    if bt.type in ("adjustment", "dispute") and (bt.source_id or "").startswith(("dp_", "du_")):
        return "dispute" if bt.amount < 0 else "dispute_reversal"
    return None


@dataclass(frozen=True)
class Ours:
    """One of our balance movements, as the processor should show it."""

    id: str  # our balance transaction
    type: str  # a key of OUR_TYPES
    object_type: str  # payment, refund, dispute
    object_id: str
    processor_id: str | None  # the processor's object: pi_, re_, dp_
    currency: str
    amount: int  # signed, as the processor shows it
    fee: int | None  # the processor's fee we booked; None where we compare none
    created: datetime
    record: dict[str, Any] = field(default_factory=dict)  # what a person reads as evidence


@dataclass(frozen=True)
class Finding:
    kind: ReconciliationKind
    our_id: str
    their_id: str
    object_type: str
    object_id: str
    currency: str
    expected: int | None
    actual: int | None
    ours: dict[str, Any] | None
    theirs: dict[str, Any] | None


@dataclass
class Matched:
    findings: list[Finding] = field(default_factory=list)
    # What this comparison looked at: an open exception about one of these that was not found
    # again is resolved.
    our_ids: set[str] = field(default_factory=set)
    their_ids: set[str] = field(default_factory=set)


def their_record(bt: ProcessorBalanceTransaction) -> dict[str, Any]:
    return {
        "id": bt.id,
        "type": bt.type,
        "amount": bt.amount,
        "fee": bt.fee,
        "net": bt.net,
        "currency": bt.currency,
        "source": bt.source_id,
        "payout": bt.payout_id,
        "created": bt.created.isoformat(),
    }


def match(
    ours: list[Ours],
    theirs: list[ProcessorBalanceTransaction],
    *,
    judged_before: datetime,
    report_unknown: bool,
) -> Matched:
    """Pair both sides and say what differs. `judged_before`: a movement created after it is
    still within the grace period. `report_unknown`: whether a processor movement we do not
    know is ours to report (not on the platform's account, which holds every merchant's)."""
    result = Matched()
    waiting: dict[tuple[str, str], list[ProcessorBalanceTransaction]] = defaultdict(list)
    for bt in sorted(theirs, key=lambda t: (t.created, t.id)):
        key = their_key(bt)
        if key is not None and bt.source_id:
            waiting[(bt.source_id, key)].append(bt)
    for our in sorted(ours, key=lambda o: (o.created, o.id)):
        candidates = waiting.get((our.processor_id or "", our.type))
        if candidates:
            bt = candidates.pop(0)
            result.our_ids.add(our.id)
            result.their_ids.add(bt.id)
            result.findings += _compare(our, bt)
        elif our.created <= judged_before:
            result.our_ids.add(our.id)
            result.findings.append(
                Finding(
                    K.MISSING_THEIRS,
                    our.id,
                    "",
                    our.object_type,
                    our.object_id,
                    our.currency,
                    our.amount,
                    None,
                    our.record,
                    None,
                )
            )
    if report_unknown:
        for left in waiting.values():
            for bt in left:
                if bt.created > judged_before:
                    continue
                result.their_ids.add(bt.id)
                result.findings.append(
                    Finding(
                        K.MISSING_OURS,
                        "",
                        bt.id,
                        "",
                        bt.source_id or "",
                        bt.currency,
                        None,
                        bt.amount,
                        None,
                        their_record(bt),
                    )
                )
    return result


def _compare(our: Ours, bt: ProcessorBalanceTransaction) -> list[Finding]:
    found = []

    def finding(kind: ReconciliationKind, expected: int | None, actual: int | None) -> Finding:
        return Finding(
            kind,
            our.id,
            bt.id,
            our.object_type,
            our.object_id,
            our.currency,
            expected,
            actual,
            our.record,
            their_record(bt),
        )

    if bt.amount != our.amount or bt.currency.upper() != our.currency.upper():
        found.append(finding(K.AMOUNT_DIFFERS, our.amount, bt.amount))
    if our.fee is not None and bt.fee != our.fee:
        found.append(finding(K.FEE_DIFFERS, our.fee, bt.fee))
    return found
