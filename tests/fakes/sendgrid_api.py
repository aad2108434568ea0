"""A local fake of SendGrid's v3 mail API that the real sendgrid SDK talks to over HTTP.

    with FakeSendGrid(api_key="SG.fake") as fake:
        client = SendGridAPIClient("SG.fake", host=fake.url)

POST /v3/mail/send checks the Bearer key (401 with SendGrid's error body otherwise), records
the JSON request and answers 202 with an empty body and an X-Message-Id header, as SendGrid
does. `fail_next(n, status)` answers the next n requests with that status instead.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.local_server import LocalServer


@dataclass(frozen=True)
class MailRequest:
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]
    message_id: str


class FakeSendGrid(LocalServer):
    def __init__(self, api_key: str = "SG.fake-key") -> None:
        self.api_key = api_key
        self.requests: list[MailRequest] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._serve(self._handler())

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def _take_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any] | None = None, **headers: str):  # type: ignore[no-untyped-def]
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path != "/v3/mail/send":
                    self._answer(404, {"errors": [{"message": "not found"}]})
                    return
                if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                    error = {"message": "The provided authorization grant is invalid"}
                    self._answer(401, {"errors": [error]})
                    return
                failure = fake._take_failure()
                if failure is not None:
                    self._answer(failure, {"errors": [{"message": "simulated failure"}]})
                    return
                message_id = secrets.token_urlsafe(16)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.requests.append(MailRequest(headers, json.loads(raw), message_id))
                self._answer(202, None, X_Message_Id=message_id)

        return Handler
