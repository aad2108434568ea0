"""The one SELECT a risk assessment runs: the blocklist probes, the velocity counts and the
merchant's usual amount as the columns of a single statement, built once per shape of input
(what there is to look up) and prepared (backend.core.db.Prepared). The scoring that reads its
row is backend.services.payments.risk.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from backend.core.db import Prepared
from backend.models import BlocklistEntry, Payment
from backend.services.payments.risk_rules import VELOCITY_COUNT_CAP
from backend.services.payments.state_machine import CAPTURED

# Statements are built from the tables' columns (Core), not the models' attributes (ORM): they
# read plain values, and Core statements skip the ORM's per-execution work.
_P = Payment.__table__.c  # type: ignore[attr-defined]
_B = BlocklistEntry.__table__.c  # type: ignore[attr-defined]


def _capped_count(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    """A scalar subquery: how many payments match, counting no further than the cap. It reads
    only columns of the velocity indexes (created_at, not id), so the rows are never visited."""
    matching = sa_select(_P.created_at).where(*conditions).limit(VELOCITY_COUNT_CAP).subquery()
    return sa_select(func.count()).select_from(matching).scalar_subquery()


def _listed(kind: str, param: str) -> ColumnElement[bool]:
    """Whether the merchant's blocklist holds the value bound to `param`: one probe of
    uq_blocklist_entry."""
    return (
        sa_select(_B.id)
        .where(
            _B.merchant_id == bindparam("merchant_id"),
            _B.kind == kind,
            _B.value == bindparam(param),
        )
        .exists()
    )


@dataclass(frozen=True)
class LookupShape:
    """What one assessment has to look up; each shape has one statement, built once."""

    blocklist: tuple[tuple[str, str], ...]  # (kind, parameter) probed; up to two countries
    card: bool  # the velocity counts: live mode only
    email: bool
    ip: bool
    exclude_payment: bool
    usual_amount: bool


_STATEMENTS: dict[LookupShape, Prepared] = {}
_STATEMENTS_LOCK = threading.Lock()


def lookup_statement(shape: LookupShape) -> Prepared:
    """Every lookup of an assessment as the columns of one SELECT: one round trip.

    Bound parameters: merchant_id, livemode, since (velocity window), the blocklist values
    (named in the shape), fingerprint, email, ip, payment_id, and currency and usual_since for
    the usual amount.
    """
    found = _STATEMENTS.get(shape)
    if found is not None:
        return found
    columns: list[ColumnElement[object] | ScalarSelect[object]] = [
        _listed(kind, param) for kind, param in shape.blocklist
    ]

    common: list[ColumnElement[bool]] = [
        _P.created_at >= bindparam("since"),
        _P.livemode == bindparam("livemode"),
    ]
    if shape.exclude_payment:
        common.append(_P.id != bindparam("payment_id"))
    # `merchant_id || ''` keeps the planner off the merchant's own indexes, which would walk
    # every payment the merchant took in the hour; the value's index finds a handful of rows.
    own = _P.merchant_id + "" == bindparam("merchant_id")
    # Card and IP: every merchant's payments; e-mail: the merchant's own.
    if shape.card:
        columns.append(_capped_count(_P.card_fingerprint == bindparam("fingerprint"), *common))
    if shape.email:
        columns.append(_capped_count(_P.customer_email == bindparam("email"), own, *common))
    if shape.ip:
        columns.append(_capped_count(_P.ip_address == bindparam("ip"), *common))
    statement = sa_select(*columns)
    if shape.usual_amount:
        usual = (
            sa_select(
                func.count().label("n"),
                func.coalesce(func.sum(_P.amount_captured), 0).label("total"),
            )
            .where(
                _P.merchant_id == bindparam("merchant_id"),
                _P.livemode == bindparam("livemode"),
                # One bound value per status: Prepared takes no expanding IN.
                _P.status.in_([bindparam(f"captured_{n}", s) for n, s in enumerate(CAPTURED)]),
                _P.created_at >= bindparam("usual_since"),
                _P.currency == bindparam("currency"),
            )
            .subquery("usual")
        )
        statement = sa_select(*columns, usual.c.n, usual.c.total).select_from(usual)
    prepared = Prepared(statement)
    with _STATEMENTS_LOCK:
        _STATEMENTS[shape] = prepared
    return prepared
