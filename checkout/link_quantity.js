// A payment link's quantity: the order's total follows the quantity field as the customer types,
// with no round trip to the server. The server prepared every total (one per quantity, formatted
// by Babel in the customer's locale: data-totals on the form) and the texts to fill in; this
// script only picks one. The server computes the amount again when the customer continues and
// never takes a total from the browser.
//
// Texts are written into the text nodes React rendered (nodeValue), so React keeps updating the
// same nodes. When React re-renders the form with new data (another language), the totals are
// picked again for the quantity in the field.
(() => {
  if (window.__ppLinkQuantity) return;
  window.__ppLinkQuantity = true;

  const setText = (el, text) => {
    const node = el.firstChild;
    if (el.childNodes.length === 1 && node.nodeType === Node.TEXT_NODE) node.nodeValue = text;
    else el.textContent = text;
  };

  function sync() {
    const form = document.getElementById("link-form");
    const input = document.getElementById("quantity");
    if (!form || !input) return;
    let totals;
    try {
      totals = JSON.parse(form.dataset.totals || "[]");
    } catch {
      return;
    }
    const error = document.getElementById("quantity-error");
    const quantity = Number(input.value);
    if (!Number.isInteger(quantity) || quantity < 1 || quantity > totals.length) {
      // Keep the last total shown; say what is wrong while the field is not empty.
      if (error) error.textContent = input.value === "" ? "" : form.dataset.errQuantity || "";
      if (input.value !== "") input.setAttribute("aria-invalid", "true");
      return;
    }
    if (error) error.textContent = "";
    input.removeAttribute("aria-invalid");
    const total = totals[quantity - 1];
    const label = (form.dataset.quantityText || "").replace("{n}", String(quantity));
    document.querySelectorAll("[data-link-total]").forEach((el) => setText(el, total));
    document.querySelectorAll("[data-link-qty]").forEach((el) => setText(el, label));
    const button = form.querySelector("button[type=submit]");
    const text = form.dataset.buttonText || "";
    if (button && text) setText(button, text.replace("{amount}", total));
  }

  document.addEventListener("input", (ev) => {
    if (ev.target instanceof HTMLInputElement && ev.target.id === "quantity") sync();
  });
  new MutationObserver(sync).observe(document, {
    subtree: true,
    attributes: true,
    attributeFilter: ["data-totals"],
  });
  sync();
})();
