/* Civic311 app shell, imported by sw.js: caches and fetch strategies as named functions.
 *
 * Reads self.SHELL_MANIFEST, which the server writes at the top of /sw.js: the shell
 * version (a hash of everything precached), the precache URLs (static ones carry their
 * content hash as ?v=), the files kept after the first visit ("later": the map library
 * and the help pages, fetched the first time the worker serves a page, so the phone's
 * first load stays light) and the map tile URL template. Everything lives in one namespace,
 * self.civicShell, because importScripts shares one global scope between areas. */

self.civicShell = (() => {
  const SHELL = self.SHELL_MANIFEST || { version: "dev", precache: [], later: [], tileUrl: "" };
  const CACHE_PREFIX = "civic311-";
  const SHELL_CACHE = `${CACHE_PREFIX}shell-${SHELL.version}`;
  const PAGES_CACHE = `${CACHE_PREFIX}pages-v1`;
  const API_CACHE = `${CACHE_PREFIX}api-v1`;
  const TILES_CACHE = `${CACHE_PREFIX}tiles-v1`;
  const CURRENT_CACHES = [SHELL_CACHE, PAGES_CACHE, API_CACHE, TILES_CACHE, `${CACHE_PREFIX}prefs-v1`];
  const OFFLINE_URL = "/offline";
  const MY_REQUESTS_URL = "/my";
  const SIGN_OUT_PATH = "/auth/sign-out";
  const STATIC_PREFIX = "/static/";
  const STRINGS_PREFIX = "/strings/";
  const HASH_PARAM = "v";
  const API_READ_PREFIXES = ["/api/v1/services", "/api/v1/requests", "/api/v1/answers"];
  const MAX_PAGES = 60;
  const MAX_API_RESPONSES = 60;
  const MAX_TILES = 300;
  const RECENT_COPY_MS = 10 * 60 * 1000;
  const TILE_PATTERN = tilePattern(SHELL.tileUrl);
  const FRESH_PAGE_MARK = 'data-page-source="network"';
  const COPY_PAGE_MARK = 'data-page-source="copy"';
  const PREFS_CACHE = `${CACHE_PREFIX}prefs-v1`;
  const LOCALE_KEY = "/__civic311/locale";
  let readerLocale = null;
  let keepingLater = null;

  function isHashed(url) {
    const prefixed = url.pathname.startsWith(STATIC_PREFIX) || url.pathname.startsWith(STRINGS_PREFIX);
    return prefixed && url.searchParams.has(HASH_PARAM);
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  /* The configured tile URL template as a RegExp over absolute URLs ({s} subdomains,
   * {z}/{x}/{y} numbers, {r} retina suffix), or null when no template is set. */
  function tilePattern(template) {
    if (!template) {
      return null;
    }
    const names = [];
    const marked = template.replace(/\{([a-z]+)\}/g, (match, name) => {
      names.push(name);
      return `tileph${names.length - 1}tileph`;
    });
    let source = escapeRegExp(new URL(marked, self.location.origin).href);
    names.forEach((name, index) => {
      const part = { s: "[a-z0-9-]+", z: "-?\\d+", x: "-?\\d+", y: "-?\\d+", r: "(?:@2x)?" }[name];
      source = source.replace(`tileph${index}tileph`, part || "[^/?#]*");
    });
    return new RegExp(`^${source}$`);
  }

  /* A response we may keep: complete, ours, not a redirect, not marked no-store. */
  function isStorable(response) {
    const cacheControl = response.headers.get("Cache-Control") || "";
    return (
      response.ok &&
      response.type === "basic" &&
      !response.redirected &&
      !/no-store/i.test(cacheControl)
    );
  }

  async function trimCache(cache, maxEntries) {
    const keys = await cache.keys();
    const excess = keys.slice(0, Math.max(0, keys.length - maxEntries));
    await Promise.all(excess.map((key) => cache.delete(key)));
  }

  /* Put a copy at the most-recently-used end of a cache capped at maxEntries (0: no cap);
   * when storage is full, the capped cache sheds its older half instead. */
  async function storeCopy(cacheName, request, response, maxEntries) {
    const cache = await caches.open(cacheName);
    await cache.delete(request, { ignoreVary: true });
    try {
      await cache.put(request, response);
    } catch (error) {
      if (maxEntries) {
        await trimCache(cache, Math.floor(maxEntries / 2));
      }
      return;
    }
    if (maxEntries) {
      await trimCache(cache, maxEntries);
    }
  }

  async function matchIn(cacheName, request, options = {}) {
    const cache = await caches.open(cacheName);
    return cache.match(request, { ignoreVary: true, ...options });
  }

  /* A shell URL as a request: hashed files may come from the browser's cache (the page
   * that installed the worker already loaded most of them), the rest are revalidated. */
  function shellRequest(path) {
    const url = new URL(path, self.location.origin);
    return new Request(url, { cache: isHashed(url) ? "default" : "no-cache" });
  }

  /* Install: download the whole app shell into this version's cache, or fail the install.
   * On the phone's first install the page that installs the worker has just loaded the
   * home page as a visitor with no cookie; that copy, still in the browser's cache, is
   * taken instead of downloading the page again (see shellResponses). */
  async function precacheShell() {
    const cache = await caches.open(SHELL_CACHE);
    if (self.registration.active) {
      await cache.addAll(SHELL.precache.map(shellRequest));
      return;
    }
    const responses = await shellResponses(SHELL.precache);
    await Promise.all(responses.map((response, i) => cache.put(SHELL.precache[i], response)));
  }

  function servedAt(response) {
    return Date.parse(response.headers.get("Date") || "") || 0;
  }

  /* Every shell file, unhashed ones as a visitor with no cookie, from the browser's cache
   * when it holds a copy. A copy much older than the newest answer of the same install
   * (both dated by the server's clock, so the phone's clock does not matter) is from an
   * earlier visit and is downloaded again. Fails, as addAll does, on any error. */
  async function shellResponses(paths) {
    const first = await Promise.all(paths.map((path) => fetch(reusableRequest(path))));
    const newest = Math.max(...first.map(servedAt));
    const checked = await Promise.all(
      first.map((response, i) =>
        newest - servedAt(response) < RECENT_COPY_MS || isHashed(new URL(response.url))
          ? response
          : fetch(shellRequest(paths[i])),
      ),
    );
    checked.forEach((response, i) => {
      if (!response.ok) {
        throw new TypeError(`shell file ${paths[i]}: ${response.status}`);
      }
    });
    return checked;
  }

  function reusableRequest(path) {
    const url = new URL(path, self.location.origin);
    if (isHashed(url)) {
      return shellRequest(path);
    }
    return new Request(url, { cache: "force-cache", credentials: "omit" });
  }

  /* After the first visit (the worker serves a page): keep the files left out of the
   * install, those not kept yet. Once per worker start; tried again after a failure. */
  function keepLaterFiles() {
    if (!keepingLater) {
      keepingLater = addMissing(SHELL.later || []).catch(() => {
        keepingLater = null;
      });
    }
    return keepingLater;
  }

  async function addMissing(paths) {
    const cache = await caches.open(SHELL_CACHE);
    const missing = [];
    for (const path of paths) {
      if (!(await cache.match(path, { ignoreVary: true }))) {
        missing.push(path);
      }
    }
    await cache.addAll(missing.map(shellRequest));
  }

  /* Activate: drop caches of earlier versions, then control open pages at once. */
  async function activateShell() {
    const names = await caches.keys();
    const stale = names.filter((n) => n.startsWith(CACHE_PREFIX) && !CURRENT_CACHES.includes(n));
    await Promise.all(stale.map((name) => caches.delete(name)));
    if (self.registration.navigationPreload) {
      await self.registration.navigationPreload.enable();
    }
    await self.clients.claim();
  }

  /* Signing out: forget this person's saved pages and API answers on this device. */
  async function forgetPersonalCopies() {
    await caches.delete(PAGES_CACHE);
    await caches.delete(API_CACHE);
    const shell = await caches.open(SHELL_CACHE);
    await shell.delete(MY_REQUESTS_URL, { ignoreVary: true, ignoreSearch: true });
  }

  /* A saved page, marked so that it shows its "copy saved on …" notice (the time of the
   * copy is in the page itself, rendered by the server when the copy was fetched). */
  async function markAsCopy(response) {
    const type = response.headers.get("Content-Type") || "";
    if (!type.includes("text/html")) {
      return response;
    }
    const html = await response.text();
    const headers = new Headers(response.headers);
    headers.delete("Content-Length");
    headers.delete("Content-Encoding");
    return new Response(html.replace(FRESH_PAGE_MARK, COPY_PAGE_MARK), {
      status: response.status,
      statusText: response.statusText,
      headers,
    });
  }

  /* Network first; a copy is kept, and served when the network fails or the server errs
   * (through `asCopy`, which pages use to say that it is a copy). */
  async function networkFirst(event, cacheName, maxEntries, networkResponse, asCopy) {
    const { request } = event;
    const response = await (networkResponse || fetch(request));
    if (response.status >= 500) {
      const saved = await caches.match(request, { ignoreVary: true });
      if (saved) {
        return asCopy ? asCopy(saved) : saved;
      }
    }
    if (isStorable(response)) {
      event.waitUntil(storeCopy(cacheName, request, response.clone(), maxEntries));
    }
    return response;
  }

  /* The language the reader's pages are in, as the last page told us (kept across restarts). */
  async function rememberLocale(locale) {
    if (typeof locale !== "string" || !/^[a-z]{2,3}$/.test(locale)) {
      return;
    }
    readerLocale = locale;
    const cache = await caches.open(PREFS_CACHE);
    await cache.put(LOCALE_KEY, new Response(locale));
  }

  async function currentLocale() {
    if (!readerLocale) {
      const saved = await matchIn(PREFS_CACHE, LOCALE_KEY);
      readerLocale = saved ? await saved.text() : (self.navigator.language || "en").slice(0, 2);
    }
    return readerLocale;
  }

  /* A text of the worker's own in the reader's language (English when there is none). */
  function text(locale, key) {
    const all = self.CIVIC_STRINGS || {};
    return (all[locale] && all[locale][key]) || (all.en && all.en[key]) || "";
  }

  /* The offline page in the reader's language; a minimal one if none was saved. */
  async function offlinePage() {
    const locale = await currentLocale();
    const saved =
      (await matchIn(SHELL_CACHE, `${OFFLINE_URL}?locale=${locale}`)) ||
      (await matchIn(SHELL_CACHE, OFFLINE_URL, { ignoreSearch: true }));
    if (saved) {
      return saved;
    }
    const body = `<!doctype html><html lang="${locale}"><meta charset="utf-8"><title>${text(locale, "offlineTitle")}</title><h1>${text(locale, "offlineTitle")}</h1><p>${text(locale, "offlineBody")}</p></html>`;
    return new Response(body, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  }

  /* Pages: network first (with navigation preload), else the last copy (marked as a copy),
   * else the offline page. */
  async function pageStrategy(event) {
    try {
      const preloaded = await event.preloadResponse;
      return await networkFirst(event, PAGES_CACHE, MAX_PAGES, preloaded, markAsCopy);
    } catch (error) {
      const saved = await caches.match(event.request, { ignoreVary: true });
      if (saved) {
        return markAsCopy(saved);
      }
      return await offlinePage();
    }
  }

  /* API reads: network first, else the last answer (the page sees a normal response). */
  async function apiReadStrategy(event) {
    try {
      return await networkFirst(event, API_CACHE, MAX_API_RESPONSES);
    } catch (error) {
      const saved = await matchIn(API_CACHE, event.request);
      if (saved) {
        return saved;
      }
      throw error;
    }
  }

  /* Hashed static files never change under their URL: cache first. */
  async function hashedStaticStrategy(event) {
    const saved = await caches.match(event.request, { ignoreVary: true });
    if (saved) {
      return saved;
    }
    try {
      const response = await fetch(event.request);
      if (isStorable(response)) {
        event.waitUntil(storeCopy(SHELL_CACHE, event.request, response.clone(), 0));
      }
      return response;
    } catch (error) {
      const other = await matchIn(SHELL_CACHE, event.request, { ignoreSearch: true });
      if (other) {
        return other;
      }
      throw error;
    }
  }

  /* Unhashed shell files (Leaflet's CSS images, the manifest): network first so they
   * never go stale; a copy is kept, and it (or the precached hashed copy) answers offline. */
  async function shellFileStrategy(event) {
    try {
      const response = await fetch(event.request);
      if (isStorable(response)) {
        event.waitUntil(storeCopy(SHELL_CACHE, event.request, response.clone(), 0));
      }
      return response;
    } catch (error) {
      const saved = await matchIn(SHELL_CACHE, event.request, { ignoreSearch: true });
      if (saved) {
        return saved;
      }
      throw error;
    }
  }

  /* Map tiles: only tiles actually viewed, in their own LRU cache; cross-origin tiles may
   * be opaque (no status to check), which we keep too. Never prefetched. */
  async function tileStrategy(event) {
    const { request } = event;
    const saved = await matchIn(TILES_CACHE, request);
    if (saved) {
      event.waitUntil(storeCopy(TILES_CACHE, request, saved.clone(), MAX_TILES));
      return saved;
    }
    const response = await fetch(request);
    if (response.ok || response.type === "opaque") {
      event.waitUntil(storeCopy(TILES_CACHE, request, response.clone(), MAX_TILES));
    }
    return response;
  }

  function isPrecachedPath(url) {
    return SHELL.precache.includes(url.pathname);
  }

  /* Which strategy answers a request, or null to let the browser handle it. */
  function chooseStrategy(request) {
    if (request.method !== "GET") {
      return null;
    }
    if (TILE_PATTERN && TILE_PATTERN.test(request.url)) {
      return tileStrategy;
    }
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) {
      return null;
    }
    if (request.mode === "navigate") {
      return pageStrategy;
    }
    if (API_READ_PREFIXES.some((prefix) => url.pathname.startsWith(prefix))) {
      return apiReadStrategy;
    }
    if (isHashed(url)) {
      return hashedStaticStrategy;
    }
    if (url.pathname.startsWith(STATIC_PREFIX) || isPrecachedPath(url)) {
      return shellFileStrategy;
    }
    return null;
  }

  function isSignOut(request) {
    return request.method === "POST" && new URL(request.url).pathname === SIGN_OUT_PATH;
  }

  return Object.freeze({
    VERSION: SHELL.version,
    precacheShell,
    keepLaterFiles,
    activateShell,
    chooseStrategy,
    isSignOut,
    forgetPersonalCopies,
    rememberLocale,
  });
})();
