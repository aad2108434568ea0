"""The customer's billing pages' state: the billing portal (/billing/{secret}) and the hosted
invoice page (/invoice/{token}). One small substate; it only calls
backend.services.billing.customer_pages and copies the words it answers.

As on the checkout, a card number is never held here: the sandbox form's inputs are
uncontrolled, the number arrives once as an argument of the submit event, is handed to the
service and dropped.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime

import reflex as rx

from backend.core.errors import NotFound, RateLimited, ServiceError
from backend.services.billing import customer_pages
from backend.services.checkout.card_checks import card_problems

FORM_PROBLEM = "Check the highlighted fields."
UNAVAILABLE = "Something went wrong on our side. Nothing was charged; try again."


def _strings(row: object) -> dict[str, str]:
    """A row as the page's strings ("1" or "" for yes and no)."""
    out: dict[str, str] = {}
    for key, value in asdict(row).items():  # type: ignore[call-overload]
        out[key] = ("1" if value else "") if isinstance(value, bool) else str(value)
    return out


class BillingState(rx.State):
    # loading | portal | invoice | not_found
    view: str = "loading"
    merchant_name: str = ""
    merchant_initial: str = ""
    logo_url: str = ""
    brand_color: str = "#4f46e5"
    button_text_color: str = "#ffffff"
    test_mode: bool = True
    error: str = ""
    notice: str = ""
    processing: bool = False
    # the portal
    customer: str = ""
    return_url: str = ""
    card_entry: bool = True  # the sandbox card form (not with Stripe yet)
    subscriptions: list[dict[str, str]] = []
    cards: list[dict[str, str]] = []
    default_card: str = ""  # "Visa •••• 4242"
    invoices: list[dict[str, str]] = []
    adding_card: bool = False
    paying_invoice: str = ""  # the invoice whose pay form is open
    paying_label: str = ""  # "Invoice ABC-0001, $15.00"
    challenge_invoice: str = ""  # the invoice whose payment waits for 3-D Secure
    confirm_cancel: str = ""  # the subscription whose cancellation is being confirmed
    # the hosted invoice page
    invoice: dict[str, str] = {}
    lines: list[dict[str, str]] = []
    challenge: bool = False

    # -- shared ---------------------------------------------------------------------------

    def _brand(self, brand: customer_pages.Brand) -> None:
        self.merchant_name = brand.name
        self.merchant_initial = brand.name[:1].upper()
        self.logo_url = brand.logo_url
        self.brand_color, self.button_text_color = brand.brand_color, brand.button_text_color

    def _ip(self) -> str | None:
        return self.router.session.client_ip or None

    def _param(self, name: str, longest: int) -> str:
        return str(self.router.page.params.get(name, ""))[:longest]

    @staticmethod
    def _card_problem(form: dict[str, str]) -> bool:
        return bool(
            card_problems(
                number=str(form.get("cc-number", "")),
                expiry=str(form.get("cc-exp", "")),
                cvc=str(form.get("cc-csc", "")),
                name=str(form.get("cc-name", "")),
                postal=str(form.get("postal", "")),
                today=datetime.now(UTC).date(),
            )
        )

    def _not_found(self) -> None:
        self.view = "not_found"
        self.merchant_name = self.merchant_initial = self.logo_url = ""
        self.subscriptions, self.cards, self.invoices = [], [], []
        self.invoice, self.lines = {}, []

    # -- the portal -----------------------------------------------------------------------

    def _secret(self) -> str:
        return self._param("secret", 80)

    def _show_portal(self) -> None:
        view = customer_pages.open_portal(self._secret())
        self._brand(view.brand)
        self.customer, self.return_url = view.customer, view.return_url
        self.test_mode, self.card_entry = view.test_mode, view.card_entry
        self.subscriptions = [_strings(s) for s in view.subscriptions]
        self.cards = [_strings(c) for c in view.cards]
        self.default_card = next((c.label for c in view.cards if c.default), "")
        self.invoices = [_strings(i) for i in view.invoices]
        self.view = "portal"

    @rx.event
    def load_portal(self) -> None:
        self.view, self.error, self.notice, self.processing = "loading", "", "", False
        self.adding_card, self.paying_invoice, self.confirm_cancel = False, "", ""
        try:
            self._show_portal()
            self.challenge_invoice = customer_pages.awaiting_in_portal(self._secret())
        except NotFound:
            self._not_found()

    def _refresh(self, notice: str = "") -> None:
        try:
            self._show_portal()
        except NotFound:
            self._not_found()
            return
        self.notice = notice

    @rx.event
    def open_add_card(self) -> None:
        self.adding_card, self.paying_invoice, self.error, self.notice = True, "", "", ""

    @rx.event
    def close_forms(self) -> None:
        self.adding_card, self.paying_invoice, self.confirm_cancel, self.error = False, "", "", ""

    @rx.event
    def add_card(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        if self.processing:
            return
        if self._card_problem(form):
            self.error = FORM_PROBLEM
            return
        self.processing, self.error = True, ""
        yield
        try:
            outcome = customer_pages.add_card(
                self._secret(), str(form.get("cc-number", "")), ip_address=self._ip()
            )
        except NotFound:
            self.processing = False
            self._not_found()
            return
        except RateLimited as exc:
            self.processing, self.error = False, exc.message
            return
        except ServiceError:
            self.processing, self.error = False, UNAVAILABLE
            return
        self.processing = False
        if not outcome.ok:
            self.error = outcome.message
            return
        self.adding_card = False
        self._refresh(outcome.message)

    @rx.event
    def make_default(self, payment_method_id: str):  # type: ignore[no-untyped-def]
        try:
            outcome = customer_pages.make_default(self._secret(), str(payment_method_id)[:40])
        except NotFound:
            self._not_found()
            return
        except ServiceError:
            self.error = UNAVAILABLE
            return
        self._refresh(outcome.message)

    @rx.event
    def ask_cancel(self, subscription_id: str) -> None:
        self.confirm_cancel, self.error, self.notice = str(subscription_id)[:40], "", ""

    @rx.event
    def cancel_subscription(self):  # type: ignore[no-untyped-def]
        if self.processing or not self.confirm_cancel:
            return
        self.processing = True
        yield
        try:
            outcome = customer_pages.cancel(self._secret(), self.confirm_cancel)
        except NotFound:
            self.processing = False
            self._not_found()
            return
        except ServiceError as exc:
            self.processing, self.error, self.confirm_cancel = False, exc.message, ""
            return
        self.processing, self.confirm_cancel = False, ""
        self._refresh(outcome.message)

    @rx.event
    def open_pay(self, invoice_id: str) -> None:
        found = next((i for i in self.invoices if i["id"] == invoice_id), None)
        if found is None:
            return
        self.paying_invoice, self.adding_card, self.error, self.notice = found["id"], False, "", ""
        self.paying_label = f"Invoice {found['number']}: {found['amount']}"

    @rx.event
    def pay_with_saved(self):  # type: ignore[no-untyped-def]
        default = next((c["id"] for c in self.cards if c["default"]), "")
        if not default:
            return
        yield from self._pay(token=None, payment_method_id=default)

    @rx.event
    def pay_with_new(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        if self._card_problem(form):
            self.error = FORM_PROBLEM
            return
        yield from self._pay(token=str(form.get("cc-number", "")), payment_method_id=None)

    def _pay(self, *, token: str | None, payment_method_id: str | None):  # type: ignore[no-untyped-def]
        if self.processing or not self.paying_invoice:
            return
        self.processing, self.error = True, ""
        yield
        invoice_id = self.paying_invoice
        try:
            outcome = customer_pages.pay_from_portal(
                self._secret(),
                invoice_id,
                token=token,
                payment_method_id=payment_method_id,
                ip_address=self._ip(),
            )
        except NotFound:
            self.processing = False
            self._not_found()
            return
        except RateLimited as exc:
            self.processing, self.error = False, exc.message
            return
        except ServiceError:
            self.processing, self.error = False, UNAVAILABLE
            return
        self.processing = False
        if outcome.needs_action:
            self.challenge_invoice, self.paying_invoice = invoice_id, ""
            return
        if not outcome.ok:
            self.error = outcome.message
            return
        self.paying_invoice = ""
        self._refresh(outcome.message)

    @rx.event
    def finish_portal_challenge(self, approved: bool):  # type: ignore[no-untyped-def]
        if self.processing or not self.challenge_invoice:
            return
        self.processing, self.error = True, ""
        yield
        try:
            outcome = customer_pages.finish_from_portal(
                self._secret(), self.challenge_invoice, bool(approved)
            )
        except NotFound:
            self.processing = False
            self._not_found()
            return
        except ServiceError:
            self.processing, self.error = False, UNAVAILABLE
            return
        self.processing = False
        if outcome.needs_action:
            self.error = outcome.message
            return
        self.challenge_invoice = ""
        self._refresh(outcome.message)
        self.error = "" if outcome.ok else outcome.message

    # -- the hosted invoice page ----------------------------------------------------------

    def _token(self) -> str:
        return self._param("token", 120)

    def _show_invoice(self) -> None:
        view = customer_pages.open_invoice(self._token())
        self._brand(view.brand)
        self.test_mode, self.card_entry = view.test_mode, view.card_entry
        row = asdict(view)
        row.pop("brand")
        self.lines = [_strings(line) for line in view.lines]
        row.pop("lines")
        self.invoice = {
            k: ("1" if v else "") if isinstance(v, bool) else str(v) for k, v in row.items()
        }
        self.challenge = view.needs_action
        self.view = "invoice"

    @rx.event
    def load_invoice(self) -> None:
        self.view, self.error, self.notice, self.processing = "loading", "", "", False
        try:
            self._show_invoice()
        except NotFound:
            self._not_found()

    @rx.event
    def pay_invoice(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        if self.processing:
            return
        if self._card_problem(form):
            self.error = FORM_PROBLEM
            return
        self.processing, self.error = True, ""
        yield
        try:
            outcome = customer_pages.pay_hosted_invoice(
                self._token(), str(form.get("cc-number", "")), ip_address=self._ip()
            )
        except NotFound:
            self.processing = False
            self._not_found()
            return
        except RateLimited as exc:
            self.processing, self.error = False, exc.message
            return
        except ServiceError:
            self.processing, self.error = False, UNAVAILABLE
            return
        self.processing = False
        self._after_invoice(outcome)

    @rx.event
    def finish_invoice_challenge(self, approved: bool):  # type: ignore[no-untyped-def]
        if self.processing:
            return
        self.processing, self.error = True, ""
        yield
        try:
            outcome = customer_pages.finish_hosted_action(self._token(), bool(approved))
        except NotFound:
            self.processing = False
            self._not_found()
            return
        except ServiceError:
            self.processing, self.error = False, UNAVAILABLE
            return
        self.processing = False
        self._after_invoice(outcome)

    def _after_invoice(self, outcome: customer_pages.Outcome) -> None:
        try:
            self._show_invoice()
        except NotFound:
            self._not_found()
            return
        self.challenge = outcome.needs_action
        self.notice = outcome.message if outcome.ok else ""
        self.error = "" if outcome.ok else outcome.message
