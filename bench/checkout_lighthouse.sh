#!/usr/bin/env bash
# Lighthouse (mobile) on a hosted checkout page of a running app, e.g. one served by `make run`.
#
#   make run                              # in another terminal (serves http://localhost:3000)
#   bench/checkout_lighthouse.sh          # or BASE_URL=http://localhost:3112 bench/checkout_lighthouse.sh
#
# Creates a checkout session for the demo merchant through the API (seed-demo prints a fresh
# test key), runs the Lighthouse npm package with Debian's chromium, and prints the mobile
# performance and accessibility scores and the Largest Contentful Paint. Targets: performance
# >= 90, accessibility >= 95, LCP < 2.5 s.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE_URL="${BASE_URL:-http://localhost:3000}"
CHROME="${CHROME_PATH:-/usr/bin/chromium}"
LIGHTHOUSE="lighthouse@13.5.0"
export PATH="$ROOT/.venv/bin:$PATH"

KEY="$(cd "$ROOT" && python -m backend seed-demo | python -c 'import json,sys; print(json.load(sys.stdin)["test_secret_key"])')"
URL="$(curl -sf "$BASE_URL/api/checkout/sessions" -H "Authorization: Bearer $KEY" \
  -H "Content-Type: application/json" \
  -d '{"lineItems":[{"name":"Ethiopian beans 250 g","quantity":2,"unitAmountCents":1450}],
       "currency":"USD","successUrl":"https://shop.example/thanks","cancelUrl":"https://shop.example/cart"}' \
  | python -c 'import json,sys; print(json.load(sys.stdin)["session"]["url"])')"
URL="$BASE_URL/pay/${URL##*/pay/}"  # the page on the address this script was given

# LH_REPORT=path keeps Lighthouse's full JSON report for a closer look.
if [ -n "${LH_REPORT:-}" ]; then REPORT="$LH_REPORT"; else
  REPORT="$(mktemp --suffix=.json)"; trap 'rm -f "$REPORT"' EXIT; fi
npx --yes "$LIGHTHOUSE" "$URL" --quiet --output=json --output-path="$REPORT" \
  --only-categories=performance,accessibility --chrome-path="$CHROME" \
  --chrome-flags="--headless=new --no-sandbox --disable-gpu" >/dev/null

python - "$REPORT" "$URL" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
cats, audits = report["categories"], report["audits"]
perf, a11y = round(cats["performance"]["score"] * 100), round(cats["accessibility"]["score"] * 100)
lcp = audits["largest-contentful-paint"]["numericValue"] / 1000
print(f"page           {sys.argv[2]}")
print(f"performance    {perf:>5}   (target >= 90)")
print(f"accessibility  {a11y:>5}   (target >= 95)")
print(f"LCP            {lcp:>5.2f} s (target < 2.5 s)")
# Lighthouse's own diagnostics: the figures behind the score (the machine may be noisy).
def value(audit_id, scale=1, unit=""):
    audit = audits.get(audit_id) or {}
    number = audit.get("numericValue")
    return "n/a" if number is None else f"{number / scale:.{2 if scale > 1 else 0}f}{unit}"
print(f"FCP            {value('first-contentful-paint', 1000, ' s')}")
print(f"Speed Index    {value('speed-index', 1000, ' s')}")
print(f"TBT            {value('total-blocking-time', 1, ' ms')}")
print(f"CLS            {audits['cumulative-layout-shift']['numericValue']:.3f}")
print(f"server (TTFB)  {value('server-response-time', 1, ' ms')}")
print(f"total bytes    {value('total-byte-weight', 1024, ' KiB')}")
blocking = audits.get("render-blocking-insight") or audits.get("render-blocking-resources") or {}
urls = [i.get("url", "") for i in (blocking.get("details") or {}).get("items", [])]
print("render-blocking", ", ".join(u.rsplit("/", 1)[-1] for u in urls) or "none")
unused = (audits.get("unused-javascript") or {}).get("details") or {}
wasted = sum(i.get("wastedBytes", 0) for i in unused.get("items", []))
print(f"unused JS      {wasted / 1024:.0f} KiB")
breakdown = (audits.get("lcp-breakdown-insight") or {}).get("details") or {}
for node in [i for i in breakdown.get("items", []) if i.get("type") == "node"][:1]:
    print(f"LCP element    {node.get('selector', 'n/a')}")
failed = [a["id"] for a in audits.values()
          if a.get("score") is not None and a["score"] < 1 and a["id"] in
          {r["id"] for r in cats["accessibility"]["auditRefs"]}]
if failed:
    print("accessibility audits not passed:", ", ".join(failed))
PY
