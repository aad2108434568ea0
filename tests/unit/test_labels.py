"""Every code a person may read has its words in backend/services/labels.py.

The scan reads the code base itself: each dotted code ("api_key.revealed", an audit action or an
event type) written anywhere, each value of the stored vocabularies (backend/models/enums.py),
and each status, role or risk decision a module compares with or stores, must have a label.
"""

from __future__ import annotations

import ast
import re
from enum import StrEnum
from pathlib import Path

import pytest

from backend.models import enums
from backend.services import labels
from backend.services.events import EVENT_TYPES
from backend.services.payments.reviews import ReviewOutcome

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    path for folder in ("backend", "portal", "checkout") for path in (ROOT / folder).rglob("*.py")
)
DOTTED = re.compile(r"[a-z][a-z_]*(\.[a-z][a-z_]*)+")
# Dotted strings that are not codes: file names, table columns, ASGI message types, Stripe's
# expand paths into a list's objects (data.source), request parameters (address.city,
# mandate.text).
NOT_CODES = re.compile(
    r".*\.(js|jsx|css|py|json|html|png|svg|id|db)$|http\..*|websocket\..*|data\..*|address\..*"
    r"|mandate\..*"
)
# Attributes and keywords whose string values are shown to people as a status, role or decision.
VOCABULARY_NAMES = re.compile(r"(^|_)(status|role|risk_decision|review_outcome|outcome)$")


def _trees() -> list[tuple[Path, ast.AST]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in SOURCES]


TREES = _trees()


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _dotted_codes() -> dict[str, str]:
    found: dict[str, str] = {}
    for path, tree in TREES:
        if path.name == "labels.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                value = node.value
                if DOTTED.fullmatch(value) and not NOT_CODES.fullmatch(value):
                    found.setdefault(value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def _vocabulary_strings() -> dict[str, str]:
    """Strings compared with, or stored in, a status, role or risk decision."""
    found: dict[str, str] = {}

    def keep(node: ast.AST, path: Path) -> None:
        values = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
        for v in values:
            if isinstance(v, ast.Constant) and isinstance(v.value, str) and v.value:
                found.setdefault(v.value, f"{path.relative_to(ROOT)}:{v.lineno}")

    for path, tree in TREES:
        # The service layer and the API own the stored vocabularies (pages keep their own
        # view states; gateways and integrations speak their providers' words).
        if path.relative_to(ROOT).parts[:2] not in (("backend", "services"), ("backend", "api")):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and VOCABULARY_NAMES.search(_name(node.left)):
                for right in node.comparators:
                    keep(right, path)
            elif (isinstance(node, ast.keyword) and VOCABULARY_NAMES.search(node.arg or "")) or (
                isinstance(node, ast.Assign)
                and any(VOCABULARY_NAMES.search(_name(t)) for t in node.targets)
            ):
                keep(node.value, path)
    return found


def test_every_dotted_code_has_a_label() -> None:
    missing = {code: where for code, where in _dotted_codes().items() if not labels.labelled(code)}
    assert not missing, f"add these to backend/services/labels.py: {missing}"


def test_the_scan_finds_audit_actions_and_events() -> None:
    codes = _dotted_codes()
    assert {"api_key.created", "member.role_changed", "payment.review_approved"} <= set(codes)
    assert "webhook_endpoint.secret_rolled" in codes


def test_audit_actions_are_written_out_whole() -> None:
    """An action built with an f-string hides from the scan above (and from a grep)."""
    built = []
    for path, tree in TREES:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "action"
                and isinstance(node.value, ast.JoinedStr)
            ):
                built.append(f"{path.relative_to(ROOT)}:{node.value.lineno}")
    assert not built, f"write these audit actions out whole: {built}"


def test_every_event_type_has_a_label() -> None:
    assert [t for t in EVENT_TYPES if t not in labels.EVENT_TYPES] == []


@pytest.mark.parametrize(
    "vocabulary",
    [v for v in vars(enums).values() if isinstance(v, type) and issubclass(v, StrEnum)]
    + [ReviewOutcome],
    ids=lambda v: v.__name__,
)
def test_every_stored_value_has_a_label(vocabulary: type[StrEnum]) -> None:
    assert [str(v) for v in vocabulary if not labels.labelled(str(v))] == []


def test_every_status_role_and_decision_written_in_code_has_a_label() -> None:
    missing = {
        value: where
        for value, where in _vocabulary_strings().items()
        if not labels.labelled(value) and value not in IGNORED_VALUES
    }
    assert not missing, f"add these to backend/services/labels.py: {missing}"


# Compared with a status-like name but never shown as one: filter sentinels and health words
# that carry their own label beside them.
IGNORED_VALUES = {"all", "*"}


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("partially_refunded", "Partially refunded"),
        ("requires_payment_method", "Awaiting payment"),
        ("needs_response", "Needs response"),
    ],
)
def test_statuses_read_as_words(code: str, words: str) -> None:
    assert labels.status(code) == words


def test_people_words_for_roles_decisions_and_actions() -> None:
    assert labels.role("analyst") == "Analyst"
    assert labels.risk_decision("review") == "Needs review"
    assert labels.risk_decision(None) == "Not assessed"
    assert labels.action("api_key.revealed") == "API key revealed"
    assert labels.event_type("payment.refunded") == "Payment refunded"
    assert labels.refund_reason("requested_by_customer") == "Requested by customer"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("some_new_state", "Some new state"),
        ("charge.dispute.funds_withdrawn", "Charge dispute funds withdrawn"),
        ("retryAfter", "Retry after"),
        ("", "—"),
        (None, "—"),
    ],
)
def test_an_unknown_code_still_reads_as_words(code: str | None, words: str) -> None:
    assert labels.words(code) == words
    assert "_" not in labels.status(code)


def test_card_brands_read_as_their_owners_write_them() -> None:
    assert labels.card_brand("amex") == "American Express"
    assert labels.card_brand("visa") == "Visa"
    assert labels.card_brand(None) == "Card"
