"""Invoices: the list filtered by status, and one invoice with its actions. The state only
calls backend.services.billing.invoice_pages and shows what it returns."""

from __future__ import annotations

import reflex as rx

from backend.core.errors import ServiceError
from backend.services.billing import invoice_pages as pages
from backend.services.billing.billing_views import INVOICE_FILTERS
from backend.services.identity.step_up import StepUpRequired
from portal.state.auth import AuthState
from portal.state.formatting import strings
from portal.state.keyset_list import KeysetListState
from portal.state.step_up import step_up_then
from portal.state.subscriptions import ALL
from portal.state.viewer import Viewer, current_viewer

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


class InvoicesState(KeysetListState, AuthState):
    status: str = ALL

    def _fetch_page(
        self, viewer: Viewer, *, cursor: str | None, reset: bool
    ) -> tuple[list[dict[str, str]], str | None]:
        status = "" if self.status == ALL else self.status
        found = pages.invoice_list(viewer, status=status, cursor=cursor)
        return [strings(r) for r in found.rows], found.next_cursor

    @rx.event
    def choose_status(self, value: str):  # type: ignore[no-untyped-def]
        self.status = value if value in dict(STATUS_CHOICES) else ALL
        return self._search(reset=True)


class InvoiceDetailState(AuthState):
    invoice: dict[str, str] = {}
    facts: list[dict[str, str]] = []
    lines: list[dict[str, str]] = []
    attempts: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []
    actions: dict[str, bool] = {}
    can_manage: bool = False
    loaded: bool = False
    not_found: bool = False
    error: str = ""
    notice: str = ""
    retrying: bool = False
    confirm: str = ""  # "void" or "uncollectible" while its dialog is open
    confirm_title: str = ""
    confirm_words: str = ""
    confirm_action: str = ""

    def _invoice_id(self) -> str:
        return str(self.router.page.params.get("invoice_id", ""))[:64]

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        self.error = self.notice = self.confirm = ""
        self.loaded = False
        return self._reload()

    def _reload(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            found = pages.invoice_page(viewer, self._invoice_id())
        except ServiceError:
            self.not_found = self.loaded = True
            self.invoice, self.facts, self.lines, self.attempts, self.timeline = {}, [], [], [], []
            return None
        self.not_found = False
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
        self.loaded = True
        return None

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

    def _act(self, action, done: str, again):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            action(viewer, self._invoice_id(), self.router.session.client_ip or None)
        except StepUpRequired:
            return again
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        self.error, self.notice = "", done
        return self._reload()

    @rx.event
    def void(self):  # type: ignore[no-untyped-def]
        return self._act(
            pages.void,
            "The invoice is void.",
            step_up_then(InvoiceDetailState.void, "Void this invoice"),
        )

    @rx.event
    def mark_uncollectible(self):  # type: ignore[no-untyped-def]
        return self._act(
            pages.mark_uncollectible,
            "The invoice is marked uncollectible.",
            step_up_then(InvoiceDetailState.mark_uncollectible, "Mark this invoice uncollectible"),
        )

    @rx.event
    def retry(self):  # type: ignore[no-untyped-def]
        viewer = current_viewer(self)
        if viewer is None:
            return AuthState.require_session
        try:
            result = pages.retry_payment(
                viewer, self._invoice_id(), self.router.session.client_ip or None
            )
        except ServiceError as exc:
            self.error, self.notice = exc.message, ""
            return None
        if result.paid:
            self.error, self.notice = "", result.message
        else:
            self.error, self.notice = result.message, ""
        return self._reload()
