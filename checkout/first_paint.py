"""The checkout page's first paint, sent in the page's HTML.

Reflex renders /pay/{id} in the browser: the HTML it serves for a dynamic route is an empty
shell, and the order appears only once the JavaScript has run, the websocket is open and
on_load has answered. On a phone that is seconds of a blank page. So for an open session this
wrapper answers GET /pay/{id} with that same shell plus a server-rendered copy of the top of
the page (merchant, test-mode note, order summary), built from the same messages and money
formatting as CheckoutState and the same markup and classes as checkout/pages.py.

The copy is `inert` and aria-hidden (not focusable, not read out: the live page is the one
to use). React 19 skips unexpected elements in <body> while hydrating, so it stays in place; a
CSS rule hides the live page while the copy is there, and a MutationObserver removes the copy
in the same frame as the live page shows its first real view (main[data-view] other than
"loading"). The two render the same boxes, so nothing moves when they swap. Should the shell
not look as expected (another Reflex or React Router version), the page is served unchanged.
"""

from __future__ import annotations

import gzip
import html
import re
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.core.currency import format_money
from backend.services.checkout import branding, customer_actions
from backend.services.checkout.i18n import LANGUAGES, every, negotiate, t
from backend.services.checkout.subscribing import Terms
from checkout.state import fill_messages
from checkout.styles import CSS

PAY_PATH = re.compile(r"^/pay/([A-Za-z0-9_]{1,40})/?$")
ROOT_ID = "co-first-paint"

# While the copy is in the page, the live page (rendering "loading") stays hidden; the copy's
# removal shows it. The script removes the copy when the live page has its first real view.
HEAD = f"""<style>{CSS}
body:has(#{ROOT_ID}) .co-root:not(.co-snap){{display:none}}</style>
<script>(()=>{{const ready=()=>document.querySelector('main[data-view]:not([data-view="loading"])');
new MutationObserver((_,o)=>{{if(ready()){{document.getElementById("{ROOT_ID}")?.remove();
o.disconnect();}}}}).observe(document,{{subtree:true,childList:true,attributes:true,
attributeFilter:["data-view"]}});}})();</script>"""

# React Router's bootstrap (the one inline module script) runs once the first paint is on
# screen, not before: on a slow phone the copy shows while the JavaScript loads, and even when
# the scripts arrive at once, the page paints before hydrating. A tab opened in the background
# paints nothing, so it starts the app at once.
# Its modules are still fetched early (the shell's modulepreload links), behind the page's
# own stylesheet and HTML: low priority.
BOOT = '<script type="module" async="">'
PRELOAD, LOW_PRELOAD = '<link rel="modulepreload"', '<link rel="modulepreload" fetchpriority="low"'
HELD_BOOT = '<script type="text/x-after-first-paint">'
AFTER_FIRST_PAINT = """<script>(()=>{let started=false;const go=()=>{if(started)return;started=true;
for(const held of document.querySelectorAll('script[type="text/x-after-first-paint"]')){
const boot=document.createElement("script");boot.type="module";boot.textContent=held.textContent;
held.after(boot);}};if(document.visibilityState!=="visible")go();
else{requestAnimationFrame(()=>setTimeout(go));addEventListener("visibilitychange",go);}})();
</script>"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def snapshot(
    session: Any,  # an open CheckoutSession
    merchant_name: str,
    logo_url: str,
    brand: str,
    brand_text: str,
    locale: str,
    terms: Terms | None = None,
) -> str:
    """The top of the checkout page for an open session, as checkout/pages.py renders it
    (`terms`: a subscription link's session, whose amounts read "$15.00 every month")."""

    def money(amount: int) -> str:
        text = format_money(amount, session.currency, locale)
        return every(text, terms.interval, terms.count, locale) if terms else text

    total = format_money(session.amount_total, session.currency, locale)
    m = fill_messages(
        locale,
        merchant=merchant_name,
        amount=total,
        currency=session.currency,
        recurring=money(session.amount_total),
    )
    first = f'<p class="co-first">{_e(m["sub_first_payment"])}</p>' if terms else ""
    language = locale.split("_")[0]
    logo = (
        f'<img src="{_e(logo_url)}" alt="{_e(merchant_name)}" height="40"/>'
        if logo_url
        else f'<div class="co-initial" aria-hidden="true">{_e(merchant_name[:1].upper())}</div>'
    )
    options = "".join(
        f'<option value="{code}"{" selected" if code == language else ""}>{_e(name)}</option>'
        for code, name in LANGUAGES.items()
    )
    items = "".join(
        f'<li><span>{_e(item["name"])}<br/><span class="co-qty">'
        f"{_e(t('quantity', locale, n=item['quantity']))}</span></span>"
        f"<span>{_e(money(item['quantity'] * item['unitAmountCents']))}</span></li>"
        for item in session.line_items
    )
    note = "" if session.livemode else f'<p class="co-note" role="note">{_e(m["test_note"])}</p>'
    return (
        f'<div id="{ROOT_ID}" inert="" aria-hidden="true"><div class="co-root co-snap" '
        f'style="--co-brand:{_e(brand)};--co-brand-text:{_e(brand_text)}">'
        '<div class="co-bar"></div>'
        f'<main class="co-wrap" lang="{_e(language)}"><header class="co-head">'
        f'<div class="co-merchant">{logo}<h1 title="{_e(merchant_name)}">{_e(merchant_name)}</h1>'
        "</div>"
        f'<div class="co-lang"><label>{_e(m["language"])}</label><select>{options}</select>'
        f"</div></header>{note}"
        f'<div class="co-grid"><section class="co-card"><h2>{_e(m["order_summary"])}</h2>'
        f'<ul class="co-items">{items}</ul><div class="co-total"><span>{_e(m["total"])}</span>'
        f"<span>{_e(money(session.amount_total))}</span></div>{first}</section></div></main>"
        "</div></div>"
    )


def render(session_id: str, accept_language: str | None, shell: str) -> str | None:
    """The shell with the first paint of an open session, or None (the live page decides)."""
    locale = negotiate(accept_language)
    found = customer_actions.open_for_first_paint(session_id)
    if found is None:
        return None
    merchant = found.storefront
    colors = branding.button_colors(merchant.brand_color)
    top = snapshot(
        found.session,
        merchant.name,
        merchant.logo_url,
        colors.background,
        colors.text,
        locale,
        found.terms,
    )
    head_end, body_start = shell.find("</head>"), shell.find("<body>")
    body_end = shell.rfind("</body>")
    if not 0 <= head_end < body_start < body_end or shell.count(BOOT) != 1:
        return None
    if PRELOAD not in shell[:head_end]:
        return None
    body_start += len("<body>")
    return (
        shell[:head_end].replace(PRELOAD, LOW_PRELOAD)
        + HEAD
        + shell[head_end:body_start]
        + top
        + shell[body_start:body_end].replace(BOOT, HELD_BOOT)
        + AFTER_FIRST_PAINT
        + shell[body_end:]
    )


def with_first_paint(app: ASGIApp, shell_path: Path) -> ASGIApp:
    """Wrap the app: GET /pay/{id} of an open session gets the page with its first paint."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        match = PAY_PATH.match(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] not in ("GET", "HEAD") or not shell_path.is_file():
            await app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        page = await run_in_threadpool(
            render, match.group(1), headers.get("accept-language"), shell_path.read_text()
        )
        if page is None:
            await app(scope, receive, send)
            return
        body, extra = page.encode(), {"Vary": "Accept-Encoding, Accept-Language"}
        if "gzip" in headers.get("accept-encoding", ""):
            body, extra["Content-Encoding"] = gzip.compress(body, 6), "gzip"
        # The page holds one customer's order: never stored by shared caches.
        extra["Cache-Control"] = "private, no-cache"
        await Response(body, media_type="text/html", headers=extra)(scope, receive, send)

    return wrapped
