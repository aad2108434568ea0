"""The API's JSON responses: Starlette's, rendered by orjson (see backend.core.json_codec)."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse as _StarletteJSONResponse

from backend.core import json_codec


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return json_codec.dumps_bytes(content)
