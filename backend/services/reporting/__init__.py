"""Read models for people: dashboard figures, payment lists, exports, monthly statements, the audit
log and the live feed."""
