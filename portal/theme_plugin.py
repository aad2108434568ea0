"""Radix Themes scoped to the pages that use it: the portal's, not the hosted checkout's.

Reflex's RadixThemesPlugin puts the whole Radix Themes CSS (695 kB, 81 kB gzipped) into the
app-wide stylesheet, which blocks the first paint of every route, and wraps the app root in
Radix's Theme, which puts the Radix Themes package (78 kB gzipped of JavaScript) into the code
every route loads. The hosted checkout uses none of it (plain elements and its own inlined CSS),
and a customer on a phone pays for those bytes before seeing the order.

This plugin does both per page instead, for every page but the checkout's: the page module
imports the stylesheet, so Vite emits it as route CSS (React Router links it in the head of
the prerendered pages and loads it before rendering a route on the client, so the portal never
shows unstyled content), and the page's component tree is wrapped in the configured Theme (the
root Theme of that page, exactly what the app-level wrapper was).

The stylesheet is imported into a cascade layer between Reflex's reset (`__reflex_base`) and
everything unlayered. Components' own styles (emotion, inserted at run time) must override
Radix's defaults (`.rt-Box {display: block}` under a box's responsive `display`), and at equal
specificity that used to depend on order: right on prerendered pages, where the link precedes
the emotion styles, but wrong on a dynamic route loaded directly (/payments/{id}), whose route
CSS is appended after them; the desktop sidebar and the phone menu then showed at once. With
the layer, the order no longer matters.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from reflex_base.utils.imports import ImportVar
from reflex_components_radix.plugin import RADIX_THEMES_STYLESHEET, RadixThemesPlugin

if TYPE_CHECKING:
    from reflex_base.plugins.compiler import PageContext

# Written into the web directory's styles/ at compile time and imported by each themed page.
LAYERED_STYLESHEET = Path("styles") / "radix_themes_layered.css"
LAYERED_CSS = f"""/* Radix Themes between the reset and unlayered styles: portal/theme_plugin.py */
@layer __reflex_base, radix_themes;
@import "{RADIX_THEMES_STYLESHEET}" layer(radix_themes);
"""

# Routes (as given to rx.page) that are styled without Radix Themes.
UNTHEMED_ROUTE_PREFIXES = ("pay/", "link/")


def is_unthemed(route: str) -> bool:
    return route.strip("/").startswith(UNTHEMED_ROUTE_PREFIXES)


class RouteScopedRadixThemes(RadixThemesPlugin):
    def get_stylesheet_paths(self, **context: Any) -> tuple[str, ...]:
        return ()

    def get_static_assets(self, **context: Any) -> list[tuple[Path, str]]:
        return [(LAYERED_STYLESHEET, LAYERED_CSS)]

    def compile_page(self, page_ctx: PageContext, /, **kwargs: Any) -> None:
        # Not the parent's: that one adds the Theme as an app-level (every route) wrapper.
        if not self.enabled or is_unthemed(page_ctx.route):
            return
        page_ctx.imports.append({f"$/{LAYERED_STYLESHEET.as_posix()}": [ImportVar(tag=None)]})
        if self.theme is not None:
            theme = page_ctx.own(self.theme)
            theme.children = [page_ctx.root_component]
            page_ctx.imports.append(theme._get_all_imports())
            page_ctx.root_component = theme
