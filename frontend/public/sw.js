// Meridian's service worker: installable app, app shell offline. Served at /sw.js (scope /) by
// the frontend Django app. The API, the admin and the probes are never cached: a figure seen
// offline could be stale, so offline the app shows its own "can't reach the server" states.
const CACHE = "meridian-shell-v1";
const OFFLINE = "/static/app/offline.html";
const SHELL = [
  "/",
  OFFLINE,
  "/static/app/offline.css",
  "/static/app/manifest.webmanifest",
  "/static/app/icons/icon-192.png",
];
const NEVER = /^\/(api|admin|healthz|readyz)(\/|$)/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || NEVER.test(url.pathname)) {
    return; // the network, untouched
  }
  if (request.mode === "navigate") {
    // Network first: a deploy shows at once. Every client route is the same shell.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            caches.open(CACHE).then((cache) => cache.put("/", copy));
          }
          return response;
        })
        .catch(() => caches.match("/").then((shell) => shell || caches.match(OFFLINE))),
    );
    return;
  }
  if (url.pathname.startsWith("/static/app/")) {
    // Built files carry a content hash in their name: a cached copy is always right.
    event.respondWith(
      caches.match(request).then(
        (hit) =>
          hit ||
          fetch(request).then((response) => {
            if (response.ok) {
              const copy = response.clone();
              caches.open(CACHE).then((cache) => cache.put(request, copy));
            }
            return response;
          }),
      ),
    );
  }
});
