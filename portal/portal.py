"""The Reflex app: merchant portal pages, PWA head tags and the /api routes from backend.api."""

from __future__ import annotations

import reflex as rx
from reflex.utils.prerequisites import get_web_dir
from reflex_base import constants
from reflex_base.registry import RegistrationContext

import checkout.billing_pages  # (the customer's /billing/{secret}, /invoice/{token})
import checkout.pages  # noqa: F401  (the hosted checkout: /pay/{id}, /link/{id})
from backend.api import app as api_app
from backend.api.security_headers import security_headers
from checkout.first_paint import with_first_paint
from portal.http_cache import immutable_assets
from portal.pages import (  # noqa: F401  (pages register themselves)
    accept_invite,
    api_keys,
    audit_log,
    balance,
    bank_account,
    branding,
    customers,
    dashboard,
    disputes,
    invoices,
    login,
    mailbox,
    password_reset,
    payment_links,
    payments,
    processors,
    products,
    reconciliation,
    risk_rules,
    security,
    sessions,
    settings,
    signup,
    statements,
    subscriptions,
    team,
    two_factor,
    verify_email,
    webhooks,
)
from portal.theme import BRAND

HEAD = [
    rx.el.link(rel="manifest", href="/manifest.webmanifest"),
    rx.el.link(rel="icon", href="/favicon.ico", sizes="32x32"),
    rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml"),
    rx.el.link(rel="apple-touch-icon", href="/apple-touch-icon.png"),
    rx.el.meta(name="theme-color", content=BRAND),
    rx.el.meta(name="mobile-web-app-capable", content="yes"),
    rx.el.meta(name="apple-mobile-web-app-title", content="PayPortal"),
    rx.el.script(src="/register-sw.js", defer=True),
]

SPA_SHELL = (get_web_dir() / constants.Dirs.STATIC / constants.ReactRouter.SPA_FALLBACK).resolve()

app = rx.App(
    head_components=HEAD,
    # The API's routes first; then year-long caching of the hashed build files; then the
    # checkout's first paint in the HTML of /pay/{id} (built into the SPA shell of `--env prod`).
    api_transformer=[
        api_app,
        immutable_assets,
        lambda app: with_first_paint(app, SPA_SHELL),
        security_headers,  # outermost: every page, the checkout's first paint included
    ],
    stylesheets=["/portal.css"],
)

# Reflex adds the @rx.page pages to the app on every compile. `reflex run --env prod` compiles
# in its own process, then forks the backend workers, each of which compiles again: every page
# was added twice ("Page … is being redefined"). Adding them here, once, leaves nothing to re-add.
_registration = RegistrationContext.ensure_context()
for render, page_options in _registration.decorated_pages:
    app.add_page(render, **page_options)
_registration.decorated_pages.clear()
