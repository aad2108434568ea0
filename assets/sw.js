/*
 * PayPortal service worker (served from /sw.js, scope "/").
 *
 * Deliberately conservative: this is a payments portal, so the worker never
 * caches pages, API responses or anything user-specific. It only:
 *   - pre-caches the offline page, logo and icons on install;
 *   - serves /offline.html when a page navigation fails (network first);
 *   - serves a few same-origin static files stale-while-revalidate.
 * Every other request is left alone (no respondWith), so the browser handles
 * it exactly as if there were no service worker.
 *
 * When you change offline.html, the logo or the icons, bump VERSION so that
 * clients re-fetch the pre-cache and old caches are deleted.
 */
"use strict";

const VERSION = "v1";
const CACHE_PREFIX = "payportal-";
const PRECACHE = CACHE_PREFIX + VERSION; // "payportal-v1"
const RUNTIME = CACHE_PREFIX + "runtime-" + VERSION; // "payportal-runtime-v1"
const RUNTIME_MAX_ENTRIES = 150;

const OFFLINE_URL = "/offline.html";

const PRECACHE_URLS = [
  OFFLINE_URL,
  "/logo.svg",
  "/favicon.svg",
  "/favicon.ico",
  "/icons/icon-192.png",
  "/icons/icon-512.png",
  "/icons/icon-maskable-192.png",
  "/icons/icon-maskable-512.png",
];

// Reflex backend endpoints and the API: never intercepted, never cached.
const BYPASS_PREFIXES = [
  "/_event", // Reflex state websocket (socket.io, incl. polling fallback)
  "/_upload",
  "/api",
  "/ping",
  "/_health",
  "/auth-codespace",
  "/_all_routes",
];

function matchesPrefix(pathname, prefix) {
  return pathname === prefix || pathname.startsWith(prefix + "/");
}

function isBypassed(pathname) {
  return BYPASS_PREFIXES.some((prefix) => matchesPrefix(pathname, prefix));
}

function isStaticAsset(pathname) {
  return (
    pathname.startsWith("/icons/") ||
    pathname === "/logo.svg" ||
    /^\/favicon\.[A-Za-z0-9]+$/.test(pathname) ||
    pathname.startsWith("/_next/static/") ||
    pathname.startsWith("/assets/") // Reflex/Vite hashed build output
  );
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(PRECACHE);
      // cache: "reload" bypasses the HTTP cache so a new VERSION gets fresh files.
      await cache.addAll(
        PRECACHE_URLS.map((url) => new Request(url, { cache: "reload" }))
      );
      await self.skipWaiting();
    })()
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const keep = new Set([PRECACHE, RUNTIME]);
      const names = await caches.keys();
      await Promise.all(
        names
          .filter((name) => name.startsWith(CACHE_PREFIX) && !keep.has(name))
          .map((name) => caches.delete(name))
      );
      await self.clients.claim();
    })()
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;

  // Only GET; POST/PUT/etc. (forms, uploads, API calls) go straight through.
  if (request.method !== "GET") return;

  let url;
  try {
    url = new URL(request.url);
  } catch (_err) {
    return;
  }

  // Non-http(s) schemes (ws:, wss:, chrome-extension:, data:, ...).
  if (url.protocol !== "http:" && url.protocol !== "https:") return;
  // Cross-origin requests (Stripe, Plaid, CDNs, a separate backend origin).
  if (url.origin !== self.location.origin) return;
  // Reflex backend endpoints and the API.
  if (isBypassed(url.pathname)) return;
  // Websocket handshakes.
  if ((request.headers.get("upgrade") || "").toLowerCase() === "websocket") return;
  // Chrome devtools quirk: these requests throw if passed to fetch().
  if (request.cache === "only-if-cached" && request.mode !== "same-origin") return;

  if (request.mode === "navigate") {
    event.respondWith(networkFirstNavigation(request));
    return;
  }

  if (isStaticAsset(url.pathname) && !request.headers.has("range")) {
    event.respondWith(staleWhileRevalidate(event, request));
    return;
  }

  // Everything else: no respondWith, the browser goes to the network.
});

// Pages are never cached (they may carry account data); the network result,
// whatever its status, is returned as-is. Only a network failure (offline,
// DNS, connection reset) falls back to the pre-cached offline page.
async function networkFirstNavigation(request) {
  try {
    return await fetch(request);
  } catch (_err) {
    const cache = await caches.open(PRECACHE);
    const offline = await cache.match(OFFLINE_URL);
    if (offline) return offline;
    return new Response(
      "<!doctype html><title>Offline</title><h1>You're offline</h1>",
      {
        status: 503,
        statusText: "Service Unavailable",
        headers: { "Content-Type": "text/html; charset=utf-8" },
      }
    );
  }
}

async function staleWhileRevalidate(event, request) {
  const runtime = await caches.open(RUNTIME);
  const cached =
    (await runtime.match(request)) ||
    (await (await caches.open(PRECACHE)).match(request));

  const network = fetch(request).then((response) => {
    // Only cache complete, same-origin, successful responses.
    if (response.ok && response.status === 200 && response.type === "basic") {
      const update = putAndTrim(runtime, request, response.clone());
      try {
        event.waitUntil(update);
      } catch (_err) {
        // Event already finished; the update still runs best-effort.
      }
    }
    return response;
  });

  if (cached) {
    // Serve the cached copy now; refresh it in the background.
    event.waitUntil(network.catch(() => undefined));
    return cached;
  }
  return network;
}

async function putAndTrim(cache, request, response) {
  try {
    await cache.put(request, response);
    const keys = await cache.keys();
    // Oldest entries first (insertion order); drop the excess.
    for (let i = 0; i < keys.length - RUNTIME_MAX_ENTRIES; i++) {
      await cache.delete(keys[i]);
    }
  } catch (_err) {
    // Quota exceeded or similar: caching is best-effort.
  }
}
