"""The payments domain. booking/ is the one place a payment, refund, dispute or payout changes
state and its fees are set (and the ledger is booked); orders, charges (authorize, charge) and
operations (capture, void, refund) call the processors through routing and book their answers
there. Beside them: fees, merchant terms, state machines, gateway configurations, risk
(scoring, rules, lookups, blocklist) and reviews, refund limits, customers, dispute evidence
and the portal's payment and processor pages."""
