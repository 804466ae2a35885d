/* Civic311 outbox: reports wait in IndexedDB until the server has confirmed them.
 *
 * A classic script (no modules) so that the page (<script defer>) and the service
 * worker (importScripts) share one implementation, exposed as self.Civic311Outbox.
 * One flush() sends waiting items with their Idempotency-Key; a Web Lock keeps the
 * page and the worker from sending the same item at the same time. An item leaves
 * the outbox only after a 2xx; a 4xx (not 429) needs the resident's attention;
 * network errors, 5xx and 429 are retried later with backoff. Every send has a time
 * limit (AbortController): a connection that never answers counts as a network error,
 * so the lock is never held for longer than one send's limit per item.
 *
 * Beside each report (fields and photos) the outbox keeps a small index entry (state,
 * attempts, next try, error, photo count), written in the same transaction. The status
 * line counts through the index's keys and reads only the first few entries, the timer
 * reads the soonest one, and a pass reads only the entries that are due: saving costs
 * the same whether 0 or 600 reports are waiting, and a report's photos are read only to
 * send or edit it. */
(function (scope) {
  "use strict";

  const DB_NAME = "civic311";
  const DB_VERSION = 2;
  const OUTBOX = "outbox";
  const INDEX = "outbox_index";
  const SENT = "sent";
  const META = "meta";
  const LOCK_NAME = "civic311-outbox";
  const SYNC_TAG = "civic311-outbox";
  const CHANNEL_NAME = "civic311-outbox";
  const SUBMIT_URL = "/api/v1/requests";
  const BASE_DELAY_MS = 2000;
  const MAX_DELAY_MS = 5 * 60 * 1000;
  const SENT_KEEP = 50;
  const DEFAULT_SEND_TIMEOUT_MS = 30000;
  /* A slow but working uplink still gets its photos through: 20 kB/s on top of the limit. */
  const MIN_UPLOAD_BYTES_PER_MS = 20;
  const STATE_WAITING = "waiting";
  const STATE_ATTENTION = "attention";
  const BY_STATE_SAVED = "by_state_saved";
  const BY_STATE_NEXT = "by_state_next";
  const SUMMARY_ROWS = 20;

  let dbPromise = null;
  let channel = null;
  let sendTimeoutMs =
    (scope.SHELL_MANIFEST && scope.SHELL_MANIFEST.outboxSendTimeoutMs) || DEFAULT_SEND_TIMEOUT_MS;

  /** Page-side settings from the server (the worker reads them from SHELL_MANIFEST). */
  function configure(options) {
    const timeout = Number(options && options.sendTimeoutMs);
    if (timeout > 0) {
      sendTimeoutMs = timeout;
    }
  }

  /** How long one send may take: the configured limit plus time to upload its photos. */
  function sendTimeout(item) {
    const bytes = (item.photos || []).reduce(
      (sum, photo) => sum + ((photo.data && photo.data.byteLength) || 0),
      0,
    );
    return sendTimeoutMs + Math.round(bytes / MIN_UPLOAD_BYTES_PER_MS);
  }

  /** Open (and on first use create) the database shared by page and worker. */
  function openDb() {
    if (dbPromise) {
      return dbPromise;
    }
    dbPromise = new Promise((resolve, reject) => {
      const request = scope.indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains(OUTBOX)) {
          db.createObjectStore(OUTBOX, { keyPath: "client_uuid" });
        }
        if (!db.objectStoreNames.contains(INDEX)) {
          const index = db.createObjectStore(INDEX, { keyPath: "client_uuid" });
          index.createIndex(BY_STATE_SAVED, ["state", "saved_at"]);
          index.createIndex(BY_STATE_NEXT, ["state", "next_attempt_at"]);
          indexExistingReports(request.transaction);
        }
        if (!db.objectStoreNames.contains(SENT)) {
          db.createObjectStore(SENT, { keyPath: "client_uuid" });
        }
        if (!db.objectStoreNames.contains(META)) {
          db.createObjectStore(META);
        }
      };
      request.onsuccess = () => {
        const db = request.result;
        db.onversionchange = () => {
          db.close();
          dbPromise = null;
        };
        resolve(db);
      };
      request.onerror = () => {
        dbPromise = null;
        reject(request.error);
      };
    });
    return dbPromise;
  }

  /** What the status line, the timer and a pass need to know of a report: no photos. */
  function indexEntry(item) {
    return {
      client_uuid: item.client_uuid,
      state: item.state,
      attempts: item.attempts || 0,
      next_attempt_at: item.next_attempt_at || 0,
      error: item.error || null,
      saved_at: item.saved_at,
      service_name: item.service_name || "",
      photo_count: (item.photos || []).length,
    };
  }

  /** On upgrade: index the reports an earlier version left waiting (one at a time). */
  function indexExistingReports(upgrade) {
    const index = upgrade.objectStore(INDEX);
    const cursor = upgrade.objectStore(OUTBOX).openCursor();
    cursor.onsuccess = () => {
      const current = cursor.result;
      if (current) {
        index.put(indexEntry(current.value));
        current.continue();
      }
    };
  }

  /** Write a report and its index entry in one transaction's stores. */
  function putReport(stores, item) {
    stores[OUTBOX].put(item);
    stores[INDEX].put(indexEntry(item));
  }

  /** Turn an IDBRequest into a promise of its result. */
  function done(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  /** Run `work(stores)` in one transaction; resolve with its result once committed. */
  async function transact(names, mode, work) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(names, mode);
      const stores = {};
      names.forEach((name) => {
        stores[name] = tx.objectStore(name);
      });
      let result;
      Promise.resolve(work(stores)).then((value) => {
        result = value;
      }, reject);
      tx.oncomplete = () => resolve(result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
    });
  }

  /** A value from the key-value store (device token, draft). */
  function getMeta(key) {
    return transact([META], "readonly", (s) => done(s[META].get(key)));
  }

  /** Store a value in the key-value store. */
  function setMeta(key, value) {
    return transact([META], "readwrite", (s) => {
      s[META].put(value, key);
    });
  }

  /** Remove a value from the key-value store. */
  function deleteMeta(key) {
    return transact([META], "readwrite", (s) => {
      s[META].delete(key);
    });
  }

  /** Every item in the outbox with its photos, oldest first (costly: prefer listIndex). */
  async function listOutbox() {
    const items = await transact([OUTBOX], "readonly", (s) => done(s[OUTBOX].getAll()));
    return items.sort((a, b) => a.saved_at - b.saved_at);
  }

  /** The index entry of every item in the outbox (no photos, no fields), oldest first. */
  async function listIndex() {
    const entries = await transact([INDEX], "readonly", (s) => done(s[INDEX].getAll()));
    return entries.sort((a, b) => a.saved_at - b.saved_at);
  }

  /** Key range over one state of a compound [state, number] index. */
  function inState(state, upTo) {
    const top = upTo === undefined ? Number.POSITIVE_INFINITY : upTo;
    return IDBKeyRange.bound([state, Number.NEGATIVE_INFINITY], [state, top]);
  }

  /** Waiting entries, oldest first: all of them, or (not forced) only those due now. */
  function waitingEntries(force) {
    return transact([INDEX], "readonly", async (s) => {
      if (force) {
        return done(s[INDEX].index(BY_STATE_SAVED).getAll(inState(STATE_WAITING)));
      }
      const byNext = s[INDEX].index(BY_STATE_NEXT);
      const due = await done(byNext.getAll(inState(STATE_WAITING, Date.now())));
      return due.sort((a, b) => a.saved_at - b.saved_at);
    });
  }

  /** One outbox item by its client_uuid (or undefined). */
  function getReport(clientUuid) {
    return transact([OUTBOX], "readonly", (s) => done(s[OUTBOX].get(clientUuid)));
  }

  /** Reports the server has confirmed, newest first. */
  async function listSent() {
    const items = await transact([SENT], "readonly", (s) => done(s[SENT].getAll()));
    return items.sort((a, b) => b.sent_at - a.sent_at);
  }

  /** Tell every open page (and the worker) that the outbox changed. */
  function announce(detail) {
    const message = Object.assign({ type: "outbox-changed" }, detail || {});
    try {
      if (!channel && "BroadcastChannel" in scope) {
        channel = new scope.BroadcastChannel(CHANNEL_NAME);
      }
      if (channel) {
        channel.postMessage(message);
        return;
      }
    } catch (error) {
      channel = null;
    }
    if (typeof scope.dispatchEvent === "function" && typeof CustomEvent === "function") {
      scope.dispatchEvent(new CustomEvent("civic311-outbox", { detail: message }));
    }
  }

  /** Save a report before any network attempt. `report` = {client_uuid, fields, photos, ...}. */
  async function addReport(report) {
    const item = Object.assign({}, report, {
      state: STATE_WAITING,
      attempts: 0,
      next_attempt_at: 0,
      error: null,
      saved_at: report.saved_at || Date.now(),
    });
    await transact([OUTBOX, INDEX], "readwrite", (s) => putReport(s, item));
    announce({ client_uuid: item.client_uuid });
    return item;
  }

  /** Replace an item (a corrected report keeps its client_uuid and is retried at once). */
  async function updateReport(item) {
    await transact([OUTBOX, INDEX], "readwrite", (s) => putReport(s, item));
    announce({ client_uuid: item.client_uuid });
    return item;
  }

  /** Remove an item the resident chose to discard. */
  async function discardReport(clientUuid) {
    await transact([OUTBOX, INDEX], "readwrite", (s) => {
      s[OUTBOX].delete(clientUuid);
      s[INDEX].delete(clientUuid);
    });
    announce({ client_uuid: clientUuid });
  }

  /** Exponential backoff with jitter: 2 s, 4 s, 8 s … capped at 5 minutes. */
  function backoffDelay(attempts) {
    const base = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * Math.pow(2, Math.max(0, attempts - 1)));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** Seconds (or an HTTP date) from Retry-After as milliseconds; 60 s when absent. */
  function retryAfterMs(header) {
    if (!header) {
      return 60000;
    }
    const seconds = Number(header);
    if (!Number.isNaN(seconds)) {
      return Math.max(1000, seconds * 1000);
    }
    const when = Date.parse(header);
    return Number.isNaN(when) ? 60000 : Math.max(1000, when - Date.now());
  }

  /** The multipart body the server expects: the form's fields, then each photo. */
  function buildForm(item) {
    const form = new FormData();
    (item.fields || []).forEach(([name, value]) => form.append(name, value));
    if (item.captured_at) {
      form.append("captured_at", item.captured_at);
    }
    (item.photos || []).forEach((photo, index) => {
      const blob = new Blob([photo.data], { type: photo.type || "image/jpeg" });
      form.append("photos", blob, `photo-${index + 1}.jpg`);
    });
    return form;
  }

  /** Move a confirmed item from the outbox to the sent list (one transaction). */
  async function markSent(item, data) {
    const record = {
      client_uuid: item.client_uuid,
      public_id: data ? data.id : null,
      url: data ? data.url : null,
      service_name: data ? data.service_name : item.service_name || "",
      status_label: data ? data.status_label : "",
      sent_at: Date.now(),
      saved_at: item.saved_at,
    };
    await transact([OUTBOX, INDEX, SENT], "readwrite", async (s) => {
      s[OUTBOX].delete(item.client_uuid);
      s[INDEX].delete(item.client_uuid);
      s[SENT].put(record);
      const keys = await done(s[SENT].getAll());
      keys
        .sort((a, b) => b.sent_at - a.sent_at)
        .slice(SENT_KEEP)
        .forEach((old) => s[SENT].delete(old.client_uuid));
    });
    return record;
  }

  /** A network failure (no answer, or no answer in time): back off and try again later. */
  async function retryLater(item) {
    item.attempts = (item.attempts || 0) + 1;
    item.next_attempt_at = Date.now() + backoffDelay(item.attempts);
    await updateReport(item);
  }

  /** Send one item within its time limit: sent, attention, retry, throttled or offline. */
  async function sendOne(item) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), sendTimeout(item));
    try {
      return await sendWithin(item, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The send itself; `signal` aborts it (and the reading of its answer) when time is up. */
  async function sendWithin(item, signal) {
    const headers = {
      "Idempotency-Key": item.client_uuid,
      "X-Requested-With": "civic311",
      Accept: "application/json",
    };
    const token = await getMeta("device_token");
    if (token) {
      headers["X-Device-Token"] = token;
    }
    let response;
    try {
      response = await fetch(SUBMIT_URL, {
        method: "POST",
        body: buildForm(item),
        headers,
        credentials: "same-origin",
        cache: "no-store",
        signal,
      });
    } catch (error) {
      await retryLater(item);
      return { kind: "offline" };
    }
    const newToken = response.headers.get("X-Device-Token");
    if (newToken) {
      await setMeta("device_token", newToken);
    }
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      if (signal.aborted) {
        await retryLater(item);
        return { kind: "offline" };
      }
      body = null;
    }
    if (response.ok) {
      const record = await markSent(item, body && body.data);
      announce({ client_uuid: item.client_uuid, sent: record });
      return { kind: "sent", record };
    }
    if (response.status === 429) {
      item.next_attempt_at = Date.now() + retryAfterMs(response.headers.get("Retry-After"));
      await updateReport(item);
      return { kind: "throttled" };
    }
    if (response.status >= 400 && response.status < 500) {
      const error = (body && body.error) || {};
      item.state = STATE_ATTENTION;
      item.error = {
        status: response.status,
        message: error.message || String(response.status),
        field: (error.details && error.details.field) || null,
        reason: (error.details && error.details.reason) || null,
      };
      await updateReport(item);
      return { kind: "attention" };
    }
    await retryLater(item);
    return { kind: "retry" };
  }

  /** One pass over the waiting items; call only while holding the lock. */
  async function flushLocked(options) {
    const force = Boolean(options && options.force);
    const tally = { sent: 0, attention: 0, retry: 0 };
    if (scope.navigator && scope.navigator.onLine === false) {
      return Object.assign(tally, { offline: true });
    }
    const entries = await waitingEntries(force);
    for (const item of entries) {
      const fresh = await getReport(item.client_uuid);
      if (!fresh || fresh.state !== STATE_WAITING) {
        continue;
      }
      const outcome = await sendOne(fresh);
      if (outcome.kind === "sent") {
        tally.sent += 1;
      } else if (outcome.kind === "attention") {
        tally.attention += 1;
      } else {
        tally.retry += 1;
        if (outcome.kind === "offline" || outcome.kind === "throttled") {
          break;
        }
      }
    }
    return tally;
  }

  /** Send what is waiting, once, under the shared Web Lock (page and worker alike). */
  async function flush(options) {
    const locks = scope.navigator && scope.navigator.locks;
    if (locks && typeof locks.request === "function") {
      return locks.request(LOCK_NAME, () => flushLocked(options));
    }
    return flushLocked(options);
  }

  /** Ask the service worker to flush when the connection is back (where supported). */
  async function requestBackgroundSync() {
    try {
      if (!("serviceWorker" in scope.navigator)) {
        return false;
      }
      const registration = await scope.navigator.serviceWorker.getRegistration();
      if (!registration || !registration.sync) {
        return false;
      }
      await registration.sync.register(SYNC_TAG);
      return true;
    } catch (error) {
      return false;
    }
  }

  /** For the status line: how many reports wait and need attention, the first few of
   * each (index entries: photo_count, no photos or fields), and the soonest retry. */
  async function summary() {
    return transact([INDEX], "readonly", async (s) => {
      const bySaved = s[INDEX].index(BY_STATE_SAVED);
      const [waitingCount, attentionCount, waiting, attention, soonest] = await Promise.all([
        done(bySaved.count(inState(STATE_WAITING))),
        done(bySaved.count(inState(STATE_ATTENTION))),
        done(bySaved.getAll(inState(STATE_WAITING), SUMMARY_ROWS)),
        done(bySaved.getAll(inState(STATE_ATTENTION), SUMMARY_ROWS)),
        done(s[INDEX].index(BY_STATE_NEXT).getAll(inState(STATE_WAITING), 1)),
      ]);
      return {
        waitingCount,
        attentionCount,
        waiting,
        attention,
        nextAttemptAt: soonest.length ? soonest[0].next_attempt_at || 0 : null,
      };
    });
  }

  /** In the worker: a sync event flushes, and asks to be retried while items wait. */
  async function flushForSync(lastChance) {
    await flush({ force: true });
    const state = await summary();
    if (state.waitingCount && !lastChance) {
      throw new Error("reports still waiting; retry later");
    }
  }

  scope.Civic311Outbox = {
    SYNC_TAG,
    CHANNEL_NAME,
    STATE_WAITING,
    STATE_ATTENTION,
    configure,
    openDb,
    getMeta,
    setMeta,
    deleteMeta,
    addReport,
    updateReport,
    discardReport,
    getReport,
    listOutbox,
    listIndex,
    listSent,
    summary,
    flush,
    backoffDelay,
    requestBackgroundSync,
  };

  if (
    typeof ServiceWorkerGlobalScope !== "undefined" &&
    scope instanceof ServiceWorkerGlobalScope
  ) {
    scope.addEventListener("sync", (event) => {
      if (event.tag === SYNC_TAG) {
        event.waitUntil(flushForSync(event.lastChance));
      }
    });
    flush().catch(() => undefined);
  }
})(self);
