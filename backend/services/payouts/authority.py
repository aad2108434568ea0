"""Who may pay out and change the schedule.

In the portal: the owner only (Permission.MANAGE_PAYOUTS), and in live mode only with a second
factor proved in the last few minutes, as for refunds above the step-up threshold: a payout
empties the balance, which is what an account takeover is after. Through the REST API: the
merchant's own secret key, as for refunds (a key has no role; it is the merchant's
integration). Money can only ever go to the bank account the owner verified (changing that
account is owner-only with step-up), so a key can pay the merchant early, never elsewhere. The
schedule (the system actor) needs no one.
"""

from __future__ import annotations

from sqlmodel import Session

from backend.core.errors import PermissionDenied
from backend.models.enums import ActorType
from backend.services.context import Actor, Scope
from backend.services.identity import step_up
from backend.services.identity.permissions import Permission, require
from backend.services.identity.sessions import SessionContext


def require_payout_authority(
    db: Session,
    scope: Scope,
    actor: Actor,
    member: SessionContext | None,
    *,
    step_up_in_live: bool,
) -> None:
    """Refuse (PermissionDenied, StepUpRequired) unless this caller may act on payouts."""
    if member is not None:
        if (member.merchant_id, member.livemode) != (scope.merchant_id, scope.livemode):
            raise PermissionDenied("This session belongs to another account or mode")
        require(member.role, Permission.MANAGE_PAYOUTS)
        if step_up_in_live and scope.livemode:
            step_up.require_fresh(db, member.session_id)
        return
    if actor.type in (ActorType.API_KEY, ActorType.SYSTEM):
        return
    raise PermissionDenied("Only the account's owner can manage payouts")
