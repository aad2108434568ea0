"""The customer's billing pages: the billing portal (/billing/{secret}) and the hosted invoice
page (/invoice/{token}). Same look and accessibility bar as the hosted checkout: its inlined
stylesheet, the merchant's colour and logo, the sandbox card form with its inline checks
(checkout/card_form.js), labelled fields, announced errors, 44 px targets. Nothing from
portal/ is imported."""

from __future__ import annotations

import reflex as rx

from backend.services.checkout.i18n import catalog
from checkout.billing_state import BillingState
from checkout.pages import CARD_FORM_JS, form_field
from checkout.styles import BILLING_CSS, CSS

S = BillingState

# The checkout's own words (English: these pages are not translated yet), so the two card
# forms read the same.
WORDS = catalog("en_US")
CARD_ERRORS = {
    "data-err-name": WORDS["err_name"],
    "data-err-number": WORDS["err_number"],
    "data-err-expiry": WORDS["err_expiry"],
    "data-err-expired": WORDS["err_expired"],
    "data-err-cvc3": WORDS["err_cvc"].format(n=3),
    "data-err-cvc4": WORDS["err_cvc"].format(n=4),
    "data-err-postal": WORDS["err_postal"],
    "data-err-form": WORDS["err_form"],
}


def header() -> rx.Component:
    return rx.el.header(
        rx.el.div(
            rx.cond(
                S.logo_url != "",
                rx.el.img(src=S.logo_url, alt=S.merchant_name, height="40"),
                rx.el.div(S.merchant_initial, class_name="co-initial", aria_hidden="true"),
            ),
            rx.el.h1(S.merchant_name, title=S.merchant_name),
            class_name="co-merchant",
        ),
        class_name="co-head",
    )


def test_note() -> rx.Component:
    return rx.cond(
        S.test_mode,
        rx.el.p(
            "Test mode: no real money moves. Use a test card such as 4242 4242 4242 4242.",
            class_name="co-note",
            role="note",
        ),
    )


def alerts() -> rx.Component:
    return rx.fragment(
        rx.el.div(S.error, class_name="co-alert", role="alert", aria_live="assertive"),
        rx.el.div(S.notice, class_name="bp-notice", role="status", aria_live="polite"),
    )


def card_form(button: rx.Var | str, on_submit: rx.EventHandler, *, cancel: bool) -> rx.Component:
    """The checkout's sandbox card form (same ids, so card_form.js checks it inline)."""
    return rx.el.form(
        rx.el.p(id="form-check", class_name="co-sr", aria_live="assertive"),
        rx.el.fieldset(
            rx.el.legend("Card details"),
            form_field(WORDS["card_name"], "cc-name", auto_complete="cc-name", max_length=100),
            form_field(
                WORDS["card_number"],
                "cc-number",
                auto_complete="cc-number",
                input_mode="numeric",
                max_length=23,
                spell_check=False,
                extra=rx.el.span(id="cc-brand", class_name="co-brand", aria_live="polite"),
            ),
            rx.el.div(
                form_field(
                    WORDS["card_expiry"],
                    "cc-exp",
                    auto_complete="cc-exp",
                    input_mode="numeric",
                    max_length=7,
                    placeholder="MM / YY",
                ),
                form_field(
                    WORDS["card_cvc"],
                    "cc-csc",
                    auto_complete="cc-csc",
                    input_mode="numeric",
                    max_length=4,
                ),
                class_name="co-row",
            ),
            form_field(WORDS["postal_code"], "postal", auto_complete="postal-code", max_length=16),
            class_name="co-set",
        ),
        rx.el.button(
            rx.cond(S.processing, WORDS["processing"], button),
            type="submit",
            class_name="co-pay",
            disabled=S.processing,
            aria_busy=S.processing,
        ),
        rx.cond(
            cancel,
            rx.el.button("Cancel", type="button", class_name="co-alt", on_click=S.close_forms),
        ),
        id="pay-form",
        on_submit=on_submit,
        reset_on_submit=False,
        no_validate=True,
        custom_attrs=CARD_ERRORS,
    )


def challenge(on_answer: rx.EventHandler, *, card: bool = True) -> rx.Component:
    """The sandbox bank's 3-D Secure question, as on the hosted checkout (`card`: in a card of
    its own; inside one already otherwise)."""
    return rx.el.section(
        rx.el.h2("Confirm it's you", id="challenge-title"),
        rx.el.p("Your bank asks you to confirm this payment."),
        rx.el.p("Test mode: choose how the bank's check ends.", class_name="co-note"),
        rx.el.button(
            "Complete authentication",
            type="button",
            class_name="co-pay",
            on_click=on_answer(True),
            disabled=S.processing,
        ),
        rx.el.button(
            "Fail authentication",
            type="button",
            class_name="co-alt",
            on_click=on_answer(False),
            disabled=S.processing,
        ),
        class_name="co-card co-center" if card else "co-center",
        role="region",
        aria_labelledby="challenge-title",
    )


def no_card_entry() -> rx.Component:
    """With Stripe, card numbers go through Stripe's Payment Element only, which these pages do
    not carry yet: say so rather than show a form that cannot work."""
    return rx.el.p(
        "Entering a new card on this page is not available yet: contact "
        + S.merchant_name.to(str)
        + " to change your card or pay.",
        class_name="co-help",
        role="note",
    )


# -- the portal -------------------------------------------------------------------------------


def subscription_item(sub: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.h3(sub["plan"], class_name="bp-title"),
            rx.el.span(
                sub["status"],
                class_name=rx.cond(sub["overdue"] != "", "bp-badge bp-warn", "bp-badge"),
            ),
            class_name="bp-row",
        ),
        rx.el.p(sub["amount"], class_name="bp-amount"),
        rx.el.p(sub["when"], class_name="co-help"),
        rx.cond(sub["card"] != "", rx.el.p(sub["card"], class_name="co-help")),
        rx.cond(
            S.confirm_cancel == sub["id"],
            rx.el.div(
                rx.el.p(
                    "Cancel this subscription? It stays active until the end of the period "
                    "you have paid for, then ends. Nothing more is charged.",
                ),
                rx.el.button(
                    "Yes, cancel it",
                    type="button",
                    class_name="co-pay bp-danger",
                    on_click=S.cancel_subscription,
                    disabled=S.processing,
                ),
                rx.el.button(
                    "Keep my subscription",
                    type="button",
                    class_name="co-alt",
                    on_click=S.close_forms,
                ),
                class_name="bp-confirm",
                role="alertdialog",
                aria_label="Confirm cancellation",
            ),
            rx.cond(
                sub["can_cancel"] != "",
                rx.el.button(
                    "Cancel subscription",
                    type="button",
                    class_name="bp-textbutton",
                    on_click=S.ask_cancel(sub["id"]),
                    aria_label="Cancel subscription " + sub["plan"].to(str),
                ),
            ),
        ),
        class_name="bp-item",
    )


def subscriptions_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Subscriptions", id="subs-title"),
        rx.cond(
            S.subscriptions.length() > 0,
            rx.el.ul(rx.foreach(S.subscriptions, subscription_item), class_name="bp-list"),
            rx.el.p("You have no subscriptions.", class_name="co-help"),
        ),
        class_name="co-card",
        aria_labelledby="subs-title",
    )


def card_item(card: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.span(card["label"], class_name="bp-title"),
            rx.el.span(card["expires"], class_name="co-help"),
            class_name="bp-col",
        ),
        rx.cond(
            card["default"] != "",
            rx.el.span("Default", class_name="bp-badge"),
            rx.el.button(
                "Make default",
                type="button",
                class_name="bp-textbutton",
                on_click=S.make_default(card["id"]),
                aria_label="Make " + card["label"].to(str) + " the default card",
            ),
        ),
        class_name="bp-item bp-row",
    )


def cards_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Payment method", id="cards-title"),
        rx.cond(
            S.cards.length() > 0,
            rx.el.ul(rx.foreach(S.cards, card_item), class_name="bp-list"),
            rx.el.p("No card saved.", class_name="co-help"),
        ),
        rx.cond(
            S.adding_card,
            rx.el.div(
                rx.el.h3("Add a card", class_name="bp-title"),
                card_form("Save card", S.add_card, cancel=True),
                class_name="bp-form",
            ),
            rx.cond(
                S.card_entry,
                rx.el.button(
                    "Add a card", type="button", class_name="co-alt", on_click=S.open_add_card
                ),
                no_card_entry(),
            ),
        ),
        class_name="co-card",
        aria_labelledby="cards-title",
    )


def invoice_item(inv: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.div(
            rx.el.div(
                rx.el.span(inv["date"], class_name="bp-title"),
                rx.el.span("Invoice " + inv["number"].to(str), class_name="co-help"),
                class_name="bp-col",
            ),
            rx.el.div(
                rx.el.span(inv["amount"], class_name="bp-title"),
                rx.el.span(
                    inv["status"],
                    class_name=rx.cond(inv["payable"] != "", "bp-badge bp-warn", "bp-badge"),
                ),
                class_name="bp-col bp-right",
            ),
            class_name="bp-row",
        ),
        rx.el.div(
            rx.el.a(
                "View",
                href=inv["hosted_url"],
                class_name="co-link",
                aria_label="View invoice " + inv["number"].to(str),
            ),
            rx.el.a(
                "Download PDF",
                href=inv["pdf_url"],
                class_name="co-link",
                download=True,
                aria_label="Download invoice " + inv["number"].to(str) + " as PDF",
            ),
            rx.cond(
                (inv["payable"] != "") & (S.paying_invoice != inv["id"]),
                rx.el.button(
                    "Pay now",
                    type="button",
                    class_name="bp-textbutton bp-strong",
                    on_click=S.open_pay(inv["id"]),
                    aria_label="Pay invoice " + inv["number"].to(str),
                ),
            ),
            class_name="bp-actions",
        ),
        rx.cond(S.paying_invoice == inv["id"], pay_panel()),
        class_name="bp-item",
    )


def pay_panel() -> rx.Component:
    return rx.el.div(
        rx.el.h3(S.paying_label, class_name="bp-title"),
        rx.cond(
            S.cards.length() > 0,
            rx.el.button(
                "Pay with " + S.default_card.to(str),
                type="button",
                class_name="co-pay",
                on_click=S.pay_with_saved,
                disabled=S.processing,
            ),
        ),
        rx.el.p("Or pay with a new card (it becomes your default):", class_name="co-help bp-or"),
        rx.cond(
            S.card_entry,
            card_form("Pay with this card", S.pay_with_new, cancel=True),
            no_card_entry(),
        ),
        class_name="bp-form",
    )


def invoices_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Invoices", id="invoices-title"),
        rx.cond(
            S.invoices.length() > 0,
            rx.el.ul(rx.foreach(S.invoices, invoice_item), class_name="bp-list"),
            rx.el.p("No invoices yet.", class_name="co-help"),
        ),
        class_name="co-card",
        aria_labelledby="invoices-title",
    )


def return_link() -> rx.Component:
    return rx.cond(
        S.return_url != "",
        rx.el.a(
            "← Return to " + S.merchant_name.to(str),
            href=S.return_url,
            class_name="co-link bp-return",
        ),
    )


def portal_body() -> rx.Component:
    return rx.el.div(
        return_link(),
        rx.el.h2("Billing", class_name="bp-heading"),
        rx.el.p(S.customer, class_name="co-help"),
        alerts(),
        rx.cond(
            S.challenge_invoice != "",
            challenge(S.finish_portal_challenge),
            rx.el.div(
                subscriptions_section(),
                cards_section(),
                invoices_section(),
                class_name="bp-stack",
            ),
        ),
    )


# -- the hosted invoice page ------------------------------------------------------------------


def line_item(line: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.span(line["description"]),
        rx.el.span(line["amount"], class_name=rx.cond(line["credit"] != "", "bp-credit", "")),
    )


def invoice_body() -> rx.Component:
    inv = S.invoice
    return rx.el.div(
        rx.el.section(
            rx.el.div(
                rx.el.h2("Invoice " + inv["number"].to(str), id="invoice-title"),
                rx.el.span(
                    inv["status"],
                    class_name=rx.cond(inv["payable"] != "", "bp-badge bp-warn", "bp-badge"),
                ),
                class_name="bp-row",
            ),
            rx.el.dl(
                rx.el.dt("Date"),
                rx.el.dd(inv["date"]),
                rx.el.dt("Period"),
                rx.el.dd(inv["period"]),
                rx.cond(
                    inv["billed_to"] != "",
                    rx.fragment(rx.el.dt("Billed to"), rx.el.dd(inv["billed_to"])),
                ),
                rx.cond(
                    inv["paid_with"] != "",
                    rx.fragment(rx.el.dt("Paid with"), rx.el.dd(inv["paid_with"])),
                ),
                class_name="co-dl",
            ),
            rx.el.ul(rx.foreach(S.lines, line_item), class_name="co-items"),
            rx.el.div(rx.el.span("Total"), rx.el.span(inv["total"]), class_name="co-total"),
            rx.el.div(
                rx.el.span("Amount paid"), rx.el.span(inv["amount_paid"]), class_name="bp-sum"
            ),
            rx.el.div(rx.el.span("Amount due"), rx.el.span(inv["amount_due"]), class_name="bp-sum"),
            rx.el.a(
                "Download PDF",
                href=inv["pdf_url"],
                class_name="co-alt co-button-link",
                download=True,
            ),
            class_name="co-card",
            aria_labelledby="invoice-title",
        ),
        rx.el.section(
            alerts(),
            rx.cond(
                S.challenge,
                challenge(S.finish_invoice_challenge, card=False),
                rx.cond(
                    inv["payable"] != "",
                    rx.el.div(
                        rx.el.h2("Pay " + inv["amount_due"].to(str)),
                        rx.cond(
                            S.card_entry,
                            card_form(
                                "Pay " + inv["amount_due"].to(str), S.pay_invoice, cancel=False
                            ),
                            no_card_entry(),
                        ),
                    ),
                    rx.cond(
                        inv["paid"] != "",
                        rx.el.div(
                            rx.el.div("✓", class_name="co-ok", aria_hidden="true"),
                            rx.el.p("This invoice is paid. Thank you.", class_name="bp-center"),
                        ),
                        rx.el.p("Nothing to pay on this invoice.", class_name="co-help"),
                    ),
                ),
            ),
            class_name="co-card",
        ),
        class_name="co-grid",
    )


def not_found() -> rx.Component:
    return rx.el.section(
        rx.el.h2("This link has expired or is not valid"),
        rx.el.p(
            "For your security, billing links work for a limited time. Ask the business for a "
            "new link, or use the link in your most recent e-mail from them."
        ),
        class_name="co-card co-center",
        role="alert",
    )


def shell(body: rx.Component) -> rx.Component:
    return rx.el.div(
        rx.el.style(CSS + BILLING_CSS),
        rx.script(src=CARD_FORM_JS, defer=True),
        rx.el.div(class_name="co-bar"),
        rx.el.main(
            rx.cond(S.view != "not_found", rx.fragment(header(), test_note())),
            rx.match(
                S.view,
                ("not_found", not_found()),
                ("loading", rx.el.p("Loading…", aria_live="polite", class_name="co-help")),
                body,
            ),
            rx.el.p("Payments are processed securely.", class_name="co-foot"),
            class_name="co-wrap",
            lang="en",
            custom_attrs={"data-view": S.view},
        ),
        class_name="co-root",
        style={"--co-brand": S.brand_color, "--co-brand-text": S.button_text_color},
    )


@rx.page(route="/billing/[secret]", title="Billing", on_load=BillingState.load_portal)
def portal_page() -> rx.Component:
    return shell(portal_body())


@rx.page(route="/invoice/[token]", title="Invoice", on_load=BillingState.load_invoice)
def invoice_page() -> rx.Component:
    return shell(invoice_body())
