"""Our page that plays the customer's step for a payment made through the API in test mode,
where the processor asks us for the answer: PayPal's offline twin (PayPal's approval page) and
the sandbox's 3-D Secure. The payment's nextAction sends the customer's browser here; the answer
is kept on the payment, the browser goes back to the payment's returnUrl (cancelUrl when
cancelled), and the merchant then confirms the payment (POST /api/payments/{id}/confirm).

Reached by the payment's id alone, as the processor's own page would be: test mode only, and
only while the payment waits (anything else is a plain 404)."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse

from backend.core.currency import format_money
from backend.core.db import session_scope
from backend.models import Payment
from backend.services.payments import authentication

router = APIRouter(prefix=authentication.TEST_APPROVAL_PATH, include_in_schema=False)

PaymentId = Annotated[str, Path(min_length=1, max_length=64)]

# Plain HTML and an inline style (the CSP allows 'self' and inline styles): no frontend build.
_STYLE = """
body{margin:0;min-height:100vh;display:grid;place-items:center;background:#f4f4f7;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2024}
main{box-sizing:border-box;width:min(26rem,calc(100vw - 2rem));background:#fff;
border:1px solid #e0e1e6;border-radius:12px;padding:1.5rem}
h1{font-size:1.25rem;margin:0 0 .5rem}
.test{background:#fff7ed;border:1px solid #fdba74;border-radius:8px;padding:.5rem .75rem;
color:#9a3412;font-size:.875rem}
form{margin:.75rem 0 0}
button{width:100%;min-height:2.75rem;border-radius:8px;font:inherit;font-weight:600;
cursor:pointer;border:1px solid #5b5bd6;background:#5b5bd6;color:#fff}
button.secondary{background:#fff;color:#1c2024;border-color:#b9bbc6}
a{color:#5b5bd6}
"""
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>{refresh}<style>{style}</style></head>
<body><main><h1>{title}</h1>{content}</main></body></html>"""


def _page(title: str, content: str, status: int = 200, go_to: str | None = None) -> HTMLResponse:
    refresh = ""
    if go_to:  # a link and a refresh rather than a redirect: the form's CSP allows 'self' only
        refresh = f'<meta http-equiv="refresh" content="0;url={escape(go_to)}">'
        content += f'<p><a href="{escape(go_to)}">Back to the shop</a></p>'
    html = _PAGE.format(title=escape(title), refresh=refresh, style=_STYLE, content=content)
    return HTMLResponse(html, status_code=status)


def _missing() -> HTMLResponse:
    return _page("Not found", "<p>No test payment waits for its customer here.</p>", 404)


def _step_name(payment: Payment) -> tuple[str, str]:
    """The page's title, and what it stands in for."""
    if payment.payment_method_type == "paypal":
        return "Approve with PayPal", "PayPal's approval page"
    return "Confirm this payment", "the card issuer's 3-D Secure check"


@router.get("/{paymentId}")
def show(paymentId: PaymentId) -> HTMLResponse:
    with session_scope(readonly=True) as db:
        payment = authentication.payment_for_test_page(db, paymentId)
        if payment is None:
            return _missing()
        amount = format_money(payment.amount, payment.currency)
        title, step = _step_name(payment)
    base = f"{authentication.TEST_APPROVAL_PATH}/{escape(paymentId)}"
    content = (
        f'<p class="test">Test mode: nothing is charged. This page stands in for '
        f"{escape(step)}.</p>"
        f"<p>Approve the payment of <strong>{escape(amount)}</strong> as the customer would, "
        f"or cancel it.</p>"
        f'<form method="post" action="{base}/approve"><button>Approve {escape(amount)}</button>'
        f"</form>"
        f'<form method="post" action="{base}/cancel"><button class="secondary">Cancel</button>'
        f"</form>"
    )
    return _page(title, content)


def _answer(payment_id: str, approved: bool) -> HTMLResponse:
    with session_scope() as db:
        payment = authentication.payment_for_test_page(db, payment_id, lock=True)
        if payment is None:
            return _missing()
        authentication.record_test_answer(db, payment, approved)
        back = payment.return_url if approved else (payment.cancel_url or payment.return_url)
    said = "approved" if approved else "cancelled"
    return _page(f"Payment {said}", f"<p>The payment was {said}.</p>", go_to=back)


@router.post("/{paymentId}/approve")
def approve(paymentId: PaymentId) -> HTMLResponse:
    return _answer(paymentId, True)


@router.post("/{paymentId}/cancel")
def cancel(paymentId: PaymentId) -> HTMLResponse:
    return _answer(paymentId, False)
