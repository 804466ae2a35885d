/* The page side of the outbox: when to flush, and a panel that always says what is
 * waiting, what was sent and what needs attention. The storage and sending live in
 * outbox-core.js (loaded first with a classic <script defer>), shared with the worker. */

const PANEL_ID = "outbox";
const MAX_TIMER_MS = 10 * 60 * 1000;
const SENT_SHOWN = 5;

let retryTimer = null;
let flushing = null;
let started = false;
let configured = false;
const listeners = new Set();

/** The shared core (outbox-core.js), set up with the server's settings from the panel;
 * null when the page did not load it. */
export function core() {
  const outbox = self.Civic311Outbox || null;
  if (outbox && !configured) {
    configured = true;
    const element = panel();
    if (element && element.dataset.sendTimeoutMs) {
      outbox.configure({ sendTimeoutMs: Number(element.dataset.sendTimeoutMs) });
    }
  }
  return outbox;
}

/** Replace "{name}" placeholders in a translated string. */
export function fill(template, values) {
  return String(template || "").replace(/\{(\w+)\}/g, (match, key) =>
    key in values ? String(values[key]) : match,
  );
}

/** Call `callback` whenever the outbox changes (here, in another tab or in the worker). */
export function onOutboxChange(callback) {
  listeners.add(callback);
}

function notifyListeners(detail) {
  listeners.forEach((callback) => callback(detail || {}));
}

/** Save a report in IndexedDB (before any network attempt), then try to send it. */
export async function saveReport(report) {
  const outbox = core();
  const item = await outbox.addReport(report);
  await outbox.requestBackgroundSync();
  flushOutbox();
  return item;
}

/** Put a corrected report back in line and send it now. */
export async function resubmitReport(item) {
  const outbox = core();
  Object.assign(item, {
    state: outbox.STATE_WAITING,
    attempts: 0,
    next_attempt_at: 0,
    error: null,
  });
  await outbox.updateReport(item);
  await outbox.requestBackgroundSync();
  flushOutbox({ force: true });
  return item;
}

/** Flush now (one pass at a time from this page), then re-arm the retry timer. */
export function flushOutbox(options) {
  const outbox = core();
  if (!outbox) {
    return Promise.resolve(null);
  }
  if (flushing) {
    return flushing.then(() => flushOutbox(options));
  }
  flushing = outbox
    .flush(options)
    .catch(() => null)
    .then(async (tally) => {
      flushing = null;
      await armRetryTimer();
      await renderPanel();
      return tally;
    });
  return flushing;
}

/** Wake up when the soonest waiting item is due again. */
async function armRetryTimer() {
  clearTimeout(retryTimer);
  const state = await core().summary();
  if (state.nextAttemptAt === null) {
    return;
  }
  const delay = Math.min(MAX_TIMER_MS, Math.max(250, state.nextAttemptAt - Date.now()));
  retryTimer = setTimeout(() => flushOutbox(), delay);
}

function panel() {
  return document.getElementById(PANEL_ID);
}

function plural(element, key, count) {
  const one = element.dataset[`${key}One`];
  const many = element.dataset[`${key}Many`];
  return count === 1 ? one : fill(many, { n: count });
}

let timeFormat = null;

function timeText(ms) {
  if (!timeFormat) {
    timeFormat = new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit" });
  }
  return timeFormat.format(new Date(ms));
}

function serviceName(item) {
  return item.service_name || "";
}

function attentionRow(element, item) {
  const li = document.createElement("li");
  li.className = "outbox-item outbox-item-attention";
  li.dataset.clientUuid = item.client_uuid;
  const title = document.createElement("strong");
  title.textContent = serviceName(item);
  const message = document.createElement("p");
  message.className = "error-message outbox-error";
  message.textContent = item.error ? item.error.message : "";
  const fix = document.createElement("a");
  fix.className = "button button-primary outbox-fix";
  fix.href = `${element.dataset.fixUrl}?edit=${encodeURIComponent(item.client_uuid)}`;
  fix.textContent = element.dataset.fix;
  const discard = document.createElement("button");
  discard.type = "button";
  discard.className = "button outbox-discard";
  discard.textContent = element.dataset.discard;
  discard.addEventListener("click", async () => {
    if (window.confirm(element.dataset.discardConfirm)) {
      await core().discardReport(item.client_uuid);
    }
  });
  li.append(title, message, fix, " ", discard);
  return li;
}

function waitingRow(element, item) {
  const li = document.createElement("li");
  li.className = "outbox-item outbox-item-waiting";
  li.dataset.clientUuid = item.client_uuid;
  const photos = item.photo_count ?? (item.photos || []).length;
  li.textContent = [
    serviceName(item),
    fill(element.dataset.savedAt, { time: timeText(item.saved_at) }),
    photos === 1 ? element.dataset.photoOne : photos ? fill(element.dataset.photos, { n: photos }) : "",
  ]
    .filter(Boolean)
    .join(" · ");
  return li;
}

function sentRow(element, record) {
  const li = document.createElement("li");
  li.className = "outbox-item outbox-item-sent";
  const link = document.createElement("a");
  link.href = record.url || "#";
  link.textContent = `${record.service_name} ${record.public_id || ""}`.trim();
  li.append(`${element.dataset.sent}: `, link);
  return li;
}

function moreRow(element, count) {
  const li = document.createElement("li");
  li.className = "outbox-item outbox-item-more";
  li.textContent = fill(element.dataset.more, { n: count });
  return li;
}

/** Rows for the first entries of a list, and "… and N more" when it is longer. */
function rowsFor(element, entries, total, makeRow) {
  const rows = entries.map((item) => makeRow(element, item));
  if (total > entries.length) {
    rows.push(moreRow(element, total - entries.length));
  }
  return rows;
}

let rendering = null;
let renderAgain = false;

/** Redraw the panel from IndexedDB (the one source of truth). Calls that arrive while a
 * redraw runs are folded into one more redraw after it. */
export function renderPanel() {
  if (rendering) {
    renderAgain = true;
    return rendering;
  }
  rendering = drawPanel()
    .catch((error) => console.warn("outbox panel", error))
    .then(() => {
      rendering = null;
      if (renderAgain) {
        renderAgain = false;
        return renderPanel();
      }
      return undefined;
    });
  return rendering;
}

async function drawPanel() {
  const element = panel();
  const outbox = core();
  if (!element || !outbox) {
    return;
  }
  const state = await outbox.summary();
  const sent = (await outbox.listSent()).slice(0, SENT_SHOWN);
  const lines = [];
  if (state.waitingCount) {
    lines.push(plural(element, "waiting", state.waitingCount));
    if (!navigator.onLine) {
      lines.push(element.dataset.offline);
    } else if (state.nextAttemptAt && state.nextAttemptAt > Date.now() + 1000) {
      lines.push(fill(element.dataset.nextTry, { time: timeText(state.nextAttemptAt) }));
    }
  }
  if (state.attentionCount) {
    lines.push(plural(element, "attention", state.attentionCount));
  }
  if (!state.waitingCount && !state.attentionCount && sent.length) {
    lines.push(element.dataset.allSent);
  }
  const summary = element.querySelector("#outbox-summary");
  const text = lines.join(" ");
  if (summary.textContent !== text) {
    summary.textContent = text;
  }
  element.querySelector("#outbox-send-now").hidden = state.waitingCount === 0 || !navigator.onLine;
  element
    .querySelector("#outbox-attention")
    .replaceChildren(...rowsFor(element, state.attention, state.attentionCount, attentionRow));
  element
    .querySelector("#outbox-waiting")
    .replaceChildren(...rowsFor(element, state.waiting, state.waitingCount, waitingRow));
  element
    .querySelector("#outbox-sent")
    .replaceChildren(...sent.map((record) => sentRow(element, record)));
  element.hidden = !(state.waitingCount || state.attentionCount || sent.length);
}

function listenToOtherContexts() {
  const outbox = core();
  if ("BroadcastChannel" in self) {
    const channel = new BroadcastChannel(outbox.CHANNEL_NAME);
    channel.addEventListener("message", (event) => {
      renderPanel();
      notifyListeners(event.data);
    });
    return;
  }
  self.addEventListener("civic311-outbox", (event) => {
    renderPanel();
    notifyListeners(event.detail);
  });
}

/** Ask the browser to keep our storage (reports and photos) even when space is short. */
async function askPersistentStorage() {
  try {
    if (navigator.storage && navigator.storage.persist && !(await navigator.storage.persisted())) {
      await navigator.storage.persist();
    }
  } catch (error) {
    console.warn("persistent storage not granted", error);
  }
}

/** Wire every trigger: page load, online, visible again, other contexts, timer, Send now. */
export function startOutbox() {
  const outbox = core();
  if (!outbox || started) {
    return;
  }
  started = true;
  listenToOtherContexts();
  askPersistentStorage();
  window.addEventListener("online", () => flushOutbox({ force: true }));
  window.addEventListener("offline", () => renderPanel());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") {
      flushOutbox();
    }
  });
  const sendNow = document.getElementById("outbox-send-now");
  if (sendNow) {
    sendNow.addEventListener("click", () => flushOutbox({ force: true }));
  }
  renderPanel();
  flushOutbox({ force: true });
}
