"""Writing one journal: its entries, the merchant's balance transactions and the balance row.

A journal is checked before anything is written: its entries sum to zero, and the nets of its
balance transactions equal what its entries add to the merchant's pending and available
accounts (so the balance transactions always add up to the balance). The balance row is
changed with an atomic increment; a booking that draws on the balance reads it first with
`lock`, which holds the row until the transaction ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from backend.core.ids import new_id
from backend.models.enums import BalanceTransactionStatus, BalanceTransactionType, LedgerAccount
from backend.models.ledger import Balance, BalanceTransaction, LedgerEntry, LedgerJournal
from backend.models.types import utcnow

A = LedgerAccount
# The merchant's accounts and the balance row's column each one is kept in.
POOLS: dict[LedgerAccount, str] = {
    A.MERCHANT_PENDING: "pending",
    A.MERCHANT_AVAILABLE: "available",
    A.MERCHANT_IN_TRANSIT: "in_transit",
}


class Unbalanced(ValueError):
    """A journal whose entries do not sum to zero, or whose balance transactions do not match
    its entries: a programming error, never written."""


@dataclass(frozen=True)
class Line:
    """One balance transaction: the merchant's view of a movement of its balance."""

    type: BalanceTransactionType
    amount: int
    source_type: str
    source_id: str
    fee: int = 0
    description: str | None = None

    @property
    def net(self) -> int:
        return self.amount - self.fee


@dataclass(frozen=True)
class BalanceKey:
    merchant_id: str
    livemode: bool
    currency: str
    holder: str


@dataclass(frozen=True)
class Journal:
    balance: BalanceKey
    kind: str
    key: str  # unique: the same happening is never booked twice
    source_type: str
    source_id: str
    entries: Sequence[tuple[LedgerAccount, int]]
    lines: Sequence[Line] = ()
    status: BalanceTransactionStatus = BalanceTransactionStatus.AVAILABLE
    available_on: datetime | None = None  # of the lines; now when not given
    payout_id: str | None = None  # the payout these lines belong to
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Pools:
    available: int
    pending: int
    in_transit: int


def check(journal: Journal) -> dict[str, int]:
    """The journal's changes to the balance row; Unbalanced if it is not a valid journal."""
    if sum(amount for _, amount in journal.entries) != 0:
        raise Unbalanced(f"{journal.key}: entries sum to {sum(a for _, a in journal.entries)}")
    deltas = {"available": 0, "pending": 0, "in_transit": 0}
    for account, amount in journal.entries:
        if account in POOLS:
            deltas[POOLS[account]] += amount
    nets = sum(line.net for line in journal.lines)
    if nets != deltas["available"] + deltas["pending"]:
        raise Unbalanced(f"{journal.key}: lines net {nets}, entries {deltas}")
    return deltas


def post(db: Session, journal: Journal) -> str:
    """Write the journal in the caller's transaction; returns its id."""
    deltas = check(journal)
    key = journal.balance
    journal_id = new_id("jr")
    at = journal.at
    common = {"merchant_id": key.merchant_id, "livemode": key.livemode}
    db.execute(
        sa.insert(LedgerJournal.__table__),  # type: ignore[attr-defined]
        [
            {
                "id": journal_id,
                **common,
                "kind": journal.kind,
                "key": journal.key,
                "source_type": journal.source_type,
                "source_id": journal.source_id,
                "created_at": at,
            }
        ],
    )
    db.execute(
        sa.insert(LedgerEntry.__table__),  # type: ignore[attr-defined]
        [
            {
                "journal_id": journal_id,
                **common,
                "holder": key.holder,
                "currency": key.currency,
                "account": account,
                "amount": amount,
                "created_at": at,
            }
            for account, amount in journal.entries
            if amount
        ],
    )
    if journal.lines:
        db.execute(
            sa.insert(BalanceTransaction.__table__),  # type: ignore[attr-defined]
            [
                {
                    "id": new_id("txn"),
                    **common,
                    "journal_id": journal_id,
                    "holder": key.holder,
                    "type": line.type,
                    "currency": key.currency,
                    "amount": line.amount,
                    "fee": line.fee,
                    "net": line.net,
                    "status": journal.status,
                    "available_on": journal.available_on or at,
                    "source_type": line.source_type,
                    "source_id": line.source_id,
                    "payout_id": journal.payout_id,
                    "description": line.description,
                    "created_at": at,
                }
                for line in journal.lines
            ],
        )
    if any(deltas.values()):
        add_to_balance(db, key, deltas, at)
    return journal_id


def add_to_balance(db: Session, key: BalanceKey, deltas: dict[str, int], at: datetime) -> None:
    """Add the deltas to the balance row (created when missing) in one atomic statement."""
    table = Balance.__table__  # type: ignore[attr-defined]
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(
        merchant_id=key.merchant_id,
        livemode=key.livemode,
        currency=key.currency,
        holder=key.holder,
        updated_at=at,
        **deltas,
    )
    changes = {name: table.c[name] + statement.excluded[name] for name in deltas if deltas[name]}
    db.execute(
        statement.on_conflict_do_update(
            index_elements=["merchant_id", "livemode", "currency", "holder"],
            set_={**changes, "updated_at": statement.excluded.updated_at},
        )
    )


def lock(db: Session, key: BalanceKey) -> Pools:
    """The balance as it is, its row locked until the transaction ends (on SQLite the unit of
    work already holds the database's write lock)."""
    table = Balance.__table__  # type: ignore[attr-defined]
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(
        insert(table)
        .values(
            merchant_id=key.merchant_id,
            livemode=key.livemode,
            currency=key.currency,
            holder=key.holder,
            available=0,
            pending=0,
            in_transit=0,
            updated_at=utcnow(),
        )
        .on_conflict_do_nothing()
    )
    row = db.execute(
        sa.select(table.c.available, table.c.pending, table.c.in_transit)
        .where(
            table.c.merchant_id == key.merchant_id,
            table.c.livemode == key.livemode,
            table.c.currency == key.currency,
            table.c.holder == key.holder,
        )
        .with_for_update()
    ).one()
    return Pools(available=row.available, pending=row.pending, in_transit=row.in_transit)
