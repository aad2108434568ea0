"""The payments domain: charges and refunds (with the one booking module every state change of a
payment, refund or dispute goes through), fees, merchant terms, state machines, routing across
processors and their configurations, risk and reviews, customers and disputes."""
