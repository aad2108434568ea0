"""Reflex configuration: ports and shared state come from backend settings (the environment)."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from backend.core.config import get_settings
from portal.theme_plugin import RouteScopedRadixThemes

settings = get_settings()

config = rx.Config(
    app_name="portal",
    frontend_port=3000,
    backend_port=3000,
    deploy_url=settings.app_url,
    api_url=settings.app_url,
    # Several backend workers share state through Redis; one worker needs nothing extra.
    redis_url=settings.redis_url,
    state_manager_mode="redis" if settings.redis_url else "memory",
    show_built_with_reflex=False,
    telemetry_enabled=False,
    disable_plugins=[SitemapPlugin],
    # No page evaluates dynamic components: keep Radix Themes' whole namespace out of the
    # JavaScript every route loads.
    frontend_lazy_bundled_libraries=True,
    plugins=[
        RouteScopedRadixThemes(
            theme=rx.theme(
                accent_color="indigo", gray_color="slate", radius="medium", appearance="light"
            )
        )
    ],
)
