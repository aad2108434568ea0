"""The HTTP API: `backend.api:app` runs standalone under uvicorn and is mounted into Reflex."""

from backend.api.app import app, create_app

__all__ = ["app", "create_app"]
