"""Read models for people: the dashboard (dashboard, periods), the payments list (payment_list),
one payment's page (payment_detail), exports, monthly statements, the audit log and the live
feed."""
