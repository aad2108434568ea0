"""End-to-end fixtures: the production app, started once per test session, and Chromium.

The app runs exactly as `make run` serves it (`reflex run --env prod --single-port`), on a free
port, against its own migrated and seeded SQLite file. With TEST_REDIS_URL set, Reflex keeps its
state in Redis, as several workers would in production.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Two cores run the app, the browser and the rest of the suite: under that load a page's first
# websocket round trip can take several seconds. A page that never shows its data still fails.
expect.set_options(timeout=15_000)

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
STARTUP_TIMEOUT_S = 900  # the first build installs the frontend's npm packages


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _run(cmd: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def backend_cli(app_env: dict[str, str], *args: str) -> dict[str, Any]:
    """`python -m backend ARGS` against the e2e app's database; its JSON answer."""
    return json.loads(_run([sys.executable, "-m", "backend", *args], app_env))


@pytest.fixture(scope="session")
def app_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    port = _free_port()
    data = tmp_path_factory.mktemp("e2e")
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "REFLEX_USE_NPM": "1",
        "DATABASE_URL": f"sqlite:///{data / 'e2e.db'}",
        "SANDBOX_RAIL_PATH": str(data / "sandbox-rail.db"),  # not the `make run` demo's
        "APP_URL": f"http://localhost:{port}",
        "PORT": str(port),
        "WEBHOOKS_ALLOW_LOOPBACK": "true",  # webhook endpoints on the tests' local receiver
        # A merchant's own Stripe key reaches a closed local port, never api.stripe.com: the
        # processor is unreachable, which the routing test wants.
        "STRIPE_API_BASE": "http://127.0.0.1:1",
    }
    env.pop("REDIS_URL", None)
    if os.environ.get("TEST_REDIS_URL"):
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    return env


@pytest.fixture(scope="session")
def demo(app_env: dict[str, str]) -> dict[str, str]:
    """Migrate the app's database and seed the demo merchant; its credentials."""
    _run([sys.executable, "-m", "alembic", "upgrade", "head"], app_env)
    return json.loads(_run([sys.executable, "-m", "backend", "seed-demo"], app_env))


@pytest.fixture(scope="session")
def app_url(app_env: dict[str, str], demo: dict[str, str]) -> Iterator[str]:
    base = app_env["APP_URL"]
    port = app_env["PORT"]
    log_path = ARTIFACTS / "app.log"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "reflex"),
                "run",
                "--env",
                "prod",
                "--single-port",
                "--frontend-port",
                port,
                "--backend-port",
                port,
            ],
            cwd=ROOT,
            env=app_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: the whole tree stops together
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        # An old build in .web keeps answering while a new one is written: wait for Reflex to
        # say the app runs (after the build), then for the pages and the API to answer.
        while not (
            "App running at" in log_path.read_text()
            and _ready(f"{base}/api/health")
            and _ready(f"{base}/login/")
        ):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the app did not start; last output:\n{log_path.read_text()[-4000:]}")
            time.sleep(1)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium with apt")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Filled by `open_page` with every console error and uncaught page error."""
    return []


@pytest.fixture
def open_page(browser, console_errors: list[str]):  # type: ignore[no-untyped-def]
    """open_page(viewport_name) -> a Playwright page in a fresh context at that viewport."""
    contexts = []

    def _open(viewport: str):  # type: ignore[no-untyped-def]
        context = browser.new_context(viewport=VIEWPORTS[viewport])  # type: ignore[attr-defined]
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda msg: msg.type == "error" and console_errors.append(msg.text))
        page.on("pageerror", lambda exc: console_errors.append(str(exc)))
        page.on(
            "response",
            lambda r: r.status >= 400 and console_errors.append(f"HTTP {r.status} {r.url}"),
        )
        return page

    yield _open
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def api_charge(app_url: str, key: str, amount: int, email: str) -> tuple[int, dict]:
    """Charge pm_card_visa in USD through the merchant REST API: (status, payment)."""
    body = json.dumps(
        {
            "amountCents": amount,
            "currency": "USD",
            "customerEmail": email,
            "paymentMethod": {"type": "card", "token": "pm_card_visa"},
        }
    ).encode()
    request = urllib.request.Request(
        f"{app_url}/api/payments/charge",
        data=body,
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)["payment"]
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)["payment"]


def has_horizontal_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )


def sign_in(page, app_url: str, email: str, password: str):  # type: ignore[no-untyped-def]
    page.goto(f"{app_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    # The page posts a one-time grant to /api/session, which answers 303 to the dashboard.
    page.wait_for_url("**/dashboard{,/}")
    return page


@pytest.fixture
def signed_in(app_url, demo, open_page):  # type: ignore[no-untyped-def]
    """signed_in(viewport) -> a page signed in as the demo merchant, on the dashboard."""

    def _sign_in(viewport: str):  # type: ignore[no-untyped-def]
        return sign_in(open_page(viewport), app_url, demo["email"], demo["password"])

    return _sign_in


@pytest.fixture
def new_merchant(app_env: dict[str, str], app_url: str) -> dict[str, str]:
    """A merchant of its own (owner's e-mail and password, test secret key), for tests that
    change settings the demo merchant's other tests rely on."""
    email = f"owner-{uuid.uuid4().hex[:10]}@shop.test"
    password = "a long passphrase 1"
    created = json.loads(
        _run(
            [
                sys.executable,
                "-m",
                "backend",
                "create-merchant",
                "--email",
                email,
                "--password",
                password,
                "--name",
                "Harbour Tea",
            ],
            app_env,
        )
    )
    return {
        "email": email,
        "password": password,
        "key": created["test_secret_key"],
        "merchant_id": created["merchant_id"],
    }


def code_after(totp: Any, last_step: int) -> tuple[str, int]:
    """A TOTP code the server has not accepted yet, and its step: the first step after
    `last_step`, which the server takes once it lies in its window (the step before, the
    current one and the step after, for clock drift). Waits only when the next step is still
    more than one step ahead: a TOTP code is never accepted twice."""
    step = max(last_step + 1, int(time.time()) // 30)
    while int(time.time()) // 30 < step - 1:
        time.sleep(0.5)
    return totp.at(step * 30), step


@dataclass
class TwoFactorOwner:
    page: Any
    totp: Any  # pyotp.TOTP of the owner's authenticator
    last_step: int  # the TOTP step of the last code used
    secret_key: str  # the merchant's test API key

    def fresh_code(self) -> str:
        code, self.last_step = code_after(self.totp, self.last_step)
        return code


@pytest.fixture
def two_factor_owner(app_url, app_env, open_page):  # type: ignore[no-untyped-def]
    """two_factor_owner(name, viewport, **merchant_columns) -> the owner of a new merchant with
    a confirmed e-mail and an authenticator app, signed in with a code, whose sign-in counts as
    long ago (the next sensitive action asks for a fresh code)."""
    import pyotp
    from sqlalchemy import update

    from backend.core.db import make_engine, session_scope
    from backend.models import UserSession, utcnow
    from backend.services.identity import accounts, two_factor

    password = "two-factor-owner-2026"

    def _make(name: str, viewport: str = "desktop", **merchant_columns: object) -> TwoFactorOwner:
        engine = make_engine(app_env["DATABASE_URL"])
        email = f"owner-{uuid.uuid4().hex[:10]}@shop.test"
        with session_scope(engine) as db:
            created = accounts.create_merchant(db, email=email, password=password, name=name)
            created.user.email_verified_at = utcnow()
            for column, value in merchant_columns.items():
                setattr(created.merchant, column, value)
            db.add_all([created.user, created.merchant])
            totp = pyotp.TOTP(two_factor.begin_enrolment(db, created.user.id).secret)
        with session_scope(engine) as db:
            two_factor.confirm_enrolment(db, created.user.id, totp.now())
        owner = TwoFactorOwner(open_page(viewport), totp, int(time.time()) // 30, "")
        owner.secret_key = created.test_secret_key
        page = owner.page
        page.goto(f"{app_url}/login")
        page.get_by_label("E-mail").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/login/two-factor**")
        page.get_by_role("textbox", name="Code").fill(owner.fresh_code())
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url("**/dashboard{,/}")
        with session_scope(engine) as db:  # as if the sign-in's proof were long ago
            db.exec(
                update(UserSession)  # type: ignore[call-overload]
                .where(UserSession.user_id == created.user.id)
                .values(step_up_at=None)
            )
        engine.dispose()
        return owner

    return _make


def open_account_menu(page):  # type: ignore[no-untyped-def]
    """Open the header's account menu (the same at every width) and return it."""
    page.get_by_role("button", name="Account menu").click()
    menu = page.get_by_role("menu")
    menu.wait_for()
    return menu


def sign_out(page):  # type: ignore[no-untyped-def]
    """Sign out through the account menu and wait for the sign-in page."""
    open_account_menu(page).get_by_role("menuitem", name="Sign out").click()
    page.wait_for_url("**/login{,/}")
