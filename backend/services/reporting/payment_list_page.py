"""The portal's payments list for a signed-in member: one keyset page of the payments the
address asks for, and (on a first page) the currencies the merchant has used."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from backend.core.db import session_scope
from backend.models import Payment
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext
from backend.services.reporting.dashboard import currencies_used
from backend.services.reporting.exports import filters_from_query
from backend.services.reporting.payment_list import search_payments


@dataclass(frozen=True)
class PaymentList:
    payments: list[Payment]
    next_cursor: str | None
    currencies: list[str] | None  # None unless asked for


def payment_list(
    ctx: SessionContext,
    params: Mapping[str, str],
    timezone: str,
    *,
    cursor: str | None,
    limit: int,
    with_currencies: bool,
) -> PaymentList:
    """`params` are the list's address parameters, as the CSV export reads them."""
    require(ctx.role, Permission.VIEW_DATA)
    filters = filters_from_query(params, timezone)
    with session_scope(readonly=True) as db:
        used = (
            currencies_used(db, merchant_id=ctx.merchant_id, livemode=ctx.livemode)
            if with_currencies
            else None
        )
        page = search_payments(
            db,
            merchant_id=ctx.merchant_id,
            livemode=ctx.livemode,
            filters=filters,
            cursor=cursor,
            limit=limit,
        )
    return PaymentList(list(page.payments), page.next_cursor, used)
