/* Civic311 service worker: this file only wires events; the work is in named functions.
 * Area scripts are pulled in with importScripts (classic worker), each adding its own
 * event listeners: keep one importScripts line per area at the top of this file. */
importScripts("/sw-push.js");

self.addEventListener("install", (event) => {
  event.waitUntil(self.skipWaiting());
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});
