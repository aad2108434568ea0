"""A merchant's webhook receiver on 127.0.0.1, scriptable request by request.

    with Receiver() as hook:
        hook.script(Reply(500), Hang(2.0), Reply(200))
        ...  # deliver to hook.url
        assert [r.status for r in hook.received] == [500, None, 200]

Each request takes the next scripted step; once the script is used up every request gets the
default reply (200 "ok"). `Hang(seconds)` holds the request without answering, past the client's
timeout, then answers 200 to a client that has usually gone; closing the receiver releases every
held request at once. `Reply(gate=event)` answers once the test sets the event, which holds
an attempt in flight while the test does something else. Every request is recorded with its
exact body bytes and headers. `Receiver(tls=context)` serves https on https://localhost:PORT
with the context's certificate (trustme makes one that nobody's trust store holds).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from types import TracebackType

from tests.fakes.local_server import LocalServer


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    gate: threading.Event | None = None  # answer only once the test opens it (race tests)


@dataclass(frozen=True)
class Hang:
    seconds: float = 5.0


Step = Reply | Hang


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    received_at: float
    status: int | None  # what the receiver answered; None for a hang


class Receiver(LocalServer):
    def __init__(self, default: Reply | None = None, *, tls: ssl.SSLContext | None = None) -> None:
        self.default = default or Reply()
        self.received: list[Received] = []
        self._steps: deque[Step] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._tls = tls is not None
        self._serve(self._handler())
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)

    @property
    def url(self) -> str:
        if self._tls:
            return f"https://localhost:{self.port}/hook"
        return f"http://127.0.0.1:{self.port}/hook"

    def script(self, *steps: Step) -> None:
        with self._lock:
            self._steps.extend(steps)

    def bodies(self) -> list[bytes]:
        with self._lock:
            return [r.body for r in self.received]

    def _next(self) -> Step:
        with self._lock:
            return self._steps.popleft() if self._steps else self.default

    def _record(self, entry: Received) -> None:
        with self._lock:
            self.received.append(entry)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                step = receiver._next()
                status = None if isinstance(step, Hang) else step.status
                receiver._record(Received(self.path, headers, body, time.time(), status))
                if isinstance(step, Hang):
                    receiver._release.wait(step.seconds)
                    step = Reply(200)
                else:
                    time.sleep(step.delay)
                    if step.gate is not None:
                        step.gate.wait(10)
                try:
                    self.send_response(step.status)
                    for name, value in step.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(step.body)))
                    self.end_headers()
                    self.wfile.write(step.body)
                except (BrokenPipeError, ConnectionResetError, TimeoutError):
                    pass  # the client gave up (timeout): nothing to answer

        return Handler

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._release.set()
        super().__exit__(exc_type, exc, tb)
