// The sandbox card form's inline checks, in the browser: the card number never goes to the
// server while the customer types, only once, inside the pay event.
//
// Checks mirror backend/gateways/cards.py: Luhn, brand from the leading digits, lengths per
// brand, expiry in the future, CVC length per brand (4 for American Express). Messages come
// translated from the page (data-err-* attributes on the form). Errors show when a field is
// left and on submit; a submit with errors is stopped before Reflex sees it, the first wrong
// field gets the focus and the summary is announced (aria-live).
(() => {
  if (window.__ppCardForm) return;
  window.__ppCardForm = true;

  const RANGES = [
    [1, 4, 4, "visa"], [2, 51, 55, "mastercard"], [4, 2221, 2720, "mastercard"],
    [2, 34, 34, "amex"], [2, 37, 37, "amex"], [4, 6011, 6011, "discover"],
    [3, 644, 649, "discover"], [2, 65, 65, "discover"], [3, 300, 305, "diners"],
    [4, 3095, 3095, "diners"], [2, 36, 36, "diners"], [2, 38, 39, "diners"],
    [4, 3528, 3589, "jcb"], [2, 62, 62, "unionpay"], [4, 8100, 8171, "unionpay"],
  ];
  const LENGTHS = {
    visa: [13, 16, 19], mastercard: [16], amex: [15], discover: [16, 17, 18, 19],
    diners: [14, 15, 16, 17, 18, 19], jcb: [16, 17, 18, 19], unionpay: [16, 17, 18, 19],
  };
  const NAMES = {
    visa: "Visa", mastercard: "Mastercard", amex: "American Express", discover: "Discover",
    diners: "Diners Club", jcb: "JCB", unionpay: "UnionPay",
  };

  const digits = (value) => (value || "").replace(/[\s-]/g, "");
  const brandOf = (value) => {
    const d = digits(value);
    if (!/^\d+$/.test(d)) return "unknown";
    for (const [len, low, high, brand] of RANGES) {
      if (d.length >= len && +d.slice(0, len) >= low && +d.slice(0, len) <= high) return brand;
    }
    return "unknown";
  };
  const luhn = (d) => {
    let sum = 0;
    for (let i = 0; i < d.length; i++) {
      let n = d.charCodeAt(d.length - 1 - i) - 48;
      if (i % 2 === 1) { n *= 2; if (n > 9) n -= 9; }
      sum += n;
    }
    return d.length > 1 && sum % 10 === 0;
  };
  const cvcLength = (brand) => (brand === "amex" ? 4 : 3);

  const form = () => document.getElementById("pay-form");
  const msg = (key) => (form() && form().dataset[key]) || "";

  function check(id) {
    const el = document.getElementById(id);
    if (!el) return "";
    const value = el.value.trim();
    if (id === "email") {
      return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) ? "" : msg("errEmail");
    }
    if (id === "cc-name") return value ? "" : msg("errName");
    if (id === "cc-number") {
      const d = digits(value);
      const brand = brandOf(d);
      const lengths = LENGTHS[brand] || [12, 13, 14, 15, 16, 17, 18, 19];
      return /^\d+$/.test(d) && lengths.includes(d.length) && luhn(d) ? "" : msg("errNumber");
    }
    if (id === "cc-exp") {
      const m = value.replace(/\s/g, "").match(/^(\d{1,2})\/(\d{2}|\d{4})$/);
      if (!m || +m[1] < 1 || +m[1] > 12) return msg("errExpiry");
      const year = m[2].length === 2 ? 2000 + +m[2] : +m[2];
      const now = new Date();
      if (year < now.getFullYear() || (year === now.getFullYear() && +m[1] < now.getMonth() + 1)) {
        return msg("errExpired");
      }
      return "";
    }
    if (id === "cc-csc") {
      const n = cvcLength(brandOf(document.getElementById("cc-number")?.value));
      return new RegExp(`^\\d{${n}}$`).test(value) ? "" : msg(n === 4 ? "errCvc4" : "errCvc3");
    }
    if (id === "postal") return value ? "" : msg("errPostal");
    return "";
  }

  function show(id, problem) {
    const el = document.getElementById(id);
    const out = document.getElementById(`${id}-error`);
    if (!el || !out) return;
    out.textContent = problem;
    if (problem) el.setAttribute("aria-invalid", "true");
    else el.removeAttribute("aria-invalid");
  }

  const FIELDS = ["email", "cc-name", "cc-number", "cc-exp", "cc-csc", "postal"];

  document.addEventListener("input", (ev) => {
    const el = ev.target;
    if (!(el instanceof HTMLInputElement)) return;
    if (el.id === "cc-number") {
      const d = digits(el.value).replace(/\D/g, "").slice(0, 19);
      const brand = brandOf(d);
      const groups = brand === "amex" ? [4, 6, 5] : [4, 4, 4, 4, 3];
      const parts = [];
      let at = 0;
      for (const size of groups) {
        if (at >= d.length) break;
        parts.push(d.slice(at, at + size));
        at += size;
      }
      el.value = parts.join(" ");
      const label = document.getElementById("cc-brand");
      if (label) label.textContent = NAMES[brand] || "";
      const csc = document.getElementById("cc-csc");
      if (csc) csc.maxLength = cvcLength(brand);
    } else if (el.id === "cc-exp") {
      const d = el.value.replace(/\D/g, "").slice(0, 4);
      el.value = d.length > 2 ? `${d.slice(0, 2)} / ${d.slice(2)}` : d;
    } else if (el.id === "cc-csc") {
      el.value = el.value.replace(/\D/g, "").slice(0, el.maxLength > 0 ? el.maxLength : 4);
    }
    // A field already marked wrong is re-checked as it is corrected.
    if (FIELDS.includes(el.id) && el.getAttribute("aria-invalid") === "true") {
      show(el.id, check(el.id));
    }
  });

  document.addEventListener("focusout", (ev) => {
    const el = ev.target;
    if (el instanceof HTMLInputElement && FIELDS.includes(el.id) && el.value) {
      show(el.id, check(el.id));
    }
  });

  // The sandbox's test wallet buttons (type="button"): the form's hidden "wallet" field names
  // the wallet and the form is submitted without a submitter, so the pay event gets the
  // wallet and no card fields. A real submit (the Pay button, Enter) clears it: a card payment.
  document.addEventListener("click", (ev) => {
    const button = ev.target instanceof Element ? ev.target.closest("[data-wallet]") : null;
    const wallet = document.getElementById("wallet");
    if (!button || !wallet || !form() || button.disabled) return;
    wallet.value = button.dataset.wallet;
    form().requestSubmit();
  });

  // Capture phase on the document runs before React's listeners on its root: a form with
  // errors never reaches the pay event.
  document.addEventListener(
    "submit",
    (ev) => {
      if (ev.target !== form()) return;
      const wallet = document.getElementById("wallet");
      if (wallet && ev.submitter) wallet.value = "";
      // A wallet hands over a card: only the e-mail is the customer's to type.
      const fields = wallet && wallet.value ? ["email"] : FIELDS;
      let first = null;
      for (const id of fields) {
        if (!document.getElementById(id)) continue;
        const problem = check(id);
        show(id, problem);
        if (problem && !first) first = id;
      }
      const summary = document.getElementById("form-check");
      if (summary) summary.textContent = first ? msg("errForm") : "";
      if (first) {
        ev.preventDefault();
        ev.stopPropagation();
        document.getElementById(first).focus();
      }
    },
    true,
  );
})();
