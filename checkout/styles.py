"""The checkout's stylesheet: small, mobile first, AA contrast, a visible focus ring.

Inlined in the page (one <style> element) so the checkout needs no stylesheet request of its
own. The brand colour arrives as CSS variables set on the page's root element.
"""

CSS = """
.co-root{min-height:100vh;background:#f6f7f9;color:#1f2937;font-family:system-ui,-apple-system,
"Segoe UI",Roboto,sans-serif;font-size:16px;line-height:1.5}
.co-bar{height:6px;background:var(--co-brand)}
.co-wrap{max-width:960px;margin:0 auto;padding:16px}
.co-head{display:flex;align-items:center;gap:12px;justify-content:space-between;flex-wrap:wrap;
padding:8px 0 16px}
.co-merchant{display:flex;align-items:center;gap:12px;min-width:0;flex:1 1 auto;max-width:100%}
.co-merchant img{max-height:40px;max-width:min(160px,40%);object-fit:contain;flex:none}
.co-merchant h1{font-size:1.125rem;font-weight:600;margin:0;min-width:0;white-space:nowrap;
overflow:hidden;text-overflow:ellipsis}
.co-initial{flex:none;width:40px;height:40px;border-radius:8px;background:var(--co-brand);
color:var(--co-brand-text);display:grid;place-items:center;font-weight:700}
.co-lang{display:flex;align-items:center;gap:6px;font-size:.875rem}
@media (min-width:48em){.co-head{flex-wrap:nowrap}}
.co-lang select{font:inherit;padding:6px 8px;border:1px solid #6b7280;border-radius:6px;
background:#fff;color:#1f2937;min-height:40px}
.co-grid{display:grid;gap:16px}
.co-grid>*{min-width:0}
@media (min-width:48em){.co-grid{grid-template-columns:1fr 1.1fr;gap:32px;align-items:start}}
.co-card{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:16px}
.co-card h2{font-size:1rem;margin:0 0 12px;font-weight:600}
.co-items{list-style:none;margin:0;padding:0}
.co-items li{display:flex;justify-content:space-between;gap:12px;padding:6px 0}
.co-qty{color:#4b5563;font-size:.875rem}
.co-items li>span:last-child,.co-total>span:last-child{text-align:right}
.co-first{font-size:.875rem;color:#374151;margin:10px 0 0}
.co-consent{font-size:.875rem;color:#374151;margin:0 0 14px;padding:10px 12px;
background:#f9fafb;border:1px solid #e5e7eb;border-radius:8px}
.co-consent h3{font-size:.875rem;margin:0 0 6px}
.co-total{display:flex;justify-content:space-between;gap:12px;border-top:1px solid #e5e7eb;
margin-top:8px;padding-top:12px;font-weight:700;font-size:1.125rem}
.co-note{background:#fff7ed;border:1px solid #fdba74;color:#7c2d12;border-radius:8px;
padding:10px 12px;font-size:.875rem;margin-bottom:16px}
.co-field{display:flex;flex-direction:column;gap:4px;margin-bottom:14px;min-width:0}
.co-field label{font-weight:500;font-size:.9375rem}
.co-field input,.co-field select{font:inherit;font-size:16px;padding:10px 12px;
border:1px solid #6b7280;border-radius:8px;background:#fff;color:#111827;min-height:44px;
width:100%;box-sizing:border-box}
.co-field input[aria-invalid=true]{border-color:#b91c1c;border-width:2px}
.co-help{font-size:.8125rem;color:#4b5563;margin:0}
.co-err{color:#b91c1c;font-size:.875rem;margin:0;min-height:0}
.co-err:empty{display:none}
.co-row{display:grid;grid-template-columns:1fr 1fr;gap:12px}
.co-num{position:relative}
.co-brand{position:absolute;right:12px;top:50%;transform:translateY(-50%);font-size:.8125rem;
color:#374151;pointer-events:none}
fieldset.co-set{border:0;margin:0;padding:0;min-width:0}
fieldset.co-set legend{font-weight:600;margin-bottom:10px;padding:0}
.co-pay{width:100%;min-height:48px;border:0;border-radius:8px;font:inherit;font-size:1.0625rem;
font-weight:600;background:var(--co-brand);color:var(--co-brand-text);cursor:pointer;
margin-top:4px}
.co-pay[disabled]{opacity:.75;cursor:progress}
.co-alt{width:100%;min-height:48px;border:1px solid #6b7280;border-radius:8px;font:inherit;
font-weight:600;background:#fff;color:#1f2937;cursor:pointer;margin-top:10px}
.co-alert{color:#991b1b;background:#fef2f2;border:1px solid #fca5a5;border-radius:8px;
padding:10px 12px;margin:0 0 12px}
.co-alert:empty{display:none}
.co-link{color:#1d4ed8;text-decoration:underline}
.co-cancel{display:inline-block;margin-top:14px;font-size:.9375rem}
.co-button-link{display:flex;align-items:center;justify-content:center;text-decoration:none;
margin-top:16px;padding:0 16px;box-sizing:border-box}
.co-foot{font-size:.8125rem;color:#4b5563;text-align:center;margin:24px 0 8px}
.co-center{max-width:520px;margin:0 auto;text-align:center}
.co-center h2{font-size:1.375rem;margin:8px 0}
.co-dl{display:grid;grid-template-columns:auto 1fr;gap:6px 16px;text-align:left;margin:16px 0}
.co-dl dt{color:#4b5563}.co-dl dd{margin:0;font-weight:500;overflow-wrap:anywhere}
.co-ok{width:56px;height:56px;border-radius:50%;background:#dcfce7;color:#166534;display:grid;
place-items:center;margin:0 auto;font-size:28px}
.co-root :focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}
.co-check{display:flex;gap:10px;align-items:flex-start;margin:0 0 14px}
.co-check input{width:22px;height:22px;margin:2px 0 0;flex:none;accent-color:var(--co-brand)}
.co-check label{font-weight:500}
.co-wallets{display:grid;gap:10px;margin:0 0 8px}
.co-wallet{min-height:48px;border-radius:8px;font:inherit;font-weight:600;cursor:pointer;
padding:0 12px;border:2px dashed #9ca3af}
.co-wallet-apple{background:#000;color:#fff}
.co-wallet-google{background:#fff;color:#1f2937;border-color:#6b7280}
.co-wallet[disabled]{opacity:.75;cursor:progress}
.co-or{display:flex;align-items:center;gap:10px;color:#4b5563;font-size:.875rem;margin:14px 0}
.co-or::before,.co-or::after{content:"";flex:1;border-top:1px solid #e5e7eb}
.co-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
"""

# The billing portal and the hosted invoice page, on top of CSS.
BILLING_CSS = """
.bp-stack{display:grid;gap:16px}
@media (min-width:64em){.bp-stack{grid-template-columns:1fr 1fr}
.bp-stack>section:last-child{grid-column:1 / -1}}
.bp-heading{font-size:1.375rem;margin:8px 0 0}
.bp-list{list-style:none;margin:0;padding:0}
.bp-item{border-top:1px solid #e5e7eb;padding:12px 0}
.bp-item:first-child{border-top:0;padding-top:0}
.bp-row{display:flex;justify-content:space-between;align-items:center;gap:12px;flex-wrap:wrap}
.bp-col{display:flex;flex-direction:column;min-width:0}
.bp-right{align-items:flex-end;text-align:right}
.bp-title{font-weight:600;margin:0;font-size:1rem;overflow-wrap:anywhere}
.bp-amount{margin:4px 0 0}
.bp-badge{display:inline-block;border-radius:999px;padding:2px 10px;font-size:.8125rem;
font-weight:600;background:#e5e7eb;color:#1f2937}
.bp-warn{background:#fef3c7;color:#78350f}
.bp-actions{display:flex;gap:16px;flex-wrap:wrap;align-items:center;margin-top:8px}
.bp-actions a,.bp-textbutton{min-height:44px;display:inline-flex;align-items:center}
.bp-textbutton{background:none;border:0;padding:0;font:inherit;color:#1d4ed8;
text-decoration:underline;cursor:pointer}
.bp-strong{font-weight:700}
.bp-form{margin-top:12px;border-top:1px dashed #d1d5db;padding-top:12px}
.bp-confirm{margin-top:12px;background:#fef2f2;border:1px solid #fca5a5;border-radius:8px;
padding:12px}
.bp-confirm p{margin:0 0 8px}
.bp-danger{background:#b91c1c;color:#fff}
.bp-notice{color:#14532d;background:#f0fdf4;border:1px solid #86efac;border-radius:8px;
padding:10px 12px;margin:0 0 12px}
.bp-notice:empty{display:none}
.bp-return{display:inline-flex;min-height:44px;align-items:center}
.bp-credit{color:#166534}
.bp-sum{display:flex;justify-content:space-between;padding-top:6px;color:#374151}
.bp-center{text-align:center}
.bp-or{margin:14px 0 8px}
"""
