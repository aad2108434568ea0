"""The Reflex app: merchant portal pages, PWA head tags and the /api routes from backend.api."""

from __future__ import annotations

import reflex as rx

import portal.pages.identity  # noqa: F401  (sign-up, team, audit log... register themselves)
from backend.api import app as api_app
from portal.pages import dashboard, login, payments  # noqa: F401  (pages register themselves)
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

app = rx.App(
    head_components=HEAD,
    api_transformer=api_app,
    stylesheets=["/portal.css"],
)
