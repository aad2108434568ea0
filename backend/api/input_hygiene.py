"""Input hygiene at the API's edge: text that is not clean Unicode never reaches a route.

Every request under /api passes `InputHygiene` before routing. Its path segments and query
parameters, percent-decoded, must be UTF-8 text without control characters; a JSON body must be
UTF-8, nest at most MAX_DEPTH levels, and hold keys without control characters and string values
without NUL, lone UTF-16 surrogates or control characters, except tab, line feed and carriage
return, which free text (descriptions, references, metadata values) may hold. Anything else is
refused with 400 in the API's error shape, naming the parameter, before a route, a parser or a
database sees it. Nothing is stripped or replaced: a caller learns that its text was not taken.

Why at the edge: PostgreSQL refuses NUL in text (a 500 wherever a route forgot to check), our
JSON encoder refuses lone surrogates, the standard library's JSON parser (FastAPI's) accepts
both as \\u escapes, and no route should have to remember any of it.

The Stripe webhook routes are the exception for bodies: their signature is checked on the raw
bytes first, then the route calls `json_problem` on the verified text (a body that is signed but
unclean is refused without being stored; an unsigned one is refused for its signature as before).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from fastapi.routing import iter_route_contexts
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.api.errors import error_response
from backend.api.responses import JSONResponse

MAX_DEPTH = 32  # nested objects and arrays; the API's own bodies use at most 3
REFUSED = (
    "The request is malformed: JSON, types or fields; or its path, query or body holds NUL, a "
    f"lone surrogate or a control character, or nests more than {MAX_DEPTH} levels"
)
# C0 controls, DEL, C1 controls and surrogates (which a str holds only when unpaired).
_BAD_IN_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_BAD_IN_VALUE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# Bytes or text that need a closer look: anything but printable ASCII and JSON's whitespace, or
# a backslash (an escape such as \u0000 or \b). A body without them, and with few brackets, is
# clean without being parsed: one scan in C for the bodies of nearly every request.
_SUSPECT_BYTES = re.compile(rb"[^\t\n\r\x20-\x5b\x5d-\x7e]")
_SUSPECT_TEXT = re.compile(r"[^\t\n\r\x20-\x5b\x5d-\x7e]")
_PLAIN_URL_PART = re.compile(rb"[!$&'()*+,\-./0-9:;=@A-Z_a-z~]*")  # nothing percent-encoded


@dataclass(frozen=True)
class Problem:
    """Why a request's text is refused: a 400 in the API's error shape."""

    code: str
    message: str
    param: str | None

    def response(self) -> JSONResponse:
        return error_response(400, self.code, self.message, self.param)


def _describe(char: str) -> str:
    point = f"U+{ord(char):04X}"
    if char == "\x00":
        return f"a NUL character ({point})"
    if "\ud800" <= char <= "\udfff":
        return f"a lone UTF-16 surrogate ({point}), which is not a character"
    return f"the control character {point}"


def shown(name: str) -> str:
    """A parameter's name as an error may show it: offending characters as \\u escapes."""
    return _BAD_IN_NAME.sub(lambda m: f"\\u{ord(m.group()):04x}", name)


def text_problem(text: str, param: str, *, free_text: bool = False) -> Problem | None:
    """Refuses NUL, lone surrogates and control characters; free_text allows tab, line feed
    and carriage return."""
    found = (_BAD_IN_VALUE if free_text else _BAD_IN_NAME).search(text)
    if found is None:
        return None
    allowed = " (tab, line feed and carriage return are, in text values)" if free_text else ""
    return Problem(
        "invalid_request",
        f"{shown(param)}: {_describe(found.group())} is not allowed{allowed}",
        shown(param),
    )


# --- JSON bodies ----------------------------------------------------------------------------


def json_problem(body: bytes | str) -> Problem | None:
    """What is wrong with a JSON body's text, or None. A body that needs a closer look and does
    not parse is refused too: every body this API takes is JSON."""
    if isinstance(body, bytes):
        shallow = body.count(b"[") + body.count(b"{") <= MAX_DEPTH
        if shallow and _SUSPECT_BYTES.search(body) is None:
            return None
        try:
            text = body.decode("utf-8")  # strict: no encoded surrogates, no overlong forms
        except UnicodeDecodeError:
            return Problem("invalid_json", "The request body is not valid UTF-8", None)
    else:
        shallow = body.count("[") + body.count("{") <= MAX_DEPTH
        if shallow and _SUSPECT_TEXT.search(body) is None:
            return None
        text = body
    try:
        value = json.loads(text)  # the most lenient parser the routes use: \ud800 passes it
    except RecursionError:
        return _too_deep(())
    except ValueError:
        return Problem("invalid_json", "The request body is not valid JSON", None)
    return _value_problem(value)


def _too_deep(path: tuple[Any, ...]) -> Problem:
    param = shown(str(path[0])) if path else None
    return Problem(
        "invalid_request",
        f"The request body nests objects and arrays more than {MAX_DEPTH} levels deep",
        param,
    )


def _value_problem(value: Any) -> Problem | None:
    """The first offending key or string in document order, or a nesting past MAX_DEPTH."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            problem = text_problem(node, _dotted(path) or "body", free_text=True)
            if problem:
                return problem
        elif isinstance(node, dict | list):
            if len(path) >= MAX_DEPTH:
                return _too_deep(path)
            if isinstance(node, dict):
                for key in node:
                    problem = text_problem(key, _dotted((*path, key)))
                    if problem:
                        return problem
                items: Iterable[tuple[Any, Any]] = node.items()
            else:
                items = enumerate(node)
            stack.extend(reversed([(child, (*path, key)) for key, child in items]))
    return None


def _dotted(path: tuple[Any, ...]) -> str:
    """A location as the API's errors name it (backend.api.errors): metadata.note, items.0."""
    return ".".join(str(part) for part in path)


# --- paths and query strings ----------------------------------------------------------------


def _url_text_problem(part: bytes, param: str) -> Problem | None:
    """A percent-encoded path segment or query name or value, decoded, as clean text."""
    try:
        text = unquote_to_bytes(part).decode("utf-8")
    except UnicodeDecodeError:
        return Problem(
            "invalid_request",
            f"{shown(param)}: not valid UTF-8 once percent-decoded",
            shown(param),
        )
    return text_problem(text, param)


def path_problem(raw_path: bytes, templates: Callable[[], Iterable[str]]) -> Problem | None:
    """Each percent-decoded segment of the path must be text without control characters; the
    error names the route's path parameter when one of the route templates matches."""
    if _PLAIN_URL_PART.fullmatch(raw_path):
        return None
    segments = raw_path.split(b"/")
    for index, segment in enumerate(segments):
        if _url_text_problem(segment, "path") is not None:
            return _url_text_problem(segment, _segment_name(templates(), segments, index))
    return None


def _segment_name(templates: Iterable[str], segments: list[bytes], index: int) -> str:
    for template in templates:
        parts = template.split("/")
        if len(parts) != len(segments):
            continue
        if all("{" in t or t.encode() == s for t, s in zip(parts, segments, strict=True)):
            names = re.findall(r"\{(\w+)", parts[index])
            if names:
                return names[0]
    return "path"


def query_problem(query_string: bytes) -> Problem | None:
    """Each percent-decoded query parameter name and value must be text without control
    characters; the error names the parameter."""
    if _PLAIN_URL_PART.fullmatch(query_string):
        return None
    for pair in query_string.split(b"&"):
        raw_name, _, raw_value = pair.replace(b"+", b" ").partition(b"=")
        name = unquote_to_bytes(raw_name).decode("utf-8", "surrogateescape")
        problem = _url_text_problem(raw_name, name) or _url_text_problem(raw_value, name)
        if problem is not None:
            return problem
    return None


# --- the middleware -------------------------------------------------------------------------


class InputHygiene:
    """Refuses a request under `prefix` whose path, query or JSON body is not clean text.

    `router`'s route paths name a path parameter in an error; bodies under
    `signed_prefixes` are left to their route, which checks them after their signature. The body
    is read whole here (a BodySizeLimit outside this bounds it) and handed on unchanged.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        router: Router | None = None,
        prefix: str = "/api/",
        signed_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.router = router
        self.prefix = prefix
        self.signed_prefixes = signed_prefixes

    def _templates(self) -> list[str]:
        routes = iter_route_contexts(self.router.routes) if self.router is not None else ()
        return [route.path for route in routes if route.path]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
        problem = path_problem(raw_path, self._templates) or query_problem(
            scope.get("query_string", b"")
        )
        if problem is None and not scope["path"].startswith(self.signed_prefixes):
            body, receive = await _buffered(receive)
            if body is None:
                return  # the client went away
            if body:
                problem = json_problem(body)
        if problem is not None:
            await problem.response()(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _buffered(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole body, and a receive that hands it on as one message."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None, receive
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
