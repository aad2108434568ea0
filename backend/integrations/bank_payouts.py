"""Payouts to a merchant's verified bank account: Plaid Transfer credits, or an offline twin.

Plaid (PLAID_CLIENT_ID and PLAID_SECRET set): a payout is an ACH credit (PPD) to the account the
merchant linked through bank_link.py. Plaid first decides whether it will send the money
(/transfer/authorization/create), then the transfer is made from that decision
(/transfer/create). Both calls carry the caller's idempotency key, so a retry after a timeout or a
5xx finds the authorization and the transfer already made instead of paying twice. The transfer
then moves on by itself at Plaid (pending, posted, settled; or failed, returned, cancelled) and
`sync` reads those moves in order from /transfer/event/sync, with Plaid's event_id as the cursor.
PLAID_HOST points the real SDK at another host (the local fake in the tests), PLAID_ENV picks
Plaid's sandbox or production.

Without keys the sandbox twin runs offline (`make run`, most tests). Its transfers live in a
small SQLite file (SANDBOX_RAIL_PATH) that the web app, which sends payouts, and the job worker,
which syncs and reconciles them, share. As Plaid's own sandbox, it moves a transfer when asked
(`advance`, or `simulate` below), so a demo can show every outcome and a test knows what happens
when; like Stripe's test mode, a transfer nobody moves by hand is also posted and settled by
itself after SANDBOX_RAIL_POST_SECONDS and SANDBOX_RAIL_SETTLE_SECONDS (off in the tests).

Amounts are integers in minor units everywhere; Plaid's decimal strings ("12.34") are made and
read without floats by `plaid_amount` and `amount_from_plaid`. No amount has a special meaning
to either rail: a declined authorization comes from Plaid's answer (or the twin's
`decline_next`), not from magic numbers.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import asdict, astuple, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, TypeVar

import plaid
import urllib3
from plaid.api import plaid_api
from plaid.model.ach_class import ACHClass
from plaid.model.sandbox_transfer_simulate_request import SandboxTransferSimulateRequest
from plaid.model.transfer_authorization_create_request import TransferAuthorizationCreateRequest
from plaid.model.transfer_authorization_idempotency_key import (
    TransferAuthorizationIdempotencyKey,
)
from plaid.model.transfer_authorization_user_in_request import (
    TransferAuthorizationUserInRequest,
)
from plaid.model.transfer_cancel_request import TransferCancelRequest
from plaid.model.transfer_create_idempotency_key import TransferCreateIdempotencyKey
from plaid.model.transfer_create_request import TransferCreateRequest
from plaid.model.transfer_event_sync_request import TransferEventSyncRequest
from plaid.model.transfer_failure import TransferFailure
from plaid.model.transfer_get_request import TransferGetRequest
from plaid.model.transfer_network import TransferNetwork
from plaid.model.transfer_type import TransferType

from backend.core.config import get_settings
from backend.core.currency import normalise_currency
from backend.core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

TIMEOUT_SECONDS = 15.0
DESCRIPTION_MAX = 15  # Plaid's limit for a transfer's description (what the bank statement shows)
IDEMPOTENCY_KEY_MAX = 50  # Plaid's limit for both idempotency keys
SYNC_COUNT_MAX = 500  # Plaid's limit for one /transfer/event/sync page
_HOSTS = {"sandbox": plaid.Environment.Sandbox, "production": plaid.Environment.Production}

# What Plaid's sandbox lets /sandbox/transfer/simulate do: {status: {event_type: new status}}.
# funds_available follows settled for ACH debits only, so never for a payout (a credit).
SIMULATED_MOVES: dict[str, dict[str, str]] = {
    "pending": {"posted": "posted", "failed": "failed"},
    "posted": {"settled": "settled", "returned": "returned"},
}

# ACH return codes a payout most often meets, in words (NACHA's descriptions, shortened).
ACH_RETURN_REASONS = {
    "R01": "Insufficient funds",
    "R02": "Account closed",
    "R03": "No account or unable to locate account",
    "R04": "Invalid account number",
    "R06": "Returned at the originator's request",
    "R07": "Authorization revoked by the customer",
    "R08": "Payment stopped",
    "R10": "Customer advises not authorized",
    "R13": "Invalid ACH routing number",
    "R16": "Account frozen",
    "R20": "Non-transaction account",
    "R29": "Corporate customer advises not authorized",
}
_RETURN_CODE = re.compile(r"R\d{2}")

# Why Plaid refuses a payout (authorization rationale codes and Transfer error codes), in words
# a merchant or an operator can act on.
_RECONNECT = "The bank connection has expired: the merchant must reconnect the bank account."
REFUSAL_MESSAGES = {
    "NSF": "Plaid declined the payout: the balance that funds it is too low (NSF).",
    "RISK": "Plaid declined the payout as too risky (RISK).",
    "FRAUD": "Plaid declined the payout on suspicion of fraud (FRAUD).",
    "ADMIN": "Plaid blocked this payout administratively (ADMIN).",
    "ERROR": "Plaid could not assess the payout (ERROR). Try again later.",
    "TRANSFER_LIMIT_REACHED": "The payout is over the Plaid Transfer limit.",
    "ITEM_LOGIN_REQUIRED": _RECONNECT,
    "PAYMENT_PROFILE_LOGIN_REQUIRED": _RECONNECT,
    "MIGRATED_ACCOUNT_ITEM": _RECONNECT,
    "INVALID_ACCESS_TOKEN": _RECONNECT,
    "ITEM_NOT_FOUND": _RECONNECT,
    "TRANSFER_ACCOUNT_BLOCKED": (
        "Plaid blocks payouts to this bank account after an earlier return: connect another one."
    ),
    "TRANSFER_UNSUPPORTED_ACCOUNT_TYPE": (
        "This bank account cannot take payouts: connect a checking or savings account."
    ),
}
# Plaid answers that mean "our own set-up is wrong", not "this payout is refused".
_SETUP_ERRORS = {"INVALID_API_KEYS", "INVALID_PRODUCT", "PRODUCT_NOT_ENABLED", "UNAUTHORIZED_ENV"}
# Plaid's error types that refuse this payout (its item, account or limits), as opposed to a
# request we got wrong.
_REFUSING_TYPES = {"TRANSFER_ERROR", "ITEM_ERROR"}


class RailUnavailable(ServiceError):
    """Plaid cannot be reached or failed (transport error, 5xx, rate limit): retry later with
    the same idempotency key."""

    status = 503
    code = "payout_rail_unavailable"


class PayoutRefused(ServiceError):
    """Plaid (or the twin) will not send this payout. `decline_code` is Plaid's reason (NSF,
    RISK, TRANSFER_ACCOUNT_BLOCKED...); `code` stays the stable "payout_refused"."""

    status = 402
    code = "payout_refused"

    def __init__(self, decline_code: str, message: str) -> None:
        super().__init__(message)
        self.decline_code = decline_code

    def to_dict(self) -> dict[str, str | None]:
        return {**super().to_dict(), "decline_code": self.decline_code}


@dataclass(frozen=True)
class TransferState:
    """One transfer as the rail sees it."""

    transfer_id: str
    authorization_id: str | None
    status: str  # Plaid's: pending, posted, settled, funds_available, failed, returned, cancelled
    amount: int  # minor units (cents)
    currency: str  # "USD" (the twin may hold others)
    failure_code: str | None  # ACH return code, e.g. "R01"
    failure_message: str | None  # e.g. "Insufficient funds"


@dataclass(frozen=True)
class TransferEvent:
    """One move of a transfer, from /transfer/event/sync. Every Plaid event type passes through
    (sweeps and refunds too): the cursor must move past them, the caller picks what it needs."""

    event_id: int  # Plaid's monotonically increasing id: the sync cursor
    transfer_id: str
    event_type: str  # pending, cancelled, failed, posted, settled, funds_available, returned
    failure_code: str | None
    failure_message: str | None
    timestamp: datetime


class PayoutRail(Protocol):
    name: str  # "plaid" or "sandbox"

    def send(
        self,
        *,
        access_token: str,
        account_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        legal_name: str,
        description: str,
    ) -> TransferState:
        """Pay `amount` to the account; the same idempotency key returns the same transfer."""
        ...

    def cancel(self, transfer_id: str) -> bool:
        """Cancel a transfer not yet sent to the network; False when it is too late."""
        ...

    def get(self, transfer_id: str) -> TransferState: ...

    def sync(self, after_id: int, count: int = 100) -> list[TransferEvent]:
        """The events after the cursor `after_id`, oldest first, at most `count` (1 to 500)."""
        ...


def payout_rail() -> PayoutRail:
    """Plaid when PLAID_CLIENT_ID and PLAID_SECRET are set, else the process's sandbox twin."""
    settings = get_settings()
    if not settings.plaid_enabled:
        return SANDBOX
    host = settings.plaid_host or _HOSTS.get(settings.plaid_env, plaid.Environment.Sandbox)
    api = _api(settings.plaid_client_id or "", settings.plaid_secret or "", host)
    return PlaidPayoutRail(api, env=settings.plaid_env)


def simulate(transfer_id: str, event_type: str, failure_code: str | None = None) -> None:
    """Move a test transfer on (posted, settled, failed, returned with an ACH code such as
    "R01"), for the portal's and the CLI's test mode. On Plaid it calls
    /sandbox/transfer/simulate, which only Plaid's sandbox offers; on the twin it advances it."""
    if event_type == "returned" and not failure_code:
        failure_code = "R01"
    rail = payout_rail()
    if isinstance(rail, SandboxPayoutRail):
        rail.advance(transfer_id, event_type, failure_code)
    elif isinstance(rail, PlaidPayoutRail):
        rail.simulate(transfer_id, event_type, failure_code)
    else:  # pragma: no cover - payout_rail() makes only these two
        raise TypeError(f"cannot simulate on {rail!r}")


# Amounts


def plaid_amount(amount: int) -> str:
    """Integer cents as Plaid's decimal string ("12.34"), by integer arithmetic only."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValidationFailed("amount must be a positive integer of cents", param="amount")
    dollars, cents = divmod(amount, 100)
    return f"{dollars}.{cents:02d}"


def amount_from_plaid(text: str) -> int:
    """Plaid's decimal string as integer cents; more than two decimals is an error, not a
    rounding."""
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError) as exc:
        raise ValueError(f"not a Plaid amount: {text!r}") from exc
    cents = value.scaleb(2)
    if not value.is_finite() or cents != cents.to_integral_value():
        raise ValueError(f"not a Plaid amount: {text!r}")
    return int(cents)


# Checks both rails share, so the twin refuses what Plaid would.


def _check_payout(
    *,
    access_token: str,
    account_id: str,
    amount: int,
    currency: str,
    idempotency_key: str,
    legal_name: str,
    description: str,
) -> str:
    """The currency, upper case, once everything Plaid would refuse up front is ruled out."""
    plaid_amount(amount)
    upper = normalise_currency(currency)
    if not access_token or not account_id:
        raise ValidationFailed("Connect a bank account first", param="account_id")
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise ValidationFailed(
            f"idempotency_key must be 1 to {IDEMPOTENCY_KEY_MAX} characters",
            param="idempotency_key",
        )
    if not legal_name.strip():
        raise ValidationFailed("The account holder's legal name is required", param="legal_name")
    if not description.strip() or len(description) > DESCRIPTION_MAX:
        raise ValidationFailed(
            f"description must be 1 to {DESCRIPTION_MAX} characters (the bank statement's line)",
            param="description",
        )
    return upper


def _check_page(after_id: int, count: int) -> None:
    if after_id < 0:
        raise ValidationFailed("after_id must be 0 or more", param="after_id")
    if not 1 <= count <= SYNC_COUNT_MAX:
        raise ValidationFailed(f"count must be 1 to {SYNC_COUNT_MAX}", param="count")


def _refused(code: str, description: str | None = None) -> PayoutRefused:
    message = REFUSAL_MESSAGES.get(code)
    if message is None:
        message = f"Plaid declined the payout ({code})" + (
            f": {description}" if description else "."
        )
    return PayoutRefused(code, message)


_FAILED = "The payout failed before it reached the bank"


def _return_reason(code: str | None) -> str | None:
    return ACH_RETURN_REASONS.get(code, "Returned by the bank") if code else None


# Plaid


class PlaidPayoutRail:
    """Plaid Transfer through the plaid-python SDK. Plaid Transfer pays out USD only."""

    name = "plaid"

    def __init__(self, api: plaid_api.PlaidApi, *, env: str) -> None:
        self._api = api
        self._env = env

    def send(
        self,
        *,
        access_token: str,
        account_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        legal_name: str,
        description: str,
    ) -> TransferState:
        upper = _check_payout(
            access_token=access_token,
            account_id=account_id,
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
            legal_name=legal_name,
            description=description,
        )
        if upper != "USD":
            raise ValidationFailed(
                f"Payouts in {upper} need a bank account that takes {upper}; "
                "Plaid Transfer pays out USD only",
                code="currency_not_supported",
                param="currency",
            )
        authorization = self._call(
            lambda api: api.transfer_authorization_create(
                TransferAuthorizationCreateRequest(
                    access_token=access_token,
                    account_id=account_id,
                    type=TransferType("credit"),
                    network=TransferNetwork("ach"),
                    amount=plaid_amount(amount),
                    ach_class=ACHClass("ppd"),
                    iso_currency_code="USD",
                    user=TransferAuthorizationUserInRequest(legal_name=legal_name.strip()),
                    idempotency_key=TransferAuthorizationIdempotencyKey(idempotency_key),
                ),
                _request_timeout=TIMEOUT_SECONDS,
            ),
            refusal=True,
        ).authorization
        if str(authorization.decision) != "approved":
            rationale = authorization.decision_rationale
            code = str(rationale.code) if rationale is not None else str(authorization.decision)
            raise _refused(code, rationale.description if rationale is not None else None)
        created = self._call(
            lambda api: api.transfer_create(
                TransferCreateRequest(
                    access_token=access_token,
                    account_id=account_id,
                    authorization_id=str(authorization.id),
                    description=description,
                    idempotency_key=TransferCreateIdempotencyKey(idempotency_key),
                ),
                _request_timeout=TIMEOUT_SECONDS,
            ),
            refusal=True,
        )
        return _transfer_state(created.transfer)

    def cancel(self, transfer_id: str) -> bool:
        try:
            self._call(
                lambda api: api.transfer_cancel(
                    TransferCancelRequest(transfer_id=transfer_id),
                    _request_timeout=TIMEOUT_SECONDS,
                ),
                missing=transfer_id,
            )
        except _NotCancellable:
            return False
        return True

    def get(self, transfer_id: str) -> TransferState:
        answer = self._call(
            lambda api: api.transfer_get(
                TransferGetRequest(transfer_id=transfer_id), _request_timeout=TIMEOUT_SECONDS
            ),
            missing=transfer_id,
        )
        return _transfer_state(answer.transfer)

    def sync(self, after_id: int, count: int = 100) -> list[TransferEvent]:
        _check_page(after_id, count)
        answer = self._call(
            lambda api: api.transfer_event_sync(
                TransferEventSyncRequest(after_id=after_id, count=count),
                _request_timeout=TIMEOUT_SECONDS,
            )
        )
        return [_event(e) for e in answer.transfer_events]

    def simulate(self, transfer_id: str, event_type: str, failure_code: str | None = None) -> None:
        """/sandbox/transfer/simulate: refused here unless PLAID_ENV is sandbox, so nothing can
        ask production Plaid to pretend."""
        if self._env != "sandbox":
            raise PermissionDenied(
                "Transfer events can only be simulated in Plaid's sandbox (PLAID_ENV=sandbox)"
            )
        extra: dict[str, Any] = {}
        if failure_code:
            extra["failure_reason"] = TransferFailure(
                failure_code=failure_code,
                ach_return_code=failure_code if _RETURN_CODE.fullmatch(failure_code) else None,
                description=_return_reason(failure_code) or "",
            )
        self._call(
            lambda api: api.sandbox_transfer_simulate(
                SandboxTransferSimulateRequest(
                    transfer_id=transfer_id, event_type=event_type, **extra
                ),
                _request_timeout=TIMEOUT_SECONDS,
            ),
            illegal_move=True,
        )

    def _call(
        self,
        request: Callable[[plaid_api.PlaidApi], T],
        *,
        refusal: bool = False,
        missing: str | None = None,
        illegal_move: bool = False,
    ) -> T:
        """Run one SDK call and turn Plaid's failures into this module's errors."""
        try:
            return request(self._api)
        except plaid.ApiException as exc:
            raise _translated(
                exc, refusal=refusal, missing=missing, illegal_move=illegal_move
            ) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            log.warning("Plaid unreachable: %s", exc)
            raise RailUnavailable("We could not reach Plaid right now. Try again.") from exc


class _NotCancellable(Exception):
    pass


def _translated(
    exc: plaid.ApiException, *, refusal: bool, missing: str | None, illegal_move: bool
) -> Exception:
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        body = {}
    code = str(body.get("error_code") or "")
    kind = str(body.get("error_type") or "")
    message = str(body.get("error_message") or "")
    status = int(exc.status or 0)
    log.warning("Plaid answered %s (%s/%s): %s", status, kind, code, message)
    if status >= 500 or status == 429 or kind in {"API_ERROR", "RATE_LIMIT_EXCEEDED"}:
        return RailUnavailable("Plaid is not answering right now. Try again.")
    if code in _SETUP_ERRORS:
        log.error("Plaid refused our credentials or product access: %s", code)
        return RailUnavailable("Payouts through Plaid are not set up correctly.")
    if code == "TRANSFER_NOT_CANCELLABLE":
        return _NotCancellable()
    if refusal and (kind in _REFUSING_TYPES or code in REFUSAL_MESSAGES):
        return _refused(code, message or None)
    if illegal_move:
        return Conflict(f"Plaid refused the simulated event: {message or code}")
    if missing is not None and kind == "INVALID_INPUT":
        return NotFound(f"Plaid knows no transfer {missing}", param="transfer_id")
    return ValidationFailed(f"Plaid refused the request: {message or code}")


def _transfer_state(transfer: Any) -> TransferState:
    failure = transfer.failure_reason
    return TransferState(
        transfer_id=str(transfer.id),
        authorization_id=str(transfer.authorization_id) if transfer.authorization_id else None,
        status=str(transfer.status),
        amount=amount_from_plaid(str(transfer.amount)),
        currency=str(transfer.get("iso_currency_code") or "USD"),
        failure_code=_failure_code(failure),
        failure_message=_failure_message(failure),
    )


def _event(event: Any) -> TransferEvent:
    return TransferEvent(
        event_id=int(event.event_id),
        transfer_id=str(event.transfer_id),
        event_type=str(event.event_type),
        failure_code=_failure_code(event.failure_reason),
        failure_message=_failure_message(event.failure_reason),
        timestamp=event.timestamp,
    )


def _failure_code(failure: Any) -> str | None:
    if failure is None:
        return None
    code = failure.get("ach_return_code") or failure.get("failure_code")
    return str(code) if code else None


def _failure_message(failure: Any) -> str | None:
    if failure is None:
        return None
    text = failure.get("description")
    return str(text) if text else _return_reason(_failure_code(failure))


@lru_cache
def _api(client_id: str, secret: str, host: str) -> plaid_api.PlaidApi:
    configuration = plaid.Configuration(
        host=host, api_key={"clientId": client_id, "secret": secret, "plaidVersion": "2020-09-14"}
    )
    return plaid_api.PlaidApi(plaid.ApiClient(configuration))


# The sandbox twin

MEMORY = ":memory:"  # as a path: the twin's state lives in one process only (unit tests)
BUSY_TIMEOUT_SECONDS = 10.0  # how long a process waits for another's write to the twin's file
_SCHEMA_VERSION = 1
_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS transfers (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        transfer_id TEXT NOT NULL UNIQUE,
        authorization_id TEXT NOT NULL,
        status TEXT NOT NULL,
        amount INTEGER NOT NULL,
        currency TEXT NOT NULL,
        failure_code TEXT,
        failure_message TEXT,
        created_at TEXT NOT NULL,
        manual INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS transfers_moving ON transfers (status) WHERE manual = 0",
    """CREATE TABLE IF NOT EXISTS requests (
        idempotency_key TEXT PRIMARY KEY,
        request TEXT NOT NULL,
        transfer_id TEXT,
        refusal TEXT
    )""",
    """CREATE TABLE IF NOT EXISTS events (
        event_id INTEGER PRIMARY KEY AUTOINCREMENT,
        transfer_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        failure_code TEXT,
        failure_message TEXT,
        timestamp TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS declines (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        code TEXT NOT NULL
    )""",
)
_TRANSFER_COLUMNS = (
    "transfer_id, authorization_id, status, amount, currency, failure_code, failure_message"
)
_EVENT_COLUMNS = "event_id, transfer_id, event_type, failure_code, failure_message, timestamp"


@dataclass(frozen=True)
class _Payout:
    """What a twin payout was asked for: a reused idempotency key must ask for the same."""

    access_token: str
    account_id: str
    amount: int
    currency: str
    legal_name: str
    description: str


class SandboxPayoutRail:
    """The offline twin of Plaid Transfer, for `make run` without keys and for tests.

    It follows Plaid's sandbox: `advance` (Plaid's /sandbox/transfer/simulate) moves a transfer
    one step (pending to posted or failed, posted to settled or returned); each move, and the
    creation, is an event with the next event_id; `cancel` works while the transfer is pending.
    Being a sandbox it accepts every ISO 4217 currency, where Plaid pays out USD only. No amount
    is special: `decline_next(code)` makes the next new authorization decline.

    Like Stripe's test mode, a transfer nobody moves by hand can also move by itself: posted
    `post_after` and settled `settle_after` after its creation (None: never). Nothing runs in
    the background: every call first writes the moves that fell due, each stamped with the time
    it was due, so whichever process asks first writes the history a live rail would have. A
    transfer once moved by `advance` is the tester's alone and no longer moves by itself.

    State lives in a SQLite file (`path`) shared by every process of the installation (the web
    app sends, the job worker syncs and reconciles), or in memory for this object only
    (`path=None` or ":memory:"). Every call is one BEGIN IMMEDIATE transaction, so an
    idempotency key is read and its transfer written atomically across processes.
    """

    name = "sandbox"

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        post_after: timedelta | None = None,
        settle_after: timedelta | None = None,
    ) -> None:
        self._path = _file_of(path)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._post_after = post_after
        self._settle_after = settle_after
        self._memory_lock = threading.Lock()
        self._memory: sqlite3.Connection | None = None

    def decline_next(self, code: str = "NSF") -> None:
        """The next payout with a new idempotency key is declined with this rationale code."""
        with self._transaction() as conn:
            conn.execute("INSERT INTO declines (code) VALUES (?)", (code,))

    def send(
        self,
        *,
        access_token: str,
        account_id: str,
        amount: int,
        currency: str,
        idempotency_key: str,
        legal_name: str,
        description: str,
    ) -> TransferState:
        upper = _check_payout(
            access_token=access_token,
            account_id=account_id,
            amount=amount,
            currency=currency,
            idempotency_key=idempotency_key,
            legal_name=legal_name,
            description=description,
        )
        payout = _Payout(access_token, account_id, amount, upper, legal_name.strip(), description)
        request = json.dumps(asdict(payout), sort_keys=True)
        now = self._clock()
        with self._transaction() as conn:
            self._catch_up(conn, now)
            known = conn.execute(
                "SELECT request, transfer_id, refusal FROM requests WHERE idempotency_key = ?",
                (idempotency_key,),
            ).fetchone()
            if known is not None:
                if known[0] != request:
                    raise Conflict(
                        "This idempotency key was already used for another payout",
                        param="idempotency_key",
                    )
                refusal: str | None = known[2]
                state = None if refusal else _transfer(conn, known[1])
            else:
                refusal, state = self._new_transfer(conn, idempotency_key, request, payout, now)
        if refusal is not None:
            raise _refused(refusal)
        assert state is not None
        return state

    def cancel(self, transfer_id: str) -> bool:
        now = self._clock()
        with self._transaction() as conn:
            self._catch_up(conn, now)
            if _transfer(conn, transfer_id).status != "pending":
                return False
            conn.execute(
                "UPDATE transfers SET status = 'cancelled' WHERE transfer_id = ?", (transfer_id,)
            )
            _record(conn, transfer_id, "cancelled", now)
            return True

    def get(self, transfer_id: str) -> TransferState:
        with self._transaction(write=self._moves_by_itself()) as conn:
            self._catch_up(conn)
            return _transfer(conn, transfer_id)

    def sync(self, after_id: int, count: int = 100) -> list[TransferEvent]:
        _check_page(after_id, count)
        with self._transaction(write=self._moves_by_itself()) as conn:
            self._catch_up(conn)
            rows = conn.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id > ? ORDER BY event_id LIMIT ?",
                (after_id, count),
            ).fetchall()
        return [_event_of(row) for row in rows]

    def advance(self, transfer_id: str, event_type: str, failure_code: str | None = None) -> None:
        """Move the transfer one step, as Plaid's /sandbox/transfer/simulate does; a move Plaid
        would refuse is a Conflict. A return carries an ACH return code (R01 by default), a
        failure the code given, if any. The moves already due by themselves come first, so a
        return after the automatic post works; from then on the transfer moves only by hand."""
        now = self._clock()
        with self._transaction() as conn:
            self._catch_up(conn, now)
            state = _transfer(conn, transfer_id)
            new_status = SIMULATED_MOVES.get(state.status, {}).get(event_type)
            if new_status is None:
                raise Conflict(
                    f"A {state.status} payout cannot move to {event_type} "
                    f"(allowed: {', '.join(SIMULATED_MOVES.get(state.status, {})) or 'none'})",
                    param="event_type",
                )
            code = (failure_code or "R01") if new_status == "returned" else failure_code
            if new_status not in {"failed", "returned"}:
                code = None
            message = _return_reason(code) or (_FAILED if new_status == "failed" else None)
            conn.execute(
                "UPDATE transfers SET status = ?, failure_code = ?, failure_message = ?, "
                "manual = 1 WHERE transfer_id = ?",
                (new_status, code, message, transfer_id),
            )
            _record(conn, transfer_id, event_type, now, code, message)

    # Where the state lives and how fast transfers move: fixed here, read from the settings by
    # the process's own twin (SANDBOX).

    def _file(self) -> Path | None:
        return self._path

    def _pace(self) -> tuple[timedelta | None, timedelta | None]:
        return self._post_after, self._settle_after

    def _moves_by_itself(self) -> bool:
        return any(step is not None for step in self._pace())

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """One transaction on the twin's state; a write takes SQLite's write lock at BEGIN, so
        every check-then-write in it is atomic against other threads and processes. A file that
        stays locked or cannot be opened is RailUnavailable, as a Plaid outage would be."""
        path = self._file()
        with self._memory_lock if path is None else nullcontext():
            conn: sqlite3.Connection | None = None
            try:
                conn = self._memory_connection() if path is None else _open(path)
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                yield conn
                conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                log.warning("sandbox payout rail at %s unusable: %s", path or MEMORY, exc)
                raise RailUnavailable("The sandbox payout rail is busy. Try again.") from exc
            finally:
                if conn is not None:
                    if conn.in_transaction:
                        with suppress(sqlite3.Error):
                            conn.execute("ROLLBACK")
                    if path is not None:
                        conn.close()

    def _memory_connection(self) -> sqlite3.Connection:
        if self._memory is None:
            self._memory = _open(MEMORY)
        return self._memory

    def _new_transfer(
        self,
        conn: sqlite3.Connection,
        idempotency_key: str,
        request: str,
        payout: _Payout,
        now: datetime,
    ) -> tuple[str | None, TransferState | None]:
        """A new key's outcome, stored with it: a queued decline, or a pending transfer."""
        decline = conn.execute("SELECT id, code FROM declines ORDER BY id LIMIT 1").fetchone()
        if decline is not None:
            conn.execute("DELETE FROM declines WHERE id = ?", (decline[0],))
            conn.execute(
                "INSERT INTO requests (idempotency_key, request, refusal) VALUES (?, ?, ?)",
                (idempotency_key, request, decline[1]),
            )
            return str(decline[1]), None
        state = TransferState(
            transfer_id=str(uuid.uuid4()),
            authorization_id=str(uuid.uuid4()),
            status="pending",
            amount=payout.amount,
            currency=payout.currency,
            failure_code=None,
            failure_message=None,
        )
        conn.execute(
            f"INSERT INTO transfers ({_TRANSFER_COLUMNS}, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (*astuple(state), now.isoformat()),
        )
        conn.execute(
            "INSERT INTO requests (idempotency_key, request, transfer_id) VALUES (?, ?, ?)",
            (idempotency_key, request, state.transfer_id),
        )
        _record(conn, state.transfer_id, "pending", now)
        return None, state

    def _catch_up(self, conn: sqlite3.Connection, now: datetime | None = None) -> None:
        """Write the automatic moves due by `now`, oldest first, each stamped with the time it
        fell due: the same history whichever process asks, and whenever."""
        post, settle = self._pace()
        if post is None and settle is None:
            return
        now = now or self._clock()
        due: list[tuple[datetime, int, int, str, str]] = []
        for seq, transfer_id, status, created in conn.execute(
            "SELECT seq, transfer_id, status, created_at FROM transfers "
            "WHERE manual = 0 AND status IN ('pending', 'posted') ORDER BY seq"
        ):
            created_at = datetime.fromisoformat(created)
            posted_at = created_at + (post or timedelta(0))
            if status == "pending":
                if post is None or posted_at > now:
                    continue
                due.append((posted_at, seq, 0, transfer_id, "posted"))
            if settle is not None and max(created_at + settle, posted_at) <= now:
                due.append((max(created_at + settle, posted_at), seq, 1, transfer_id, "settled"))
        for at, _seq, _step, transfer_id, event_type in sorted(due):
            conn.execute(
                "UPDATE transfers SET status = ? WHERE transfer_id = ?", (event_type, transfer_id)
            )
            _record(conn, transfer_id, event_type, at)


class _ConfiguredSandbox(SandboxPayoutRail):
    """The process's twin: its file and pace are read from the settings at each call, so a
    change of SANDBOX_RAIL_* (and of the settings' cache, as tests do) is followed at once."""

    def _file(self) -> Path | None:
        return _file_of(get_settings().sandbox_rail_path)

    def _pace(self) -> tuple[timedelta | None, timedelta | None]:
        settings = get_settings()
        return (
            _seconds(settings.sandbox_rail_post_seconds),
            _seconds(settings.sandbox_rail_settle_seconds),
        )


def _file_of(path: Path | str | None) -> Path | None:
    return None if path is None or str(path) == MEMORY else Path(path)


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def _open(path: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL (readers never wait for
    the writer), with a busy timeout, on a schema created on first use."""
    if str(path) != MEMORY:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if conn.execute("PRAGMA user_version").fetchone()[0] < _SCHEMA_VERSION:
            conn.execute("BEGIN IMMEDIATE")
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
            conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


def _transfer(conn: sqlite3.Connection, transfer_id: str) -> TransferState:
    row = conn.execute(
        f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE transfer_id = ?", (transfer_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"No sandbox payout {transfer_id}", param="transfer_id")
    return TransferState(*row)


def _record(
    conn: sqlite3.Connection,
    transfer_id: str,
    event_type: str,
    at: datetime,
    code: str | None = None,
    message: str | None = None,
) -> None:
    conn.execute(
        "INSERT INTO events (transfer_id, event_type, failure_code, failure_message, timestamp) "
        "VALUES (?, ?, ?, ?, ?)",
        (transfer_id, event_type, code, message, at.isoformat()),
    )


def _event_of(row: tuple[Any, ...]) -> TransferEvent:
    event_id, transfer_id, event_type, code, message, timestamp = row
    return TransferEvent(
        event_id=int(event_id),
        transfer_id=transfer_id,
        event_type=event_type,
        failure_code=code,
        failure_message=message,
        timestamp=datetime.fromisoformat(timestamp),
    )


SANDBOX: SandboxPayoutRail = _ConfiguredSandbox()
