"""Canceling a payout the bank has not received yet.

The rail is asked first: a payout already sent to the network cannot be called back (409,
"already on its way"). A pending payout may not have a transfer id yet while a send is in
flight (or its answer was lost), so the transfer is first made or found with the payout's own
idempotency key, then canceled: the cancel and a late send can never both pay. The payout row
stays locked meanwhile, so two cancels are decided one after the other.
"""

from __future__ import annotations

from sqlmodel import Session

from backend.core.errors import Conflict
from backend.integrations.bank_payouts import PayoutRefused
from backend.models.enums import PayoutStatus
from backend.models.ledger import Payout
from backend.services.context import Actor, Scope
from backend.services.identity.sessions import SessionContext
from backend.services.payments import booking
from backend.services.payouts import creating
from backend.services.payouts.authority import require_payout_authority


def cancel(
    db: Session,
    scope: Scope,
    actor: Actor,
    payout_id: str,
    *,
    member: SessionContext | None = None,
) -> Payout:
    """Cancel a pending payout on the rail, then book it (its amount is available again)."""
    payout = creating.get_locked(db, scope, payout_id)
    require_payout_authority(db, scope, actor, member, step_up_in_live=False)
    if payout.status != PayoutStatus.PENDING:
        raise Conflict(
            "Only a pending payout can be canceled: this one is already on its way to the bank",
            code="payout_invalid_state",
        )
    rail = creating.rail_of(payout)
    if payout.rail_transfer_id is None:
        try:
            state = creating.request_transfer(payout)
        except PayoutRefused:
            state = None  # the rail never took it: nothing to call back
        if state is not None:
            payout.rail_transfer_id = state.transfer_id
            db.add(payout)
    if payout.rail_transfer_id is not None and not rail.cancel(payout.rail_transfer_id):
        raise Conflict(
            "The payout is already on its way to the bank and can no longer be canceled",
            code="payout_invalid_state",
        )
    booking.cancel_payout(db, payout, actor)
    return payout
