"""FastAPI application for everything under /api."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from backend import db
from backend.config import APP_VERSION, get_settings


def create_app() -> FastAPI:
    get_settings().check_production_ready()
    api = FastAPI(
        title="PayPortal API",
        version=APP_VERSION,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )

    @api.get(
        "/api/health",
        tags=["health"],
        summary="Service health",
        responses={503: {"description": "The database does not answer"}},
    )
    async def health() -> JSONResponse:
        database_ok = await run_in_threadpool(db.ping)
        body = {
            "status": "ok" if database_ok else "unavailable",
            "version": APP_VERSION,
            "database": "ok" if database_ok else "unavailable",
        }
        return JSONResponse(body, status_code=200 if database_ok else 503)

    return api


app = create_app()
