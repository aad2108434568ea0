"""The hosted checkout pages: /pay/{session_id} and /link/{link_id}.

Plain HTML elements and one inlined stylesheet: nothing from portal/ is imported, so the
route's JavaScript holds no portal component (tests/e2e/test_checkout_isolation.py checks the
built chunk).
"""

from __future__ import annotations

import reflex as rx

from backend.services.checkout.i18n import LANGUAGES
from checkout.components.stripe_element import stripe_checkout
from checkout.state import BROWSER_TIME_ZONE, CheckoutState
from checkout.styles import CSS

S = CheckoutState
CARD_FORM_JS = rx.asset("card_form.js", shared=True)
LINK_QUANTITY_JS = rx.asset("link_quantity.js", shared=True)


def form_field(
    label: rx.Var | str,
    field_id: str,
    *,
    help_text: rx.Var | str | None = None,
    extra: rx.Component | None = None,
    **input_props: object,
) -> rx.Component:
    described = f"{field_id}-error" + (f" {field_id}-help" if help_text is not None else "")
    control = rx.el.input(id=field_id, name=field_id, aria_describedby=described, **input_props)
    return rx.el.div(
        rx.el.label(label, html_for=field_id),
        rx.el.div(control, extra, class_name="co-num") if extra is not None else control,
        rx.el.p(help_text, id=f"{field_id}-help", class_name="co-help")
        if help_text is not None
        else rx.fragment(),
        rx.el.p(id=f"{field_id}-error", class_name="co-err", aria_live="polite"),
        class_name="co-field",
    )


def language_switcher() -> rx.Component:
    return rx.el.div(
        rx.el.label(S.m["language"], html_for="co-language"),
        rx.el.select(
            *(rx.el.option(name, value=code) for code, name in LANGUAGES.items()),
            id="co-language",
            value=S.language,
            on_change=S.choose_language,
        ),
        class_name="co-lang",
    )


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
        language_switcher(),
        class_name="co-head",
    )


def test_note() -> rx.Component:
    return rx.cond(S.test_mode, rx.el.p(S.m["test_note"], class_name="co-note", role="note"))


def summary() -> rx.Component:
    return rx.el.section(
        rx.el.h2(S.m["order_summary"]),
        rx.cond(S.link_description != "", rx.el.p(S.link_description, class_name="co-help")),
        rx.el.ul(
            rx.foreach(
                S.items,
                lambda item: rx.el.li(
                    rx.el.span(
                        item["name"],
                        rx.el.br(),
                        rx.el.span(item["quantity"], class_name="co-qty"),
                    ),
                    rx.el.span(item["amount"]),
                ),
            ),
            class_name="co-items",
        ),
        rx.cond(
            S.total != "",
            rx.el.div(
                rx.el.span(S.m["total"]),
                rx.el.span(S.total_words),
                class_name="co-total",
            ),
        ),
        rx.cond(S.subscription, rx.el.p(S.m["sub_first_payment"], class_name="co-first")),
        class_name="co-card",
        aria_label=S.m["order_summary"],
    )


def link_summary() -> rx.Component:
    """A payment link's order: one line whose quantity and total follow the quantity field at
    once (checkout/link_quantity.js writes the texts the server prepared for each quantity)."""
    return rx.el.section(
        rx.el.h2(S.m["order_summary"]),
        rx.cond(S.link_description != "", rx.el.p(S.link_description, class_name="co-help")),
        rx.el.ul(
            rx.el.li(
                rx.el.span(
                    S.items[0]["name"],
                    rx.el.br(),
                    rx.el.span(S.items[0]["quantity"], class_name="co-qty", data_link_qty=""),
                ),
                rx.el.span(S.items[0]["amount"], data_link_total=""),
            ),
            class_name="co-items",
        ),
        rx.cond(
            S.total != "",
            rx.el.div(
                rx.el.span(S.m["total"]),
                rx.el.span(S.total, data_link_total="", aria_live="polite"),
                class_name="co-total",
            ),
        ),
        class_name="co-card",
        aria_label=S.m["order_summary"],
    )


def alert() -> rx.Component:
    return rx.el.div(S.error, class_name="co-alert", role="alert", aria_live="assertive")


def email_field() -> rx.Component:
    return rx.cond(
        S.preset_email != "",
        rx.el.p(S.m["email"], ": ", rx.el.strong(S.preset_email), class_name="co-help"),
        form_field(
            S.m["email"],
            "email",
            help_text=S.m["email_help"],
            type="email",
            auto_complete="email",
            required=True,
            max_length=320,
        ),
    )


def sandbox_card_form() -> rx.Component:
    return rx.el.form(
        alert(),
        rx.el.p(id="form-check", class_name="co-sr", aria_live="assertive"),
        email_field(),
        rx.cond(S.wallets_offered, test_wallets()),
        rx.el.fieldset(
            rx.el.legend(S.m["payment"]),
            form_field(S.m["card_name"], "cc-name", auto_complete="cc-name", max_length=100),
            form_field(
                S.m["card_number"],
                "cc-number",
                auto_complete="cc-number",
                input_mode="numeric",
                max_length=23,
                spell_check=False,
                extra=rx.el.span(id="cc-brand", class_name="co-brand", aria_live="polite"),
            ),
            rx.el.div(
                form_field(
                    S.m["card_expiry"],
                    "cc-exp",
                    auto_complete="cc-exp",
                    input_mode="numeric",
                    max_length=7,
                    placeholder="MM / YY",
                ),
                form_field(
                    S.m["card_cvc"],
                    "cc-csc",
                    auto_complete="cc-csc",
                    input_mode="numeric",
                    max_length=4,
                ),
                class_name="co-row",
            ),
            form_field(S.m["postal_code"], "postal", auto_complete="postal-code", max_length=16),
            class_name="co-set",
        ),
        rx.cond(
            S.subscription,
            rx.el.p(S.m["sub_consent"], id="subscribe-consent", class_name="co-consent"),
            rx.cond(S.save_offer, save_card_choice()),
        ),
        rx.el.button(
            rx.cond(
                S.processing,
                S.m["processing"],
                rx.cond(S.subscription, S.m["subscribe_button"], S.m["pay_button"]),
            ),
            type="submit",
            class_name="co-pay",
            disabled=S.processing,
            aria_busy=S.processing,
        ),
        id="pay-form",
        on_submit=S.pay,
        reset_on_submit=False,
        no_validate=True,
        custom_attrs={
            "data-err-email": S.m["err_email"],
            "data-err-name": S.m["err_name"],
            "data-err-number": S.m["err_number"],
            "data-err-expiry": S.m["err_expiry"],
            "data-err-expired": S.m["err_expired"],
            "data-err-cvc3": S.m["err_cvc3"],
            "data-err-cvc4": S.m["err_cvc4"],
            "data-err-postal": S.m["err_postal"],
            "data-err-form": S.m["err_form"],
        },
    )


def wallet_button(wallet: str, label: rx.Var | str) -> rx.Component:
    # type="button": Enter in the e-mail field submits the card form, never a wallet.
    # checkout/card_form.js puts the wallet into the form's hidden "wallet" field and submits.
    return rx.el.button(
        rx.cond(S.processing, S.m["processing"], label),
        type="button",
        id=f"wallet-{wallet.replace('_', '-')}",
        class_name=f"co-wallet co-wallet-{wallet.split('_')[0]}",
        disabled=S.processing,
        custom_attrs={"data-wallet": wallet},
    )


def test_wallets() -> rx.Component:
    """The sandbox's stand-ins for Apple Pay and Google Pay: a tokenised test card, paid
    through the same pay event as the card form (its hidden "wallet" field says which)."""
    return rx.el.div(
        rx.el.input(type="hidden", name="wallet", id="wallet", default_value=""),
        rx.el.div(
            wallet_button("apple_pay", S.m["wallet_apple_pay"]),
            wallet_button("google_pay", S.m["wallet_google_pay"]),
            class_name="co-wallets",
        ),
        rx.el.p(S.m["wallet_test"], class_name="co-help"),
        rx.el.p(S.m["or_card"], class_name="co-or"),
    )


def save_card_choice() -> rx.Component:
    """ "Save for future payments", unticked by default, with the merchant's consent text."""
    return rx.el.div(
        rx.el.input(
            type="checkbox",
            id="save-card",
            name="save-card",
            aria_describedby="save-card-consent",
        ),
        rx.el.div(
            rx.el.label(S.m["save_card"], html_for="save-card"),
            rx.el.p(S.m["save_consent"], id="save-card-consent", class_name="co-help"),
        ),
        class_name="co-check",
    )


def payment_form() -> rx.Component:
    return rx.el.section(
        rx.cond(
            S.stripe_element,
            rx.el.div(alert(), stripe_checkout()),
            sandbox_card_form(),
        ),
        rx.cond(S.paypal_offered, paypal_choice()),
        rx.cond(S.bank_offered, bank_choice()),
        rx.cond(
            S.cancel_url != "",
            rx.el.a(S.m["cancel"], href=S.cancel_url, class_name="co-link co-cancel"),
        ),
        class_name="co-card",
    )


def other_way(label: rx.Var, button_id: str, on_click: object) -> rx.Component:
    """ "or", and a button for another way to pay (PayPal, a bank account)."""
    return rx.el.div(
        rx.el.p(S.m["or"], class_name="co-help co-center"),
        rx.el.button(
            rx.cond(S.processing, S.m["processing"], label),
            type="button",
            id=button_id,
            class_name="co-alt",
            on_click=on_click,
            disabled=S.processing,
            aria_busy=S.processing,
        ),
    )


def paypal_choice() -> rx.Component:
    return other_way(S.m["pay_with_paypal"], "pay-paypal", S.pay_with_paypal)


def bank_choice() -> rx.Component:
    return other_way(S.m["pay_by_bank"], "pay-bank", S.choose_bank)


def select_field(label: rx.Var | str, field_id: str, choices: rx.Var) -> rx.Component:
    return rx.el.div(
        rx.el.label(label, html_for=field_id),
        rx.el.select(
            rx.foreach(choices, lambda c: rx.el.option(c[1], value=c[0])),
            id=field_id,
            name=field_id,
        ),
        class_name="co-field",
    )


def bank_step() -> rx.Component:
    """Pay by bank: the mandate the customer accepts by paying, then the bank account, chosen
    in Plaid Link or, in test mode without Plaid keys, in the twin's picker here."""
    mandate = rx.el.div(
        rx.el.h3(S.m["bank_mandate_heading"]),
        rx.el.p(S.m["bank_mandate"], id="bank-mandate"),
        class_name="co-consent",
    )
    button = rx.el.button(
        rx.cond(S.processing, S.m["processing"], S.m["bank_pay"]),
        type="submit",
        id="bank-pay",
        class_name="co-pay",
        disabled=S.processing,
        aria_busy=S.processing,
        aria_describedby="bank-mandate",
    )
    twin = rx.el.form(
        alert(),
        email_field(),
        rx.el.p(S.m["bank_test"], class_name="co-note"),
        select_field(S.m["bank_name"], "bank", S.bank_banks),
        select_field(S.m["bank_account"], "account", S.bank_accounts),
        mandate,
        button,
        id="bank-form",
        on_submit=S.pay_by_bank_twin,
        reset_on_submit=False,
    )
    plaid = rx.el.form(
        alert(),
        email_field(),
        mandate,
        button,
        id="bank-form",
        on_submit=S.open_plaid,
        reset_on_submit=False,
    )
    return rx.el.div(
        summary(),
        rx.el.section(
            rx.el.h2(S.m["bank_title"], id="bank-title"),
            rx.cond(S.bank_twin, twin, plaid),
            rx.el.button(
                S.m["bank_back"],
                type="button",
                id="bank-back",
                class_name="co-alt",
                on_click=S.choose_card,
                disabled=S.processing,
            ),
            class_name="co-card",
            role="region",
            aria_labelledby="bank-title",
        ),
        class_name="co-grid",
    )


def paypal_step() -> rx.Component:
    """The PayPal approval step: a link to PayPal's page (the browser is sent there at once),
    or, for the offline twin in test mode, the approve / cancel choice PayPal's page offers."""
    return rx.el.section(
        rx.el.h2(S.m["paypal_title"], id="paypal-title"),
        rx.el.p(S.m["paypal_text"]),
        alert(),
        rx.cond(
            S.paypal_url != "",
            rx.el.a(S.m["paypal_continue"], href=S.paypal_url, class_name="co-pay co-button-link"),
            rx.cond(
                S.test_mode,
                rx.fragment(
                    rx.el.p(S.m["paypal_test"], class_name="co-note"),
                    rx.el.button(
                        S.m["paypal_approve"],
                        type="button",
                        id="paypal-approve",
                        class_name="co-pay",
                        on_click=S.finish_challenge(True),
                        disabled=S.processing,
                    ),
                ),
                # Live, and PayPal's link could not be read just now: never a stand-in.
                rx.el.p(S.m["unavailable"], class_name="co-help"),
            ),
        ),
        rx.el.button(
            S.m["paypal_cancel"],
            type="button",
            id="paypal-cancel",
            class_name="co-alt",
            on_click=S.finish_challenge(False),
            disabled=S.processing,
        ),
        class_name="co-card co-center",
        role="region",
        aria_labelledby="paypal-title",
    )


def challenge() -> rx.Component:
    return rx.el.section(
        rx.el.h2(S.m["challenge_title"], id="challenge-title"),
        rx.el.p(S.m["challenge_text"]),
        alert(),
        rx.cond(
            S.stripe_element,
            rx.el.p(S.m["processing"], aria_live="polite"),
            rx.fragment(
                rx.el.p(S.m["challenge_test"], class_name="co-note"),
                rx.el.button(
                    S.m["approve"],
                    type="button",
                    class_name="co-pay",
                    on_click=S.finish_challenge(True),
                    disabled=S.processing,
                ),
                rx.el.button(
                    S.m["fail"],
                    type="button",
                    class_name="co-alt",
                    on_click=S.finish_challenge(False),
                    disabled=S.processing,
                ),
            ),
        ),
        class_name="co-card co-center",
        role="region",
        aria_labelledby="challenge-title",
    )


def receipt() -> rx.Component:
    return rx.el.section(
        rx.el.div("✓", class_name="co-ok", aria_hidden="true"),
        rx.el.h2(
            rx.cond(S.bank_processing, S.m["processing_title"], S.m["paid_title"]),
            id="paid-title",
            tab_index=-1,
        ),
        rx.el.p(
            rx.cond(
                S.bank_processing,
                S.m["processing_text"],
                rx.cond(S.subscription, S.m["subscribed_text"], S.m["paid_text"]),
            )
        ),
        rx.el.h3(S.m["receipt"], class_name="co-sr"),
        rx.el.dl(
            rx.el.dt(S.m["total"]),
            rx.el.dd(S.receipt["amount"]),
            rx.cond(
                S.receipt["card"] != "",
                rx.fragment(rx.el.dt(S.m["paid_with"]), rx.el.dd(S.receipt["card"])),
            ),
            rx.el.dt(S.m["date"]),
            rx.el.dd(S.receipt["date"]),
            rx.el.dt(S.m["reference"]),
            rx.el.dd(S.receipt["reference"]),
            class_name="co-dl",
        ),
        rx.cond(S.receipt["sent"] != "", rx.el.p(S.receipt["sent"], class_name="co-help")),
        rx.cond(
            S.success_url != "",
            rx.el.a(S.m["back_to"], href=S.success_url, class_name="co-pay co-button-link"),
        ),
        class_name="co-card co-center",
        aria_labelledby="paid-title",
    )


def message(title_key: str, text_key: str) -> rx.Component:
    return rx.el.section(
        rx.el.h2(S.m[title_key]),
        rx.el.p(S.m[text_key]),
        class_name="co-card co-center",
    )


def locked() -> rx.Component:
    """Too many declines: the page takes no more attempts (backend/services/checkout_declines)."""
    return rx.el.section(
        rx.el.h2(S.m["locked_title"], id="locked-title"),
        rx.el.p(S.m["locked_text"]),
        rx.cond(
            S.cancel_url != "",
            rx.el.a(S.m["back_to"], href=S.cancel_url, class_name="co-pay co-button-link"),
        ),
        class_name="co-card co-center",
        role="alert",
        aria_labelledby="locked-title",
    )


def link_form() -> rx.Component:
    return rx.el.section(
        rx.el.form(
            alert(),
            rx.cond(
                S.link_custom_amount,
                form_field(
                    S.m["amount_label"],
                    "amount",
                    help_text=S.m["amount_range"],
                    input_mode="decimal",
                    required=True,
                    max_length=20,
                    auto_complete="transaction-amount",
                ),
            ),
            rx.cond(
                S.link_max_quantity > 1,
                form_field(
                    S.m["quantity_label"],
                    "quantity",
                    type="number",
                    min=1,
                    max=S.link_max_quantity,
                    default_value="1",
                    input_mode="numeric",
                ),
            ),
            rx.el.button(S.link_button, type="submit", class_name="co-pay"),
            id="link-form",
            on_submit=S.start_link,
            reset_on_submit=False,
            custom_attrs={
                "data-totals": S.link_totals.to_string(),
                "data-quantity-text": S.link_texts["quantity"],
                "data-button-text": S.link_texts["button"],
                "data-err-quantity": S.m["err_quantity"],
            },
        ),
        rx.script(src=LINK_QUANTITY_JS, defer=True),
        class_name="co-card",
    )


def body() -> rx.Component:
    return rx.match(
        S.view,
        ("form", rx.el.div(summary(), payment_form(), class_name="co-grid")),
        ("challenge", challenge()),
        ("paypal", paypal_step()),
        ("bank", bank_step()),
        ("complete", receipt()),
        ("expired", message("expired_title", "expired_text")),
        ("locked", locked()),
        ("not_found", message("not_found_title", "not_found_text")),
        ("link", rx.el.div(link_summary(), link_form(), class_name="co-grid")),
        ("link_inactive", message("link_inactive_title", "link_inactive_text")),
        rx.el.p(S.m["loading"], aria_live="polite", class_name="co-help"),
    )


def shell() -> rx.Component:
    return rx.el.div(
        rx.el.style(CSS),
        rx.script(src=CARD_FORM_JS, defer=True),
        rx.el.div(class_name="co-bar"),
        rx.el.main(
            header(),
            test_note(),
            body(),
            rx.el.p(S.m["secure_note"], class_name="co-foot"),
            class_name="co-wrap",
            lang=S.language,
            # checkout/first_paint.py swaps its server-rendered copy out on the first real view.
            custom_attrs={"data-view": S.view},
        ),
        class_name="co-root",
        style={"--co-brand": S.brand_color, "--co-brand-text": S.button_text_color},
    )


@rx.page(
    route="/pay/[session_id]",
    title="Checkout",
    on_load=rx.call_script(BROWSER_TIME_ZONE, callback=CheckoutState.load_session),
)
def pay_page() -> rx.Component:
    return shell()


@rx.page(route="/link/[link_id]", title="Checkout", on_load=CheckoutState.load_link)
def link_page() -> rx.Component:
    return shell()
