"""The interactive API reference at /api/docs, served whole from this app: Swagger UI's files
come from the `swagger-ui-py` package (pinned in pyproject.toml), never from a CDN, so the
documentation works offline, standalone (`uvicorn backend.api:app`) and inside the Reflex app.

FastAPI's own docs page loads Swagger UI from a CDN and starts it with an inline script; this
page starts it from a script of its own, so a Content-Security-Policy without 'unsafe-inline'
allows it."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/api/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"


# Swagger UI's distribution files (swagger-ui-bundle.js, swagger-ui.css, favicons), found
# without importing the package's own web-framework glue.
def _assets_dir() -> Path:
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


ASSETS_DIR = _assets_dir()


def _page(title: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{DOCS_PATH}/init.js"></script>
</body>
</html>
"""


def install(api: FastAPI, *, openapi_url: str) -> None:
    """Add the docs page, its start-up script and Swagger UI's files to the API."""
    page = _page(f"{api.title} reference")
    init = (
        "window.ui = SwaggerUIBundle({"
        f"url: {openapi_url!r}, dom_id: '#swagger-ui', deepLinking: true, "
        "presets: [SwaggerUIBundle.presets.apis], layout: 'BaseLayout'});\n"
    )

    @api.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @api.get(f"{DOCS_PATH}/init.js", include_in_schema=False)
    async def docs_init() -> Response:
        return Response(init, media_type="text/javascript")

    api.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
