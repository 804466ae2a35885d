/* Civic311 service worker: this file only wires events; the work is in named functions.
 * Area scripts are pulled in with importScripts (classic worker), each adding its own
 * event listeners: keep one importScripts line per area at the top of this file. */
importScripts("/sw-shell.js");
importScripts("/sw-push.js");
// By its hashed URL (written in the generated first line), which the page's own
// <script> tag already put in the browser's cache: one download for both.
importScripts(self.SHELL_MANIFEST.outboxCore);

self.addEventListener("install", (event) => {
  event.waitUntil(self.civicShell.precacheShell());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.civicShell.activateShell());
});

self.addEventListener("fetch", (event) => {
  if (event.request.mode === "navigate") {
    event.waitUntil(self.civicShell.keepLaterFiles());
  }
  if (self.civicShell.isSignOut(event.request)) {
    event.waitUntil(self.civicShell.forgetPersonalCopies());
    return;
  }
  const strategy = self.civicShell.chooseStrategy(event.request);
  if (strategy) {
    event.respondWith(strategy(event));
  }
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "SKIP_WAITING") {
    event.waitUntil(self.skipWaiting());
  }
  if (event.data && event.data.type === "LOCALE") {
    event.waitUntil(self.civicShell.rememberLocale(event.data.locale));
  }
});
