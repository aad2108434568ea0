"""Invoices: the list filtered by status, and one invoice with its actions. The state only
calls backend.services.billing.invoice_pages and shows what it returns."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.services.billing import invoice_pages as pages
from backend.services.billing.billing_views import INVOICE_FILTERS
from portal.state.auth import AuthState
from portal.state.billing_detail import BillingDetailState
from portal.state.formatting import strings
from portal.state.keyset_list import ALL, StatusListState
from portal.state.step_up import step_up_then
from portal.state.viewer import Viewer

STATUS_CHOICES = [(code or ALL, words) for code, words in INVOICE_FILTERS]
CONFIRMS = {
    "void": (
        "Void this invoice?",
        "Nothing more is owed on it and it can never be paid. This cannot be undone.",
        "Void invoice",
    ),
    "uncollectible": (
        "Mark this invoice uncollectible?",
        "It is written off and no longer retried; the customer can still pay it.",
        "Mark uncollectible",
    ),
}


class InvoicesState(StatusListState, AuthState):
    def _status_codes(self) -> set[str]:
        return {code for code, _ in STATUS_CHOICES}

    def _list(self, viewer: Viewer, *, status: str, cursor: str | None) -> Any:
        return pages.invoice_list(viewer, status=status, cursor=cursor)


class InvoiceDetailState(BillingDetailState, AuthState):
    invoice: dict[str, str] = {}
    facts: list[dict[str, str]] = []
    lines: list[dict[str, str]] = []
    attempts: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []
    actions: dict[str, bool] = {}
    can_manage: bool = False
    confirm: str = ""  # "void" or "uncollectible" while its dialog is open
    confirm_title: str = ""
    confirm_words: str = ""
    confirm_action: str = ""

    def _object_id(self) -> str:
        return str(self.router.page.params.get("invoice_id", ""))[:64]

    def _reset(self) -> None:
        self.confirm = ""

    def _fetch(self, viewer: Viewer, object_id: str) -> Any:
        return pages.invoice_page(viewer, object_id)

    def _show(self, found: Any) -> None:
        if found is None:
            self.invoice, self.facts, self.lines, self.attempts, self.timeline = {}, [], [], [], []
            return
        self.invoice = {
            **strings(found.row),
            "subscription_id": found.subscription_id,
            "total": found.total,
            "hosted_url": found.hosted_url,
            "pdf_url": found.pdf_url,
        }
        self.facts = [strings(f) for f in found.facts]
        self.lines = [
            {**strings(line), "credit": "1" if line.credit else ""} for line in found.lines
        ]
        self.attempts = [strings(f) for f in found.attempts]
        self.timeline = [strings(t) for t in found.timeline]
        self.can_manage = found.can_manage
        self.actions = {
            "void": found.can_void,
            "uncollectible": found.can_mark_uncollectible,
            "retry": found.can_retry,
        }

    @rx.event
    def ask(self, which: str) -> None:
        if which in CONFIRMS:
            self.confirm = which
            self.confirm_title, self.confirm_words, self.confirm_action = CONFIRMS[which]

    @rx.event
    def close_confirm(self, value: bool) -> None:
        if not value:
            self.confirm = ""

    @rx.event
    def confirmed(self):  # type: ignore[no-untyped-def]
        which, self.confirm = self.confirm, ""
        if which == "void":
            return InvoiceDetailState.void
        if which == "uncollectible":
            return InvoiceDetailState.mark_uncollectible
        return None

    @rx.event
    def void(self):  # type: ignore[no-untyped-def]
        return self._act(
            pages.void,
            "The invoice is void.",
            again=step_up_then(InvoiceDetailState.void, "Void this invoice"),
        )

    @rx.event
    def mark_uncollectible(self):  # type: ignore[no-untyped-def]
        return self._act(
            pages.mark_uncollectible,
            "The invoice is marked uncollectible.",
            again=step_up_then(
                InvoiceDetailState.mark_uncollectible, "Mark this invoice uncollectible"
            ),
        )

    @rx.event
    def retry(self):  # type: ignore[no-untyped-def]
        """Charge it now; a decline is the error line, in words, and the page reloads."""
        outcome: list[pages.RetryResult] = []
        reloaded = self._act(
            lambda viewer, invoice_id, ip: outcome.append(
                pages.retry_payment(viewer, invoice_id, ip)
            ),
            "",
        )
        if outcome:
            result = outcome[0]
            self.error, self.notice = ("", result.message) if result.paid else (result.message, "")
        return reloaded
