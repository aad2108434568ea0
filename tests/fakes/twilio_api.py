"""A local fake of Twilio Verify v2 that the real twilio SDK talks to over HTTP.

    with FakeTwilioVerify() as fake:
        client = Client(fake.account_sid, fake.auth_token)
        client.verify.base_url = fake.url

POST /v2/Services/{sid}/Verifications (To, Channel) starts a verification: the fake makes a
6-digit code, "texts" it (fake.sent, fake.code_for(to)) and answers 201 as Twilio does.
POST /v2/Services/{sid}/VerificationCheck (To, Code) answers 200 with status "approved" for the
right code (the verification is then used up) or "pending" for a wrong one; 404 (error 20404)
when nothing is pending; 429 (60202) after 5 wrong codes. Requests must carry HTTP basic auth
with the account sid and auth token (401, error 20003, otherwise), and a To in E.164 (400, error
60200, otherwise). `fail_next(n, status)` answers the next n requests with that status.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.local_server import LocalServer

_E164 = re.compile(r"\+[1-9]\d{7,14}")
_PATH = re.compile(r"/v2/Services/(VA[0-9a-f]{32})/(Verifications|VerificationCheck)")
MAX_CHECKS = 5


@dataclass
class Pending:
    sid: str
    to: str
    code: str
    checks: int = 0


class FakeTwilioVerify(LocalServer):
    def __init__(self) -> None:
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.service_sid = "VA" + secrets.token_hex(16)
        self.sent: list[tuple[str, str]] = []  # (to, code), in order
        self.checks: list[tuple[str, str]] = []  # (to, code) of every check
        self._pending: dict[str, Pending] = {}
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._serve(self._handler())

    def code_for(self, to: str) -> str:
        """The code last texted to a number (what the person reads on their phone)."""
        return next(code for number, code in reversed(self.sent) if number == to)

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def _verification(self, pending: Pending, status: str) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        return {
            "sid": pending.sid,
            "service_sid": self.service_sid,
            "account_sid": self.account_sid,
            "to": pending.to,
            "channel": "sms",
            "status": status,
            "valid": status == "approved",
            "lookup": {},
            "amount": None,
            "payee": None,
            "send_code_attempts": [{"time": now, "channel": "sms"}],
            "date_created": now,
            "date_updated": now,
            "sna": None,
            "url": f"{self.url}/v2/Services/{self.service_sid}/Verifications/{pending.sid}",
        }

    def _start(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to = form.get("To", "")
        if not _E164.fullmatch(to):
            return 400, _error(400, 60200, "Invalid parameter `To`")
        if form.get("Channel") != "sms":
            return 400, _error(400, 60200, "Invalid parameter `Channel`")
        pending = Pending("VE" + secrets.token_hex(16), to, f"{secrets.randbelow(10**6):06d}")
        with self._lock:
            self._pending[to] = pending  # a new code replaces the one pending, as Twilio does
            self.sent.append((to, pending.code))
        return 201, self._verification(pending, "pending")

    def _check(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        to, code = form.get("To", ""), form.get("Code", "")
        with self._lock:
            self.checks.append((to, code))
            pending = self._pending.get(to)
            if pending is None:
                return 404, _error(404, 20404, "The requested resource was not found")
            if pending.checks >= MAX_CHECKS:
                return 429, _error(429, 60202, "Max check attempts reached")
            pending.checks += 1
            if secrets.compare_digest(pending.code, code):
                del self._pending[to]
                return 200, self._verification(pending, "approved")
        return 200, self._verification(pending, "pending")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                expected = base64.b64encode(
                    f"{fake.account_sid}:{fake.auth_token}".encode()
                ).decode()
                if self.headers.get("Authorization") != f"Basic {expected}":
                    self._answer(401, _error(401, 20003, "Authenticate"))
                    return
                match = _PATH.fullmatch(self.path)
                if match is None or match.group(1) != fake.service_sid:
                    self._answer(404, _error(404, 20404, "The requested resource was not found"))
                    return
                with fake._lock:
                    failure = fake._failures.pop(0) if fake._failures else None
                if failure is not None:
                    self._answer(failure, _error(failure, 20500, "Internal Server Error"))
                    return
                form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                if match.group(2) == "Verifications":
                    self._answer(*fake._start(form))
                else:
                    self._answer(*fake._check(form))

        return Handler


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
