"""What the hosted checkout page and a payment link's page do for the customer.

The session or link id is the customer's capability: nothing here needs a signed-in member.
Each function opens its own unit of work around the checkout session services or payment
links, and sends the receipt e-mail once the payment's unit of work has committed. The pages
get the answer with the merchant's storefront (name, logo, brand colour) and copy it into their
state.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend.core.db import session_scope
from backend.core.errors import ValidationFailed
from backend.models import CheckoutSession, Merchant, PaymentLink
from backend.services.checkout import paying, payment_links, session_state, sessions, subscribing
from backend.services.checkout.paying import BankChoice
from backend.services.checkout.subscribing import Terms
from backend.services.payments import bank_linking


@dataclass(frozen=True)
class Storefront:
    """How the merchant shows itself on its checkout."""

    name: str
    logo_url: str
    brand_color: str


def _storefront(merchant: Merchant) -> Storefront:
    return Storefront(merchant.name, merchant.logo_path or "", merchant.brand_color)


@dataclass(frozen=True)
class CheckoutView:
    result: paying.PayResult
    storefront: Storefront
    # A session opened from a subscription link: how often its price bills (else None).
    terms: Terms | None = None
    # A bank payment's account in the customer's words ("Bank account ···6789 (Bank)").
    bank_account: str = ""


def _view(db, result: paying.PayResult, locale: str = "en_US") -> CheckoutView:  # type: ignore[no-untyped-def]
    payment = result.payment
    bank = session_state.paid_by_bank(db, payment, locale) if payment is not None else None
    return CheckoutView(
        result,
        _storefront(sessions.merchant_of(db, result.session)),
        subscribing.session_terms(db, result.session),
        bank or "",
    )


def _sent(view: CheckoutView) -> CheckoutView:
    paying.send_receipt(view.result.receipt_email_id)
    return view


def open_session(session_id: str, *, locale: str, time_zone: str) -> CheckoutView:
    """The session brought up to date; NotFound for an unknown id."""
    with session_scope() as db:
        result = paying.open_session(db, session_id, locale=locale, time_zone=time_zone)
        view = _view(db, result, locale)
    return _sent(view)


def pay(
    session_id: str,
    *,
    token: str,
    customer_email: str | None,
    ip_address: str | None,
    locale: str,
    time_zone: str,
    save_card: bool = False,
    method: str = "card",
    bank: BankChoice | None = None,
    wallet: str | None = None,
) -> CheckoutView:
    """Charge the session with a sandbox card number or a Stripe PaymentMethod id; `save_card`
    when the customer ticked "save for future payments"; `wallet` for the sandbox's test
    wallet ("apple_pay", "google_pay"). Or start a PayPal payment (`method` "paypal": the
    view's result then carries PayPal's approval URL, or none for the offline twin, whose
    approval step is the page's own)."""
    with session_scope() as db:
        view = _view(
            db,
            paying.pay(
                db,
                session_id,
                token=token,
                customer_email=customer_email,
                ip_address=ip_address,
                locale=locale,
                time_zone=time_zone,
                save_card=save_card,
                method=method,
                bank=bank,
                wallet=wallet,
            ),
            locale,
        )
    return _sent(view)


def bank_twin_choices() -> tuple[list[tuple[str, str]], list[tuple[str, str, str]]]:
    """The offline Plaid twin's banks and test accounts, for the page's bank picker (empty
    when Plaid is configured: Plaid Link is the picker then)."""
    if bank_linking.provider() == "plaid":
        return [], []
    return bank_linking.twin_banks(), bank_linking.twin_accounts()


def bank_twin_link(institution_id: str, account_number: str) -> tuple[str, str]:
    """What Plaid Link would hand the browser for the twin's bank and account."""
    return bank_linking.twin_link(institution_id, account_number)


def bank_link_script(session_id: str) -> str:
    """The browser's script that opens Plaid Link for this session's customer (Plaid keys
    set) and resolves with the public token and the chosen account."""
    with session_scope(readonly=True) as db:
        session = session_state.lock_session(db, session_id)
        if "bank" not in (session.payment_methods or ()):
            raise ValidationFailed("This checkout does not take bank payments", param="account")
    return bank_linking.open_link_script(f"checkout:{session_id}")


def finish_action(
    session_id: str,
    *,
    approved: bool | None,
    ip_address: str | None,
    locale: str,
    time_zone: str,
) -> CheckoutView:
    """After 3-D Secure: the sandbox customer's answer, or (None) Stripe's outcome."""
    with session_scope() as db:
        view = _view(
            db,
            paying.finish_action(
                db,
                session_id,
                approved=approved,
                ip_address=ip_address,
                locale=locale,
                time_zone=time_zone,
            ),
        )
    return _sent(view)


@dataclass(frozen=True)
class LinkView:
    link: PaymentLink
    storefront: Storefront
    terms: Terms | None = None  # a subscription link: how often its price bills
    # Whether a visit may pay: the link is active and, for a subscription, its price still sells.
    open: bool = True


def open_link(link_id: str) -> LinkView:
    """A payment link's page; NotFound for an unknown id."""
    with session_scope(readonly=True) as db:
        link, merchant = payment_links.public_link(db, link_id)
        terms = subscribing.terms_of(db, link)
        sells = link.active and payment_links.price_sells(db, link)
    return LinkView(link, _storefront(merchant), terms, sells)


def start_link(link_id: str, *, amount: int | None, quantity: int, ip_address: str | None) -> str:
    """A new checkout session for this visit of the link; its id."""
    with session_scope() as db:
        session = payment_links.start_session(
            db, link_id, amount=amount, quantity=quantity, ip_address=ip_address
        )
        return session.id


@dataclass(frozen=True)
class OpenSession:
    """An open session as the page's first paint draws it."""

    session: CheckoutSession
    storefront: Storefront
    terms: Terms | None = None


def open_for_first_paint(session_id: str) -> OpenSession | None:
    """The session, if it exists and is open (read as it is: the live page refreshes it)."""
    with session_scope() as db:
        session = db.get(CheckoutSession, session_id)
        if session is None or session.status != session_state.OPEN:
            return None
        return OpenSession(
            session,
            _storefront(sessions.merchant_of(db, session)),
            subscribing.session_terms(db, session),
        )
