/*
 * Registers the PayPortal service worker (/sw.js, scope "/").
 * Load from the document head, e.g. <script src="/register-sw.js" defer></script>.
 * Failures are reported with console.warn only (never console.error).
 */
(function () {
  "use strict";

  var supported = false;
  try {
    // Accessing navigator.serviceWorker can throw (e.g. Firefox with cookies
    // blocked); it is also absent on insecure (non-HTTPS, non-localhost) origins.
    supported = "serviceWorker" in navigator && !!navigator.serviceWorker;
  } catch (_err) {
    supported = false;
  }
  if (!supported) return;

  function register() {
    try {
      navigator.serviceWorker
        .register("/sw.js", { scope: "/" })
        .catch(function (err) {
          console.warn("PayPortal: service worker registration failed:", err);
        });
    } catch (err) {
      console.warn("PayPortal: service worker registration failed:", err);
    }
  }

  // The script may run after the load event (e.g. when injected on the client).
  if (document.readyState === "complete") {
    register();
  } else {
    window.addEventListener("load", register, { once: true });
  }
})();
