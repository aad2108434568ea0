"""Payments: the searchable, filterable list with keyset pages; one payment with its timeline,
fees, risk, refunds and webhooks, and the capture, void and refund actions.

Every action checks the member's permission on the server, here, before the service layer
acts; the buttons a member cannot use are hidden too, but only as a courtesy.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

import reflex as rx

from backend.db import session_scope
from backend.models import Payment, User
from backend.models.enums import ActorType
from backend.services import (
    payments,
    refund_limits,
    reporting,
    reviews,
    risk,
    state_machine,
    step_up,
)
from backend.services.currency import format_money
from backend.services.errors import ServiceError, ValidationFailed
from backend.services.exports import filters_from_query
from backend.services.money_input import parse_money
from backend.services.permissions import Permission
from backend.services.reporting import method_label
from portal.state.auth import AuthState
from portal.state.formatting import payment_row, status_label, when
from portal.state.keyset_list import SearchableListState
from portal.state.step_up import step_up_then
from portal.state.viewer import Viewer, current_viewer, permitted_viewer

ALL = "all"
STATUS_CHOICES = [
    ALL,
    "succeeded",
    "authorized",
    "partially_refunded",
    "refunded",
    "failed",
    "voided",
    "disputed",
    "requires_action",
]
METHOD_CHOICES = [ALL, *payments.PAYMENT_METHOD_TYPES]
GATEWAY_CHOICES = [ALL, "sandbox", "stripe"]
RISK_CHOICES = [ALL, *reporting.RISK_FILTERS]
REFUND_REASONS = ["requested_by_customer", "duplicate", "fraudulent"]
BLOCK_LABELS = {
    "card_fingerprint": "Block this card",
    "email": "Block this e-mail",
    "ip_address": "Block this IP address",
}
PAGE_SIZE = 25


class PaymentsState(SearchableListState, AuthState):
    status: str = ALL
    currency: str = ALL
    method: str = ALL
    gateway: str = ALL
    risk: str = ALL
    date_from: str = ""
    date_to: str = ""
    currencies: list[str] = [ALL]
    can_export: bool = False

    @rx.var
    def export_url(self) -> str:
        params = {k: v for k, v in self._query_params().items() if v}
        return "/api/portal/exports/payments.csv?" + urlencode(params)

    def _query_params(self) -> dict[str, str]:
        """The filters on screen as the export's query (exports.filters_from_query)."""
        chosen = {
            "status": self.status,
            "currency": self.currency,
            "method": self.method,
            "gateway": self.gateway,
            "risk": self.risk,
        }
        return {
            "q": self.query.strip(),
            **{name: "" if value == ALL else value for name, value in chosen.items()},
            "from": self.date_from,
            "to": self.date_to,
        }

    @rx.var
    def filtered(self) -> bool:
        return bool(
            self.query.strip()
            or self.date_from
            or self.date_to
            or any(
                v != ALL for v in (self.status, self.currency, self.method, self.gateway, self.risk)
            )
        )

    @rx.event
    def choose_status(self, value: str):  # type: ignore[no-untyped-def]
        self.status = value if value in STATUS_CHOICES else ALL
        return self._search(reset=True)

    @rx.event
    def choose_currency(self, value: str):  # type: ignore[no-untyped-def]
        self.currency = value if value in self.currencies else ALL
        return self._search(reset=True)

    @rx.event
    def choose_method(self, value: str):  # type: ignore[no-untyped-def]
        self.method = value if value in METHOD_CHOICES else ALL
        return self._search(reset=True)

    @rx.event
    def choose_gateway(self, value: str):  # type: ignore[no-untyped-def]
        self.gateway = value if value in GATEWAY_CHOICES else ALL
        return self._search(reset=True)

    @rx.event
    def choose_risk(self, value: str):  # type: ignore[no-untyped-def]
        self.risk = value if value in RISK_CHOICES else ALL
        return self._search(reset=True)

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        """The list, narrowed to a risk decision when the link says so (?risk=review)."""
        asked = str(self.router.page.params.get("risk", ""))
        if asked in RISK_CHOICES:
            self.risk = asked
        return self._search(reset=True)

    @rx.event
    def set_date_from(self, value: str):  # type: ignore[no-untyped-def]
        self.date_from = value[:10]
        return self._search(reset=True)

    @rx.event
    def set_date_to(self, value: str):  # type: ignore[no-untyped-def]
        self.date_to = value[:10]
        return self._search(reset=True)

    @rx.event
    def clear_filters(self):  # type: ignore[no-untyped-def]
        self.query, self.date_from, self.date_to = "", "", ""
        self.status = self.currency = self.method = self.gateway = self.risk = ALL
        return self._search(reset=True)

    def _filters(self, viewer: Viewer) -> reporting.PaymentFilters:
        for value in (self.date_from, self.date_to):
            if value:
                try:
                    date.fromisoformat(value)
                except ValueError:
                    raise ValidationFailed("Dates are YYYY-MM-DD") from None
        return filters_from_query(self._query_params(), viewer.timezone)

    def _fetch_page(
        self, viewer: Viewer, *, cursor: str | None, reset: bool
    ) -> tuple[list[dict[str, str]], str | None]:
        filters = self._filters(viewer)
        with session_scope(readonly=True) as db:
            if reset:
                self.currencies = [
                    ALL,
                    *reporting.currencies_used(
                        db, merchant_id=viewer.ctx.merchant_id, livemode=viewer.ctx.livemode
                    ),
                ]
            page = reporting.search_payments(
                db,
                merchant_id=viewer.ctx.merchant_id,
                livemode=viewer.ctx.livemode,
                filters=filters,
                cursor=cursor,
                limit=PAGE_SIZE,
            )
        self.can_export = viewer.can(Permission.EXPORT_DATA)
        return [payment_row(p, viewer.locale, viewer.timezone) for p in page.payments], (
            page.next_cursor
        )


def _review_note(p: Payment, reviewer: User | None, tz: str, locale: str) -> str:
    if p.reviewed_at is None:
        return ""
    approved = p.review_outcome == reviews.ReviewOutcome.APPROVED
    outcome = "Approved" if approved else "Marked fraudulent"
    by = f" by {reviewer.email}" if reviewer else ""
    return f"{outcome}{by}, {when(p.reviewed_at, tz, locale)}"


class PaymentDetailState(AuthState):
    payment: dict[str, str] = {}
    refunds: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []
    webhooks: list[dict[str, str]] = []
    risk_reasons: list[str] = []
    not_found: bool = False
    loaded: bool = False

    can_capture: bool = False
    can_void: bool = False
    can_refund: bool = False
    refundable: str = ""

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
            viewer.require(Permission.VIEW_DATA)
            with session_scope(readonly=True) as db:
                p = payments.get_payment(db, viewer.scope, self._payment_id)
                refunds = payments.refunds_of(db, p.id)
                timeline = reporting.payment_timeline(db, p)
                webhooks = reporting.payment_webhooks(db, p)
                can_block = viewer.can(Permission.MANAGE_SETTINGS)
                blockable = risk.blockable_values(db, p) if can_block else []
                reviewer = db.get(User, p.reviewed_by) if p.reviewed_by else None
        except ServiceError:
            self.not_found = self.loaded = True
            self.payment, self.refunds, self.timeline, self.webhooks = {}, [], [], []
            self.risk_reasons = []
            return None
        locale, tz = viewer.locale, viewer.timezone

        def money(amount: int) -> str:
            return format_money(amount, p.currency, locale)

        remaining = p.amount_captured - p.amount_refunded
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
            "gateway": p.gateway,
            "method": method_label(p.payment_method_type, p.card_brand),
            "order": p.order_id or "—",
            "customer_id": p.customer_id or "",
            "risk_score": "—" if p.risk_score is None else str(p.risk_score),
            "risk_decision": (p.risk_decision or "not assessed").capitalize(),
            "review": "open" if reviews.is_open(p) else (p.review_outcome or ""),
            "review_note": _review_note(p, reviewer, tz, locale),
            "failure": p.failure_message or "",
            "expiry": f"{p.card_exp_month:02d}/{p.card_exp_year}" if p.card_exp_month else "—",
            "description": p.description or "",
        }
        self.risk_reasons = [r.replace("_", " ") for r in (p.risk_reasons or [])]
        self.refunds = [
            {
                "id": r.id,
                "amount": money(r.amount),
                "status": status_label(r.status),
                "reason": (r.reason or "no reason given").replace("_", " "),
                "date": when(r.created_at, tz, locale),
                "failure": r.failure_reason or "",
            }
            for r in refunds
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
                "event": e.type,
                "event_id": e.event_id,
                "date": when(e.created_at, tz, locale),
                "summary": "; ".join(
                    f"{d['url']}: {d['status']}"
                    + (f" (HTTP {d['last_status_code']})" if d["last_status_code"] else "")
                    + (f", {d['attempts']} attempts" if d["attempts"] > 1 else "")
                    for d in e.deliveries
                )
                or "No endpoint subscribed to this event",
            }
            for e in webhooks
        ]
        self.can_capture = p.status in state_machine.CAPTURABLE and viewer.can(
            Permission.CAPTURE_VOID
        )
        self.can_void = p.status in state_machine.VOIDABLE and viewer.can(Permission.CAPTURE_VOID)
        self.can_refund = (
            p.status in state_machine.REFUNDABLE
            and remaining > 0
            and (viewer.can(Permission.REFUND) or viewer.can(Permission.REFUND_LIMITED))
        )
        self.refundable = money(remaining)
        self.can_review = reviews.is_open(p) and viewer.can(Permission.REVIEW_PAYMENTS)
        self.blockable = [
            {
                "kind": kind,
                "label": BLOCK_LABELS[kind],
                "value": "fingerprint " + value[:12] if kind == "card_fingerprint" else value,
                "blocked": "yes" if listed else "",
            }
            for kind, value, listed in blockable
        ]
        self.loaded = True
        return None

    # -- blocklist -------------------------------------------------------------------------

    @rx.event
    def block(self, kind: str):  # type: ignore[no-untyped-def]
        """Block this payment's stored value of that kind: the browser only names the kind."""
        try:
            viewer = permitted_viewer(self, Permission.MANAGE_SETTINGS)
            if viewer is None:
                return AuthState.require_session
            attribute = risk.PAYMENT_BLOCKABLES.get(str(kind))
            with session_scope() as db:
                p = payments.get_payment(db, viewer.scope, self._payment_id)
                value = getattr(p, attribute) if attribute else None
                if not value:
                    raise ValidationFailed("This payment has nothing of that kind to block")
                risk.add_to_blocklist(
                    db,
                    viewer.ctx.merchant_id,
                    str(kind),
                    value,
                    f"From payment {p.id}",
                    actor_type=ActorType.USER,
                    actor_id=viewer.ctx.user_id,
                )
        except ServiceError as exc:
            self.block_error, self.block_message = exc.message, ""
            return None
        self.block_error = ""
        self.block_message = "Blocked: new payments with it are refused. Undo it in Risk rules."
        return self._reload()

    # -- review ----------------------------------------------------------------------------

    @rx.event
    def close_review(self, outcome: str):  # type: ignore[no-untyped-def]
        try:
            viewer = permitted_viewer(self, Permission.REVIEW_PAYMENTS)
            if viewer is None:
                return AuthState.require_session
            with session_scope() as db:
                reviews.close(
                    db,
                    viewer.scope,
                    self._payment_id,
                    str(outcome)[:16],
                    actor=viewer.actor(self.router.session.client_ip),
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
            viewer.require(Permission.CAPTURE_VOID)
            with session_scope() as db:
                current = payments.get_payment(db, viewer.scope, self._payment_id)
                amount = (
                    parse_money(typed, current.currency, viewer.locale, param="amount")
                    if typed
                    else None
                )
                captured = payments.capture(
                    db,
                    viewer.scope,
                    self._payment_id,
                    amount=amount,
                    actor=viewer.actor(self.router.session.client_ip),
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
            viewer.require(Permission.CAPTURE_VOID)
            with session_scope() as db:
                payments.void(
                    db,
                    viewer.scope,
                    self._payment_id,
                    actor=viewer.actor(self.router.session.client_ip),
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
            f" ({self.refund_reason.replace('_', ' ')}). This cannot be undone."
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
