"""Block a payment's card, e-mail or IP address from its page (the blocklist of Risk rules)."""

from __future__ import annotations

import reflex as rx

from backend.db import session_scope
from backend.services import payments, risk
from backend.services.errors import ServiceError, ValidationFailed
from backend.services.permissions import Permission
from portal.state.auth import AuthState
from portal.state.viewer import current_viewer

BUTTON_LABELS = {
    "card_fingerprint": "Block this card",
    "email": "Block this e-mail",
    "ip_address": "Block this IP address",
}


class PaymentBlockingState(AuthState):
    # kind, label, the value shown, and "yes" when it is already on the blocklist.
    blockable: list[dict[str, str]] = []
    can_block: bool = False
    message: str = ""
    error: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.message = self.error = ""
        return self._reload()

    def _payment_id(self) -> str:
        return str(self.router.page.params.get("payment_id", ""))[:64]

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        self.can_block = viewer.can(Permission.MANAGE_SETTINGS)
        if not self.can_block:
            self.blockable = []
            return None
        try:
            with session_scope(readonly=True) as db:
                payment = payments.get_payment(db, viewer.scope, self._payment_id())
                found = risk.blockable_values(db, payment)
        except ServiceError:
            self.blockable = []
            return None
        self.blockable = [
            {
                "kind": kind,
                "label": BUTTON_LABELS[kind],
                "value": "fingerprint " + value[:12] if kind == "card_fingerprint" else value,
                "blocked": "yes" if listed else "",
            }
            for kind, value, listed in found
        ]
        return None

    @rx.event
    def block(self, kind: str):  # type: ignore[no-untyped-def]
        """Block the stored value of this payment: the browser only names the kind."""
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            viewer.require(Permission.MANAGE_SETTINGS)
            attribute = risk.PAYMENT_BLOCKABLES.get(str(kind))
            with session_scope() as db:
                payment = payments.get_payment(db, viewer.scope, self._payment_id())
                value = getattr(payment, attribute) if attribute else None
                if not value:
                    raise ValidationFailed("This payment has nothing of that kind to block")
                risk.add_to_blocklist(
                    db,
                    viewer.ctx.merchant_id,
                    str(kind),
                    value,
                    f"From payment {payment.id}",
                    actor_type=viewer.actor(None).type,
                    actor_id=viewer.ctx.user_id,
                )
        except ServiceError as exc:
            self.error, self.message = exc.message, ""
            return None
        self.error = ""
        self.message = "Blocked: new payments with it are refused. Undo it in Risk rules."
        return self._reload()
