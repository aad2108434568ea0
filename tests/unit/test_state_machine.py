"""The state machines: every legal move is allowed, every other one refused with a clear code."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.core.errors import Conflict
from backend.models.enums import DisputeStatus, PaymentStatus, RefundStatus
from backend.services.payments import state_machine as sm

LEGAL_PAYMENT_MOVES = {
    ("requires_payment_method", "authorized"),
    ("requires_payment_method", "succeeded"),
    ("requires_payment_method", "requires_action"),
    ("requires_payment_method", "processing"),
    ("processing", "succeeded"),
    ("processing", "failed"),
    ("requires_payment_method", "failed"),
    ("requires_payment_method", "voided"),
    ("requires_action", "authorized"),
    ("requires_action", "succeeded"),
    ("requires_action", "failed"),
    ("requires_action", "voided"),
    ("authorized", "succeeded"),
    ("authorized", "voided"),
    ("authorized", "failed"),
    ("succeeded", "partially_refunded"),
    ("succeeded", "refunded"),
    ("succeeded", "disputed"),
    ("partially_refunded", "partially_refunded"),
    ("partially_refunded", "refunded"),
    ("partially_refunded", "disputed"),
    ("partially_refunded", "succeeded"),
    ("refunded", "partially_refunded"),
    ("refunded", "succeeded"),
    ("disputed", "succeeded"),
    ("disputed", "partially_refunded"),
    ("disputed", "refunded"),
    ("failed", "authorized"),
    ("failed", "succeeded"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(PaymentStatus, repeat=2)))
def test_payment_moves_are_exactly_the_documented_ones(current: str, target: str):
    if (current, target) in LEGAL_PAYMENT_MOVES:
        sm.ensure_payment_move(current, target)
    else:
        with pytest.raises(Conflict) as info:
            sm.ensure_payment_move(current, target)
        assert info.value.code == "payment_invalid_state"
        assert info.value.status == 409


@pytest.mark.parametrize("terminal", ["voided"])
def test_terminal_payment_states_go_nowhere(terminal: str):
    assert sm.PAYMENT_TRANSITIONS[PaymentStatus(terminal)] == frozenset()


def test_operations_name_the_state_in_their_error():
    with pytest.raises(Conflict, match="Cannot capture a payment that is voided"):
        sm.ensure_operation("voided", sm.CAPTURABLE, "capture")
    with pytest.raises(Conflict, match="Cannot refund a payment that is authorized"):
        sm.ensure_operation("authorized", sm.REFUNDABLE, "refund")
    sm.ensure_operation("authorized", sm.VOIDABLE, "void")


def test_only_a_succeeded_bank_payment_can_be_returned():
    """succeeded -> failed is no ordinary move: only booking.bank_return makes it, through
    ensure_bank_return, for a succeeded bank payment."""
    with pytest.raises(Conflict):
        sm.ensure_payment_move(PaymentStatus.SUCCEEDED, PaymentStatus.FAILED)
    sm.ensure_bank_return(PaymentStatus.SUCCEEDED)
    for status in set(PaymentStatus) - {PaymentStatus.SUCCEEDED}:
        with pytest.raises(Conflict) as info:
            sm.ensure_bank_return(status)
        assert info.value.code == "payment_invalid_state"
        assert sm.labels.status(status).lower() in info.value.message


def test_refund_and_dispute_machines():
    sm.ensure_refund_move(RefundStatus.PENDING, RefundStatus.SUCCEEDED)
    sm.ensure_refund_move(RefundStatus.SUCCEEDED, RefundStatus.FAILED)
    with pytest.raises(Conflict):
        sm.ensure_refund_move(RefundStatus.FAILED, RefundStatus.SUCCEEDED)
    sm.ensure_dispute_move(DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW)
    with pytest.raises(Conflict):
        sm.ensure_dispute_move(DisputeStatus.WON, DisputeStatus.LOST)


@given(st.lists(st.sampled_from(list(PaymentStatus)), max_size=30))
def test_any_walk_only_follows_legal_edges(targets: list[PaymentStatus]):
    """Applying random moves through the guard never leaves the documented graph."""
    state = PaymentStatus.REQUIRES_PAYMENT_METHOD
    for target in targets:
        try:
            sm.ensure_payment_move(state, target)
        except Conflict:
            continue
        assert (state, target) in LEGAL_PAYMENT_MOVES
        state = target
