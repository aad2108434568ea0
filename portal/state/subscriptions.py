"""Subscriptions: the list filtered by status, and one subscription with its actions. The
state only calls backend.services.billing.subscription_pages and shows what it returns."""

from __future__ import annotations

from typing import Any

import reflex as rx

from backend.services.billing import subscription_pages as pages
from backend.services.billing.billing_views import SUBSCRIPTION_FILTERS
from portal.state.auth import AuthState
from portal.state.billing_detail import BillingDetailState
from portal.state.formatting import strings
from portal.state.keyset_list import ALL, StatusListState
from portal.state.step_up import step_up_then
from portal.state.viewer import Viewer

STATUS_CHOICES = [(code or ALL, words) for code, words in SUBSCRIPTION_FILTERS]


class SubscriptionsState(StatusListState, AuthState):
    def _status_codes(self) -> set[str]:
        return {code for code, _ in STATUS_CHOICES}

    def _list(self, viewer: Viewer, *, status: str, cursor: str | None) -> Any:
        return pages.subscription_list(viewer, status=status, cursor=cursor)


class SubscriptionDetailState(BillingDetailState, AuthState):
    sub: dict[str, str] = {}
    items: list[dict[str, str]] = []
    facts: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    more_invoices: bool = False
    timeline: list[dict[str, str]] = []
    can_manage: bool = False
    actions: dict[str, bool] = {}
    confirm: str = ""  # "now" or "period_end" while the cancel dialog is open
    editing_item: str = ""  # the item whose quantity is being changed

    def _object_id(self) -> str:
        return str(self.router.page.params.get("subscription_id", ""))[:64]

    def _reset(self) -> None:
        self.confirm = self.editing_item = ""

    def _fetch(self, viewer: Viewer, object_id: str) -> Any:
        return pages.subscription_page(viewer, object_id)

    def _show(self, found: Any) -> None:
        if found is None:
            self.sub, self.items, self.facts, self.invoices, self.timeline = {}, [], [], [], []
            return
        self.sub = strings(found.row)
        self.items = [strings(i) for i in found.items]
        self.facts = [strings(f) for f in found.facts]
        self.invoices = [strings(i) for i in found.invoices]
        self.more_invoices = found.more_invoices
        self.timeline = [strings(t) for t in found.timeline]
        self.can_manage = found.can_manage
        self.actions = {
            "cancel": found.can_cancel,
            "cancel_at_period_end": found.can_cancel_at_period_end,
            "undo_cancel": found.can_undo_cancel,
            "pause": found.can_pause,
            "resume": found.can_resume,
            "quantity": found.can_change_quantity,
        }

    @rx.event
    def ask_cancel(self, when: str) -> None:
        self.confirm = when if when in ("now", "period_end") else ""

    @rx.event
    def close_confirm(self, value: bool) -> None:
        if not value:
            self.confirm = ""

    @rx.event
    def cancel(self, when: str):  # type: ignore[no-untyped-def]
        self.confirm = ""
        at_period_end = when == "period_end"
        return self._act(
            lambda viewer, sub_id, ip: pages.cancel(
                viewer, sub_id, at_period_end=at_period_end, ip=ip
            ),
            "It cancels at the end of the current period."
            if at_period_end
            else "The subscription is canceled.",
            again=step_up_then(
                SubscriptionDetailState.cancel, "Cancel this subscription", when=when
            ),
        )

    @rx.event
    def keep(self):  # type: ignore[no-untyped-def]
        return self._act(pages.keep, "It renews again at the end of the period.")

    @rx.event
    def pause(self):  # type: ignore[no-untyped-def]
        return self._act(pages.pause, "Collection is paused: nothing is charged until resumed.")

    @rx.event
    def resume(self):  # type: ignore[no-untyped-def]
        return self._act(pages.resume, "Collection resumed.")

    @rx.event
    def edit_quantity(self, item_id: str) -> None:
        self.editing_item, self.error, self.notice = item_id[:64], "", ""

    @rx.event
    def stop_editing(self) -> None:
        self.editing_item = ""

    @rx.event
    def save_quantity(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        item_id, self.editing_item = self.editing_item, ""
        quantity = str(form.get("quantity", ""))[:12]
        return self._act(
            lambda viewer, sub_id, ip: pages.change_quantity(
                viewer, sub_id, item_id, quantity, ip=ip
            ),
            "Quantity changed; the difference is prorated on the next invoice.",
        )
