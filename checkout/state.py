"""The hosted checkout's state: one small substate of rx.State, with nothing of the portal.

It never holds a card number. The sandbox form's inputs are uncontrolled (no value sent to the
server while typing); the number arrives once, as an argument of `pay`, is handed to the
payment service and dropped when the handler returns. Reflex does not log event payloads, and
nothing here puts the number into a message, a var or an exception.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import reflex as rx
from babel.numbers import NumberFormatError, parse_decimal

from backend.core.currency import exponent, format_money
from backend.core.errors import NotFound, RateLimited, ServiceError, ValidationFailed
from backend.services import labels
from backend.services.checkout import branding, customer_actions, payment_links, session_state
from backend.services.checkout import stripe_element as checkout_stripe
from backend.services.checkout.card_checks import card_problems
from backend.services.checkout.i18n import (
    LANGUAGES,
    catalog,
    every,
    format_moment,
    format_wait,
    negotiate,
    normalise_locale,
    t,
    time_zone,
)
from backend.services.checkout.subscribing import Terms

log = logging.getLogger(__name__)

# The browser's time zone, handed to the page's loader: receipts show the customer's clock.
BROWSER_TIME_ZONE = "Intl.DateTimeFormat().resolvedOptions().timeZone"

# Message keys the customer may see after a pay attempt, whatever the gateway said.
_CUSTOMER_ERRORS = {
    "card_declined",
    "insufficient_funds",
    "expired_card",
    "incorrect_cvc",
    "authentication_failed",
    "not_a_test_card",
    "payment_blocked",
    "unavailable",
    "bank_relink",
    "bank_debit_failed",
}


def fill_messages(locale: str, **values: object) -> dict[str, str]:
    """Every message of the page in the locale, placeholders filled (also for first_paint)."""
    defaults: dict[str, object] = {
        "merchant": "",
        "amount": "",
        "email": "",
        "n": 3,
        "rule": "",
        "recurring": "",
    }
    defaults.update({"min": "", "max": "", "currency": "", "url": "", "wait": "", **values})
    defaults = {"last4": "", "outcome": "", "bank": "", **defaults}
    messages = {key: text.format(**defaults) for key, text in catalog(locale).items()}
    messages["err_cvc3"] = t("err_cvc", locale, n=3)
    messages["err_cvc4"] = t("err_cvc", locale, n=4)
    return messages


class CheckoutState(rx.State):
    # loading | form | challenge | complete | expired | locked | not_found | link | link_inactive
    view: str = "loading"
    locale: str = "en_US"
    language: str = "en"
    # The customer's own choice of language, kept in this browser.
    chosen_language: str = rx.LocalStorage("", name="pp_checkout_language", sync=True)
    m: dict[str, str] = {}
    merchant_name: str = ""
    merchant_initial: str = ""
    logo_url: str = ""
    brand_color: str = "#4f46e5"
    button_text_color: str = "#ffffff"
    items: list[dict[str, str]] = []
    total: str = ""
    preset_email: str = ""
    cancel_url: str = ""
    success_url: str = ""
    test_mode: bool = True
    # The session offers "save this card for future payments" (savePaymentMethod).
    save_offer: bool = False
    # A payment link that sells a subscription (its session too): the amounts read "$15.00
    # every month", the page states the consent instead of the checkbox, the button subscribes.
    subscription: bool = False
    # The order's total as the summary shows it: "$15.00", or "$15.00 every month".
    total_words: str = ""
    stripe_element: bool = False
    # Apple Pay and Google Pay: part of the card method (Stripe's Payment Element shows them
    # where the browser has one; the sandbox page shows its test wallet).
    wallets_offered: bool = False
    stripe_publishable_key: str = ""
    stripe_client_secret: str = ""
    # PayPal: offered by the session; its approval page (empty: the offline twin's step here).
    paypal_offered: bool = False
    paypal_url: str = ""
    # Bank payments (ACH): offered by the session (US dollars); the offline Plaid twin's picker
    # (test mode without Plaid keys): its banks and test accounts as [value, label].
    bank_offered: bool = False
    bank_twin: bool = False
    bank_banks: list[list[str]] = []
    bank_accounts: list[list[str]] = []
    # The receipt of a bank payment that is still processing (days, not seconds).
    bank_processing: bool = False
    amount_minor: int = 0
    currency: str = "USD"
    error: str = ""
    processing: bool = False
    receipt: dict[str, str] = {}
    # payment links
    link_custom_amount: bool = False
    link_max_quantity: int = 1
    link_description: str = ""
    link_button: str = ""
    # The total for each quantity (index 0: one), and the texts the browser fills in as the
    # quantity changes ({n}, {amount}): checkout/link_quantity.js shows a new total at once.
    link_totals: list[str] = []
    link_texts: dict[str, str] = {}

    _amount: int = 0
    _link_min: int = 0
    _link_max: int = 0
    _time_zone: str = "UTC"
    _paid_at: datetime | None = None
    _bank_email: str = ""

    # -- loading -----------------------------------------------------------------------------

    def _pick_locale(self) -> None:
        browser = negotiate(self.router.headers.accept_language)
        chosen = self.chosen_language if self.chosen_language in LANGUAGES else ""
        self.locale = normalise_locale(chosen) if chosen else browser
        self.language = self.locale.split("_")[0]

    def _session_id(self) -> str:
        return str(self.router.page.params.get("session_id", ""))[:40]

    def _apply_merchant(self, merchant: customer_actions.Storefront) -> None:
        colors = branding.button_colors(merchant.brand_color)
        self.merchant_name = merchant.name
        self.merchant_initial = merchant.name[:1].upper()
        self.logo_url = merchant.logo_url
        self.brand_color, self.button_text_color = colors.background, colors.text

    def _fill_messages(self, **values: object) -> None:
        values = {"merchant": self.merchant_name, "amount": self.total, **values}
        self.m = fill_messages(self.locale, currency=self.currency, **values)

    def _throttled(self, seconds: int) -> str:
        return t("address_throttled", self.locale, wait=format_wait(seconds, self.locale))

    def _money(self, amount: int) -> str:
        return format_money(amount, self.currency, self.locale)

    def _every(self, amount: str, terms: Terms | None) -> str:
        """ "$15.00 every month" for a subscription's terms; the amount alone otherwise."""
        return every(amount, terms.interval, terms.count, self.locale) if terms else amount

    def _show(self, view: customer_actions.CheckoutView) -> None:
        result, merchant, terms = view.result, view.storefront, view.terms
        session = result.session
        self._apply_merchant(merchant)
        self.currency, self._amount = session.currency, session.amount_total
        self.amount_minor = session.amount_total
        self.total = self._money(session.amount_total)
        self.subscription = terms is not None
        self.items = [
            {
                "name": item["name"],
                "quantity": t("quantity", self.locale, n=item["quantity"]),
                "amount": self._every(
                    self._money(item["quantity"] * item["unitAmountCents"]), terms
                ),
            }
            for item in session.line_items
        ]
        self.preset_email = session.customer_email or ""
        self.cancel_url = session.cancel_url or ""
        self.success_url = session.success_url or ""
        self.test_mode = not session.livemode
        self.save_offer = bool(session.save_payment_method)
        self.stripe_element = checkout_stripe.live_card_element(session)
        self.stripe_publishable_key = checkout_stripe.publishable_key()
        self.total_words = self._every(self.total, terms)
        self._fill_messages(recurring=self.total_words)
        self.stripe_client_secret = result.client_secret or ""
        self.paypal_offered = "paypal" in (session.payment_methods or ())
        self.wallets_offered = "card" in (session.payment_methods or ())
        self.paypal_url = result.action_url or ""
        self.bank_offered = "bank" in (session.payment_methods or ())
        if self.bank_offered:
            self._bank_choices()
        views = {
            session_state.OPEN: "form",
            session_state.DECLINED: "form",
            session_state.THROTTLED: "form",
            session_state.REQUIRES_ACTION: "challenge",
            session_state.COMPLETE: "complete",
            session_state.EXPIRED: "expired",
            session_state.LOCKED: "locked",
        }
        self.view = views[result.status]
        paypal = result.payment is not None and result.payment.payment_method_type == "paypal"
        if result.status == session_state.REQUIRES_ACTION and paypal:
            self.view = "paypal"  # PayPal's approval page, or the offline twin's step here
        elif result.status == session_state.REQUIRES_ACTION and self.stripe_element:
            self.view = "form"  # the Payment Element runs Stripe's own challenge in place
        if result.status == session_state.DECLINED:
            self.error = self.m[result.error_code or "card_declined"]
            if result.blocked_by:  # test mode: tell the tester which rule blocked it
                self.error = t("payment_blocked_test", self.locale, rule=result.blocked_by)
        if result.status == session_state.THROTTLED:
            self.error = self._throttled(result.retry_after)
        if result.status == session_state.DECLINED and self.bank_offered:
            paid_by_bank = result.payment is not None and result.payment.payment_method_type
            self.view = "bank" if paid_by_bank == "bank" else self.view
        self.bank_processing = result.payment is not None and result.payment.status == "processing"
        complete = self.view == "complete"
        self.receipt = self._receipt(session, result.payment, view.bank_account) if complete else {}

    def _bank_choices(self) -> None:
        banks, accounts = customer_actions.bank_twin_choices()
        self.bank_twin = bool(banks) and self.test_mode
        self.bank_banks = [[value, name] for value, name in banks]
        self.bank_accounts = [
            [number, t("bank_account_choice", self.locale, last4=last4, outcome=outcome)]
            for number, last4, outcome in (
                (n, last4, t(f"bank_outcome_{code}", self.locale)) for n, last4, code in accounts
            )
        ]

    def _receipt(self, session: Any, payment: Any, bank: str = "") -> dict[str, str]:
        self._paid_at = session.completed_at or datetime.now(UTC)
        card = bank
        if payment is not None and payment.card_last4:
            card = labels.card(payment.card_brand, payment.card_last4, payment.card_wallet)
        elif payment is not None and payment.payment_method_type == "paypal":
            card = labels.gateway("paypal")
        email = session.customer_email or ""
        return {
            "amount": self.total,
            "card": card,
            "date": format_moment(self._paid_at, self.locale, self._time_zone),
            "reference": payment.id if payment else "",
            "sent": t("receipt_sent", self.locale, email=email) if email else "",
        }

    @rx.event
    def load_session(self, browser_time_zone: str = ""):  # type: ignore[no-untyped-def]
        """on_load, with the browser's time zone (checkout/pages.py asks the browser first)."""
        self.view, self.error, self.processing = "loading", "", False
        self._pick_locale()
        self._time_zone = time_zone(browser_time_zone or self._time_zone)
        try:
            view = customer_actions.open_session(
                self._session_id(), locale=self.locale, time_zone=self._time_zone
            )
        except NotFound:
            self._fill_messages()
            self.view = "not_found"
            return
        self._show(view)
        # Back from PayPal's page: its return or cancel URL says which. The return proves
        # nothing (the order's state at PayPal decides); a cancel only ends our attempt.
        back = str(self.router.url.query_parameters.get("paypal", ""))
        if self.view == "paypal" and back in ("return", "cancel"):
            return CheckoutState.finish_paypal(back == "return")
        return None

    @rx.event
    def finish_paypal(self, returned: bool):  # type: ignore[no-untyped-def]
        """The customer came back from PayPal's page (return URL) or cancelled there."""
        yield from self._finish(None if returned else False)

    @rx.event
    def choose_language(self, language: str):  # type: ignore[no-untyped-def]
        if language not in LANGUAGES:
            return None
        self.chosen_language = language
        return CheckoutState.reload

    @rx.event
    def reload(self):  # type: ignore[no-untyped-def]
        if self.router.page.params.get("link_id"):
            return CheckoutState.load_link
        return CheckoutState.load_session(self._time_zone)

    # -- paying ------------------------------------------------------------------------------

    @rx.event
    def pay(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        """Sandbox card form: check again, then charge. The number lives only in `form`.
        Its test wallet buttons submit the same form with `wallet` set and no card fields."""
        if self.processing or self.view != "form":
            return
        email = self.preset_email or str(form.get("email", "")).strip()
        # A test wallet button: a tokenised card, so no card fields to check.
        wallet = str(form.get("wallet", ""))[:20] or None
        problems = wallet is None and card_problems(
            number=str(form.get("cc-number", "")),
            expiry=str(form.get("cc-exp", "")),
            cvc=str(form.get("cc-csc", "")),
            name=str(form.get("cc-name", "")),
            postal=str(form.get("postal", "")),
            today=datetime.now(UTC).date(),
        )
        if problems:
            self.error = self.m["err_form"]
            return
        self.processing, self.error = True, ""
        yield
        save = self.save_offer and str(form.get("save-card", "")) in ("on", "true")
        number = "" if wallet else str(form.get("cc-number", ""))
        yield from self._charge(number, email, save, wallet=wallet)

    @rx.event
    def pay_with_stripe(self, payment_method_id: str, email: str):  # type: ignore[no-untyped-def]
        """Live mode: the Payment Element made a PaymentMethod in the browser (pm_...)."""
        if self.processing or self.view != "form":
            return
        self.processing, self.error = True, ""
        yield
        yield from self._charge(str(payment_method_id)[:255], self.preset_email or email)

    @rx.event
    def pay_with_paypal(self):  # type: ignore[no-untyped-def]
        """Start a PayPal payment; the customer then approves it on PayPal's page."""
        if self.processing or self.view != "form" or not self.paypal_offered:
            return
        self.processing, self.error = True, ""
        yield
        yield from self._charge("", self.preset_email, method="paypal")
        if self.view == "paypal" and self.paypal_url:
            yield rx.redirect(self.paypal_url)

    @rx.event
    def choose_bank(self) -> None:
        """ "Pay by bank": the bank step (the mandate, then Plaid Link or its twin)."""
        if self.processing or self.view != "form" or not self.bank_offered:
            return
        self.view, self.error = "bank", ""

    @rx.event
    def choose_card(self) -> None:
        if self.processing or self.view != "bank":
            return
        self.view, self.error = "form", ""

    @rx.event
    def pay_by_bank_twin(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        """Test mode without Plaid keys: the twin's bank and account stand in for Plaid Link."""
        if self.processing or self.view != "bank" or not self.bank_twin:
            return
        try:
            public_token, account_id = customer_actions.bank_twin_link(
                str(form.get("bank", ""))[:40], str(form.get("account", ""))[:40]
            )
        except ValidationFailed:
            self.error = self.m["bank_relink"]
            return
        email = self.preset_email or str(form.get("email", "")).strip()
        yield from self._bank_charge(public_token, account_id, email)

    @rx.event
    def open_plaid(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        """Plaid keys set: open Plaid Link; paying follows its answer (plaid_finished)."""
        if self.processing or self.view != "bank" or self.bank_twin:
            return
        self._bank_email = self.preset_email or str(form.get("email", "")).strip()
        try:
            script = customer_actions.bank_link_script(self._session_id())
        except ServiceError:
            self.error = self.m["unavailable"]
            return
        self.processing, self.error = True, ""
        yield
        yield rx.call_script(script, callback=CheckoutState.plaid_finished)

    @rx.event
    def plaid_finished(self, result: dict):  # type: ignore[no-untyped-def, type-arg]
        self.processing = False
        result = result if isinstance(result, dict) else {}
        if not result.get("public_token"):  # Link closed by the customer, or failed
            self.error = self.m["bank_relink"] if result.get("error") else ""
            return
        yield from self._bank_charge(
            str(result["public_token"])[:200],
            str(result.get("account_id", ""))[:200],
            self._bank_email,
        )

    def _bank_charge(self, public_token: str, account_id: str, email: str):  # type: ignore[no-untyped-def]
        self.processing, self.error = True, ""
        yield
        agent = str(self.router.headers.user_agent or "")[:500]
        bank = customer_actions.BankChoice(public_token, account_id, agent)
        yield from self._charge("", email, method="bank", bank=bank)

    def _charge(  # type: ignore[no-untyped-def]
        self,
        token: str,
        email: str,
        save: bool = False,
        method: str = "card",
        bank: customer_actions.BankChoice | None = None,
        wallet: str | None = None,
    ):
        try:
            view = customer_actions.pay(
                self._session_id(),
                token=token,
                customer_email=email or None,
                ip_address=self.router.session.client_ip or None,
                locale=self.locale,
                time_zone=self._time_zone,
                save_card=save,
                method=method,
                bank=bank,
                wallet=wallet,
            )
        except ValidationFailed as exc:
            self.processing = False
            self.error = self.m[self._customer_error(exc)]
            return
        except ServiceError:
            self.processing = False
            self.error = self.m["unavailable"]
            return
        self.processing = False
        self._show(view)
        if self.view == "complete":
            yield rx.call_script("window.scrollTo(0, 0)")

    def _customer_error(self, exc: ValidationFailed) -> str:
        if exc.code == "not_a_test_card":
            return "not_a_test_card"
        if exc.param == "customerEmail":
            return "err_email"
        if exc.param == "account":
            return "bank_relink"
        return "card_declined" if exc.code not in _CUSTOMER_ERRORS else exc.code

    @rx.event
    def show_stripe_error(self, message: str) -> None:
        """Stripe.js's own message (already in the customer's language), shown in the alert."""
        self.processing = False
        self.error = str(message)[:300] or self.m["card_declined"]

    @rx.event
    def finish_challenge(self, approved: bool):  # type: ignore[no-untyped-def]
        """Sandbox 3-D Secure: the customer's answer to the bank's question."""
        yield from self._finish(bool(approved))

    @rx.event
    def finish_stripe_action(self):  # type: ignore[no-untyped-def]
        """Live mode: stripe.handleNextAction finished in the browser; read the outcome."""
        yield from self._finish(None)

    def _finish(self, approved: bool | None):  # type: ignore[no-untyped-def]
        if self.processing:
            return
        self.processing, self.error = True, ""
        yield
        try:
            view = customer_actions.finish_action(
                self._session_id(),
                approved=approved,
                ip_address=self.router.session.client_ip or None,
                locale=self.locale,
                time_zone=self._time_zone,
            )
        except ServiceError:
            self.processing, self.error = False, self.m["unavailable"]
            return
        self.processing = False
        self._show(view)

    # -- payment links -----------------------------------------------------------------------

    @rx.event
    def load_link(self) -> None:
        self.view, self.error, self.processing = "loading", "", False
        self._pick_locale()
        link_id = str(self.router.page.params.get("link_id", ""))[:40]
        try:
            found = customer_actions.open_link(link_id)
        except NotFound:
            self._fill_messages()
            self.view = "not_found"
            return
        link, terms = found.link, found.terms
        self._apply_merchant(found.storefront)
        self.currency = link.currency
        self.test_mode = not link.livemode
        self.subscription = terms is not None
        self.link_description = link.description or ""
        self.link_custom_amount = link.unit_amount is None
        self.link_max_quantity = link.max_quantity
        self._link_min, self._link_max = link.min_amount or 0, link.max_amount or 0
        totals = payment_links.quantity_totals(link, self.locale)
        self.link_totals = [self._every(total, terms) for total in totals]
        self.total = self.link_totals[0] if self.link_totals else ""
        quantity = t("quantity", self.locale, n=1) if link.max_quantity > 1 else ""
        self.items = [{"name": link.name, "quantity": quantity, "amount": self.total}]
        self._fill_messages(
            min=self._money(self._link_min) if self._link_min else "",
            max=self._money(self._link_max) if self._link_max else "",
            n=link.max_quantity,
        )
        texts = catalog(self.locale)
        self.link_texts = {"quantity": texts["quantity"], "button": texts["continue_pay"]}
        self.link_button = (
            t("continue_pay", self.locale, amount=self.total) if self.total else self.m["continue"]
        )
        if terms is not None:  # the amount every period is in the summary; the button subscribes
            self.link_texts["button"] = self.link_button = texts["continue_subscribe"]
        self.view = "link" if found.open else "link_inactive"

    @rx.event
    def start_link(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        link_id = str(self.router.page.params.get("link_id", ""))[:40]
        amount: int | None = None
        if self.link_custom_amount:
            amount = self._parse_amount(str(form.get("amount", "")))
            if amount is None or not self._link_min <= amount <= self._link_max:
                self.error = self.m["err_amount"]
                return None
        quantity = 1
        if self.link_max_quantity > 1:
            try:
                quantity = int(str(form.get("quantity") or "1"))
            except ValueError:
                quantity = 0
            if not 1 <= quantity <= self.link_max_quantity:
                self.error = self.m["err_quantity"]
                return None
        try:
            new_session_id = customer_actions.start_link(
                link_id,
                amount=amount,
                quantity=quantity,
                ip_address=self.router.session.client_ip or None,
            )
        except RateLimited as exc:
            self.error = self._throttled(exc.retry_after)
            return None
        except ValidationFailed as exc:
            self.error = self.m["err_amount"] if exc.param == "amount" else self.m["unavailable"]
            if exc.code == "link_inactive":
                self.view = "link_inactive"
            return None
        return rx.redirect(f"/pay/{new_session_id}")

    def _parse_amount(self, text: str) -> int | None:
        """A typed amount in the customer's locale (12,50 in Spain) as minor units."""
        try:
            value = parse_decimal(text.strip(), locale=self.locale, strict=False)
        except (NumberFormatError, InvalidOperation, ValueError):
            return None
        minor = value.scaleb(exponent(self.currency))
        if minor != minor.to_integral_value() or minor <= 0:
            return None
        return int(minor.to_integral_value()) if minor < Decimal(10) ** 15 else None
