"""One payment's page: its facts, risk and review, refunds, timeline and webhooks, and what a
member can do to it (capture, void, refund with step-up, close a review, block a signal)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.core.currency import format_money
from backend.core.errors import ServiceError
from backend.services import labels
from backend.services.identity import step_up
from backend.services.payments import (
    bank_debits,
    operations,
    portal_actions,
    refund_limits,
    reviews,
    risk,
)
from backend.services.reporting.dashboard import method_label
from portal.state.auth import AuthState
from portal.state.formatting import card_label, payment_row, when
from portal.state.step_up import step_up_then
from portal.state.viewer import current_viewer

# The refund form offers the customer's request first.
REFUND_REASONS = sorted(operations.REFUND_REASONS, key=lambda r: r != "requested_by_customer")
BLOCK_LABELS = {
    "card_fingerprint": "Block this card",
    "email": "Block this e-mail",
    "ip_address": "Block this IP address",
}


def _review_note(p: Any, reviewer_email: str | None, tz: str, locale: str) -> str:
    if p.reviewed_at is None:
        return ""
    approved = p.review_outcome == reviews.ReviewOutcome.APPROVED
    outcome = "Approved" if approved else "Marked fraudulent"
    by = f" by {reviewer_email}" if reviewer_email else ""
    return f"{outcome}{by}, {when(p.reviewed_at, tz, locale)}"


def _bank_facts(debit: Any, p: Any, tz: str, locale: str) -> dict[str, str]:
    """A bank payment's account (its method), mandate, state and return, in words; after a
    return, what it took back and the net left ("" for a card)."""
    empty = ("bank", "mandate", "mandate_accepted", "bank_state", "returned", "fee_back")
    if debit is None:
        return dict.fromkeys((*empty, "return_fee"), "")
    status = p.status
    accepted = (
        f"{when(debit.mandate_accepted_at, tz, locale)} from {debit.mandate_ip_address} "
        f"({debit.mandate_user_agent})"
    )
    if debit.return_code:
        fee = format_money(debit.return_fee or 0, "USD", locale)
        state = f"{bank_debits.return_words(debit)}. Bank return fee: {fee}."
    elif status == "processing":
        state = "Processing: the customer's bank confirms a debit within a few business days."
    else:
        state = labels.status(status)
    facts = {
        "bank": bank_debits.account_words(debit),
        "method": bank_debits.account_words(debit),
        "mandate": debit.mandate_text,
        "mandate_accepted": accepted,
        "bank_state": state,
        "returned": "",
        "fee_back": "",
        "return_fee": "",
    }
    if debit.return_code:
        fee = debit.return_fee or 0
        facts |= {
            "returned": format_money(-p.amount_captured, p.currency, locale),
            "fee_back": format_money(p.platform_fee, p.currency, locale),
            "return_fee": format_money(-fee, p.currency, locale),
            # What the payment left the merchant once the bank took it back.
            "net": format_money(
                p.net_amount - p.amount_captured + p.platform_fee - fee, p.currency, locale
            ),
        }
    return facts


class PaymentDetailState(AuthState):
    payment: dict[str, str] = {}
    refunds: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []
    routing: list[dict[str, str]] = []  # the processors offered the payment, and why
    webhooks: list[dict[str, str]] = []
    risk_reasons: list[str] = []
    not_found: bool = False
    loaded: bool = False

    can_capture: bool = False
    can_void: bool = False
    can_refund: bool = False
    refundable: str = ""  # what the member can refund now, as money
    refund_hint: str = ""

    capture_open: bool = False
    capture_amount: str = ""
    void_open: bool = False
    refund_open: bool = False
    refund_amount: str = ""
    refund_reason: str = "requested_by_customer"
    refund_confirming: bool = False
    refund_summary: str = ""
    step_up_required: bool = False
    action_error: str = ""
    action_pending: bool = False
    outcome: str = ""
    # The payment's card, e-mail and IP address for the blocklist: kind, label, the value
    # shown, and "yes" when it is already blocked. Only for members who change risk rules.
    blockable: list[dict[str, str]] = []
    block_message: str = ""
    block_error: str = ""
    can_review: bool = False
    review_error: str = ""

    _payment_id: str = ""
    _refund_minor: int = 0

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.loaded = False
        self.outcome = self.block_message = self.block_error = self.review_error = ""
        self._payment_id = str(self.router.page.params.get("payment_id", ""))[:64]
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            page = portal_actions.payment_page(viewer.ctx, self._payment_id, viewer.locale)
        except ServiceError:
            self.not_found = self.loaded = True
            self.payment, self.refunds, self.timeline, self.webhooks = {}, [], [], []
            self.risk_reasons, self.routing = [], []
            return None
        locale, tz = viewer.locale, viewer.timezone
        p, refunds, timeline, webhooks = page.payment, page.refunds, page.timeline, page.webhooks

        def money(amount: int) -> str:
            return format_money(amount, p.currency, locale)

        remaining = page.remaining
        self.not_found = False
        self.payment = {
            **payment_row(p, locale, tz),
            "currency": p.currency,
            "created": when(p.created_at, tz, locale),
            "captured": money(p.amount_captured),
            "refunded": money(p.amount_refunded),
            "platform_fee": money(p.platform_fee),
            "gateway_fee": money(p.gateway_fee),
            "fees": money(p.platform_fee + p.gateway_fee),
            "net": money(p.net_amount),
            "gateway": labels.gateway(p.gateway),
            "method": method_label(p.payment_method_type, p.card_brand, p.card_wallet),
            # The method names the wallet ("Apple Pay · Visa"); this row is the card itself.
            "card": card_label(p.card_brand, p.card_last4),
            "order": p.order_id or "—",
            "customer_id": p.customer_id or "",
            "risk_score": "—" if p.risk_score is None else str(p.risk_score),
            "risk_decision": labels.risk_decision(p.risk_decision),
            "review": "open" if reviews.is_open(p) else (p.review_outcome or ""),
            "review_note": _review_note(p, page.reviewer_email, tz, locale),
            "failure": p.failure_message or "",
            "expiry": f"{p.card_exp_month:02d}/{p.card_exp_year}" if p.card_exp_month else "—",
            "description": p.description or "",
            **_bank_facts(page.bank_debit, p, tz, locale),
        }
        self.risk_reasons = [risk.describe_reason(r) for r in p.risk_reasons or []]
        self.refunds = [
            {
                "id": r.id,
                "amount": money(r.amount),
                "status": labels.status(r.status),
                "reason": labels.refund_reason(r.reason),
                "date": when(r.created_at, tz, locale),
                "failure": r.failure_reason or "",
            }
            for r in refunds
        ]
        self.routing = [
            {"processor": step.processor, "outcome": step.outcome, "reason": step.reason}
            for step in page.routing
        ]
        self.timeline = [
            {
                "date": when(e.at, tz, locale),
                "title": e.title,
                "detail": e.detail,
                "actor": e.actor,
            }
            for e in timeline
        ]
        self.webhooks = [
            {
                "event": labels.event_type(e.type),
                "event_id": e.event_id,
                "date": when(e.created_at, tz, locale),
                "summary": "; ".join(
                    f"{d['url']}: {labels.status(d['status']).lower()}"
                    + (f" (HTTP {d['last_status_code']})" if d["last_status_code"] else "")
                    + (f", {d['attempts']} attempts" if d["attempts"] > 1 else "")
                    for d in e.deliveries
                )
                or "No endpoint subscribed to this event",
            }
            for e in webhooks
        ]
        self.can_capture, self.can_void = page.can_capture, page.can_void
        self.can_refund = page.can_refund
        self.refundable, self.refund_hint = money(remaining), ""
        if self.can_refund:
            allowed, limited = page.refundable, page.refund_limited
            self.refundable = money(allowed)
            self.refund_hint = (
                f"Up to {money(allowed)}: what your role's refund limit leaves "
                f"({money(remaining)} of the payment remains)."
                if limited
                else f"Up to {money(allowed)}. Leave empty to refund it all."
            )
        self.can_review = page.can_review
        self.blockable = [
            {
                "kind": kind,
                "label": BLOCK_LABELS[kind],
                "value": "fingerprint " + value[:12] if kind == "card_fingerprint" else value,
                "blocked": "yes" if listed else "",
            }
            for kind, value, listed in page.blockable
        ]
        self.loaded = True
        return None

    # -- blocklist -------------------------------------------------------------------------

    @rx.event
    def block(self, kind: str):  # type: ignore[no-untyped-def]
        """Block this payment's stored value of that kind: the browser only names the kind."""
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            portal_actions.block_payment_value(viewer.ctx, self._payment_id, str(kind))
        except ServiceError as exc:
            self.block_error, self.block_message = exc.message, ""
            return None
        self.block_error = ""
        self.block_message = "Blocked: new payments with it are refused. Undo it in Risk rules."
        return self._reload()

    # -- review ----------------------------------------------------------------------------

    @rx.event
    def close_review(self, outcome: str):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            portal_actions.close_review(
                viewer.ctx,
                self._payment_id,
                str(outcome)[:16],
                ip_address=self.router.session.client_ip,
            )
        except ServiceError as exc:
            self.review_error = exc.message
            return None
        self.review_error = ""
        return self._reload()

    # -- capture ---------------------------------------------------------------------------

    @rx.event
    def open_capture(self) -> None:
        self.capture_open, self.action_error = True, ""
        self.capture_amount = ""

    @rx.event
    def set_capture_open(self, value: bool) -> None:
        self.capture_open = value

    @rx.event
    def submit_capture(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        typed = str(form.get("amount", "")).strip()
        try:
            captured = portal_actions.capture(
                viewer.ctx,
                self._payment_id,
                typed,
                viewer.locale,
                ip_address=self.router.session.client_ip,
            )
            text = format_money(captured.amount_captured, captured.currency, viewer.locale)
        except ServiceError as exc:
            self.action_error = exc.message
            return None
        self.capture_open = False
        self.outcome = f"Captured {text}."
        return self._reload()

    # -- void ------------------------------------------------------------------------------

    @rx.event
    def set_void_open(self, value: bool) -> None:
        self.void_open, self.action_error = value, ""

    @rx.event
    def confirm_void(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            portal_actions.void(
                viewer.ctx, self._payment_id, ip_address=self.router.session.client_ip
            )
        except ServiceError as exc:
            self.action_error = exc.message
            return None
        self.void_open = False
        self.outcome = "The authorization was voided; the hold on the card is released."
        return self._reload()

    # -- refund ----------------------------------------------------------------------------

    @rx.event
    def set_refund_open(self, value: bool) -> None:
        self.refund_open = value
        if value:
            self.refund_amount, self.refund_reason = "", "requested_by_customer"
            self.refund_confirming = self.step_up_required = False
            self.action_error = ""

    @rx.event
    def set_refund_amount(self, value: str) -> None:
        self.refund_amount = value[:40]

    @rx.event
    def set_refund_reason(self, value: str) -> None:
        self.refund_reason = value if value in REFUND_REASONS else "requested_by_customer"

    @rx.event
    def back_to_refund_form(self) -> None:
        self.refund_confirming = False
        self.step_up_required = False

    @rx.event
    def review_refund(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        """First step: check the amount and the member's right to refund it, then ask to
        confirm. Nothing moves until confirm_refund."""
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        self.refund_amount = str(form.get("amount", self.refund_amount))[:40]
        reason = str(form.get("reason", ""))
        if reason in REFUND_REASONS:  # else the choice already made through on_change
            self.refund_reason = reason
        try:
            review = refund_limits.review(
                viewer.ctx, self._payment_id, self.refund_amount, viewer.locale
            )
        except ServiceError as exc:
            self.action_error = exc.message
            return None
        who = review.customer_email or "the customer"
        self.refund_summary = (
            f"Refund {format_money(review.amount, review.currency, viewer.locale)} of "
            f"{format_money(review.captured, review.currency, viewer.locale)} to {who}"
            f" ({labels.refund_reason(self.refund_reason).lower()}). This cannot be undone."
            + (" You will be asked for a fresh code." if review.needs_step_up else "")
        )
        self._refund_minor = review.amount
        self.action_error = ""
        self.refund_confirming = True
        return None

    @rx.event
    def confirm_refund(self):  # type: ignore[no-untyped-def]
        """Second step, one call: refund the reviewed amount. After a StepUpRequired answer
        the step-up dialog only has to prove the second factor and call this again."""
        viewer = current_viewer(self)
        if viewer is None:
            yield AuthState.require_session
            return
        if not self.refund_confirming or self._refund_minor <= 0:
            self.action_error = "Review the refund first."
            return
        self.action_pending = True
        yield
        try:
            # The limit and the step-up threshold apply to running totals, checked and
            # locked in the refund's own transaction.
            refund = refund_limits.refund(
                viewer.ctx,
                self._payment_id,
                amount=self._refund_minor,
                reason=self.refund_reason,
                ip_address=self.router.session.client_ip or None,
            )
            amount_text = format_money(refund.amount, refund.currency, viewer.locale)
            state = refund.status
            failure = refund.failure_reason
        except step_up.StepUpRequired as exc:
            self.action_pending = False
            self.step_up_required = True
            self.action_error = exc.message
            # The dialog proves a fresh code, then sends confirm_refund again.
            yield step_up_then(PaymentDetailState.confirm_refund, "Refund this payment")
            return
        except ServiceError as exc:
            self.action_pending = False
            self.action_error = exc.message
            return
        self.action_pending = False
        self.refund_open = self.refund_confirming = self.step_up_required = False
        self._refund_minor = 0
        if state == "failed":
            self.outcome = f"The refund of {amount_text} failed: {failure or 'refused'}."
        elif state == "pending":
            self.outcome = f"Refund of {amount_text} sent; the processor confirms it shortly."
        else:
            self.outcome = f"Refunded {amount_text}."
        yield from self._reload_events()

    def _reload_events(self):  # type: ignore[no-untyped-def]
        result = self._reload()
        if result is not None:
            yield result
