def test_a_wallet_card_is_saved_for_future_payments_when_ticked(shop: Merchant) -> None:
    from backend.models import PaymentMethod as SavedCard

    sid = new_session(shop, savePaymentMethod=True)
    with session_scope() as db:
        result = paying.pay(
            db, sid, token="", customer_email="ada@example.com", save_card=True, wallet="apple_pay"
        )
        assert result.status == "complete" and result.payment.card_wallet == "apple_pay"
        saved = db.exec(select(SavedCard).where(SavedCard.merchant_id == shop.merchant_id)).all()
        assert [(c.brand, c.last4, c.customer_id) for c in saved] == [
            ("visa", "4242", result.payment.customer_id)
        ]
