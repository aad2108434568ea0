"""Visual constants shared by the portal's components."""

BRAND = "#4f46e5"
SIDEBAR_WIDTH = "15rem"
# Reflex breakpoints: [base, xs >= 30em, sm >= 48em, ...]; the sidebar shows from `sm` up.
DESKTOP_ONLY = ["none", "none", "flex"]
MOBILE_ONLY = ["flex", "flex", "none"]
