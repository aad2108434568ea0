"""Recurring billing (issue 19), built inside PayPortal so it runs the same on every processor.

periods.py lays out billing periods from a billing-cycle anchor (month ends kept) and trial
ends; proration.py says what a change mid-period credits and charges, in exact minor units;
catalogue.py holds products and their prices; clock.py is billing's one clock and the test
clocks; engine.py is where the engine (subscriptions, invoices, dunning) runs a clock's
objects; representations.py is their public shape. See docs/billing.md.
"""
