/* My work (/staff/work): the crew's requests saved on the phone, a nearest-next route, and
 * an outbox of actions sent exactly once, in order, when the signal returns.
 *
 * IndexedDB "civic311-staff-work" holds `copy` (the last list the server sent, per staff
 * member, with its photos as blobs) and `actions` (queued actions, autoincrement `seq`
 * for their order, each with its idempotency `key`). An action leaves the outbox only when
 * the server answered it: applied (200) or a conflict (409, kept for the crew to redo or
 * drop). Any other failure leaves it queued; resending the same key is harmless, the
 * server answers it with its recorded outcome. User text goes in through textContent. */

import { ageWords, inOrder, nearestNextOrder, seenState, withPending } from "./staff-work-core.js";

const DB_NAME = "civic311-staff-work";
const DB_VERSION = 1;
const RETRY_MS = 15000;
const SEND_TIMEOUT_MS = 30000;
const root = document.querySelector("[data-work]");
const userId = root ? root.dataset.user : "";
let csrf = root ? root.dataset.csrf : "";
let flushing = null;
let position = null;
let map = null;
let markers = null;

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore("copy", { keyPath: "id" });
      db.createObjectStore("photos", { keyPath: "url" });
      db.createObjectStore("actions", { keyPath: "seq", autoIncrement: true });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function store(name, mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(name, mode);
    const result = work(tx.objectStore(name));
    tx.oncomplete = () => {
      db.close();
      resolve(result && "result" in result ? result.result : undefined);
    };
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

const getCopy = () => store("copy", "readonly", (s) => s.get(`work:${userId}`));
const putCopy = (copy) => store("copy", "readwrite", (s) => s.put({ ...copy, id: `work:${userId}` }));
const getPhoto = (url) => store("photos", "readonly", (s) => s.get(url));
const putPhoto = (url, blob) => store("photos", "readwrite", (s) => s.put({ url, blob }));
const allActions = async () =>
  inOrder((await store("actions", "readonly", (s) => s.getAll())).filter((a) => a.user === userId));
const putAction = (action) => store("actions", "readwrite", (s) => s.put(action));
const deleteAction = (seq) => store("actions", "readwrite", (s) => s.delete(seq));

function message(name, values = {}) {
  const key = `msg${name.replace(/(^|-)([a-z])/g, (m, dash, letter) => letter.toUpperCase())}`;
  let text = root.dataset[key] || name;
  for (const [field, value] of Object.entries(values)) {
    text = text.replace(`%(${field})s`, value);
  }
  return text;
}

function fill(node, field, text) {
  const target = node.querySelector(`[data-f="${field}"]`);
  if (target) {
    target.textContent = text;
  }
  return target;
}

function formatDue(iso) {
  if (!iso) {
    return "—";
  }
  return new Date(iso).toLocaleString(document.documentElement.lang || undefined, {
    dateStyle: "medium",
    timeStyle: "short",
  });
}

/* ---- the list and the map ------------------------------------------------------- */

async function photoSource(url) {
  const saved = await getPhoto(url).catch(() => null);
  return saved ? URL.createObjectURL(saved.blob) : url;
}

function renderMap(ordered) {
  const element = document.getElementById("work-map");
  if (!element || typeof window.L !== "object") {
    return;
  }
  if (!map) {
    map = window.L.map(element, { scrollWheelZoom: false });
    window.L.tileLayer(element.dataset.tileUrl, { maxZoom: 19, attribution: element.dataset.attribution || "" }).addTo(map);
    markers = window.L.layerGroup().addTo(map);
  }
  markers.clearLayers();
  const points = [];
  ordered.forEach((card, index) => {
    if (typeof card.lat !== "number") {
      return;
    }
    const icon = window.L.divIcon({ className: "work-stop", html: "", iconSize: [32, 32] });
    const marker = window.L.marker([card.lat, card.long], { icon, keyboard: false, title: card.public_id });
    marker.on("add", () => {
      const el = marker.getElement();
      if (el) el.textContent = String(index + 1);
    });
    markers.addLayer(marker);
    points.push([card.lat, card.long]);
  });
  if (position) {
    points.push([position.lat, position.long]);
  }
  if (points.length) {
    map.fitBounds(points, { padding: [24, 24], maxZoom: 17 });
  } else {
    map.setView([0, 0], 1);
  }
}

function option(value, text) {
  const node = document.createElement("option");
  node.value = value;
  node.textContent = text;
  return node;
}

async function renderCard(card, index, copy, actions) {
  const template = document.getElementById("work-card-template");
  const node = template.content.firstElementChild.cloneNode(true);
  const shown = withPending(card, actions);
  node.dataset.request = card.public_id;
  fill(node, "stop", String(index + 1));
  fill(node, "service", card.service);
  fill(node, "id", card.public_id);
  fill(node, "address", card.address || "");
  fill(
    node,
    "distance",
    position && typeof card.lat === "number"
      ? `${Math.round(distanceTo(card))} m`
      : typeof card.lat === "number" ? "" : message("no-location"),
  );
  fill(node, "due", formatDue(card.due));
  fill(node, "status", card.status_label || card.status);
  fill(node, "description", card.description);
  const photos = node.querySelector('[data-f="photos"]');
  for (const photo of card.photos || []) {
    const item = document.createElement("li");
    const img = document.createElement("img");
    img.alt = "";
    img.width = 96;
    img.src = await photoSource(photo.thumb);
    item.append(img);
    photos.append(item);
  }
  const answers = node.querySelector('[data-f="answers"]');
  for (const [code, value] of Object.entries(card.answers || {})) {
    const dt = document.createElement("dt");
    dt.textContent = code;
    const dd = document.createElement("dd");
    dd.textContent = Array.isArray(value) ? value.join(", ") : String(value);
    answers.append(dt, dd);
  }
  const history = node.querySelector('[data-f="history"]');
  for (const entry of card.history || []) {
    const li = document.createElement("li");
    li.textContent = [entry.label || entry.kind, entry.note || ""].filter(Boolean).join(": ");
    history.append(li);
  }
  const pending = node.querySelector('[data-f="pending"]');
  for (const action of actions.filter((a) => a.request === card.public_id && a.state !== "conflict")) {
    const li = document.createElement("li");
    li.className = "work-pending-item";
    li.textContent = `${message("held")}: ${actionWords(action)}`;
    pending.append(li);
  }
  const select = node.querySelector('select[name="assignee_id"]');
  for (const colleague of copy.colleagues || []) {
    if (String(colleague.id) !== String(shown.assignee_id)) {
      select.append(option(colleague.id, colleague.name));
    }
  }
  node.querySelector('[data-act="acknowledge"]').hidden = shown.status !== "submitted" || shown.closed;
  if (shown.closed) {
    node.classList.add("is-closed");
    node.querySelectorAll('[data-form="close"], [data-form="reassign"], [data-form="photo"]').forEach((form) => {
      form.closest("details").hidden = true;
    });
  }
  wireCard(node, card.public_id);
  return node;
}

function distanceTo(card) {
  const rad = Math.PI / 180;
  const dLat = (card.lat - position.lat) * rad;
  const dLong = (card.long - position.long) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(card.lat * rad) * Math.cos(position.lat * rad) * Math.sin(dLong / 2) ** 2;
  return 2 * 6371000 * Math.asin(Math.sqrt(h));
}

function actionWords(action) {
  const button = document.querySelector(`#work-card-template`).content;
  const names = {
    acknowledge: button.querySelector('[data-act="acknowledge"]').textContent,
    note: button.querySelector('[data-form="note"]').closest("details").querySelector("summary").textContent,
    photo: button.querySelector('[data-form="photo"]').closest("details").querySelector("summary").textContent,
    close: button.querySelector('[data-form="close"]').closest("details").querySelector("summary").textContent,
    reassign: button.querySelector('[data-form="reassign"]').closest("details").querySelector("summary").textContent,
  };
  return names[action.kind] || action.kind;
}

/* Someone typing in a card's form: a re-render now would wipe what they typed. */
function editing(list) {
  const active = document.activeElement;
  return Boolean(active && list.contains(active) && active.matches("textarea, select, input:not([type=checkbox])"));
}

async function render() {
  const copy = await getCopy().catch(() => null);
  const actions = await allActions().catch(() => []);
  const list = root.querySelector("[data-work-list]");
  if (editing(list)) {
    renderOutbox(actions);
    return;
  }
  const age = root.querySelector("[data-work-age]");
  if (!copy) {
    age.textContent = message("none");
    list.replaceChildren();
  } else {
    const when = new Date(copy.savedAt);
    age.textContent = copy.fresh
      ? message("fresh", { time: when.toLocaleTimeString(document.documentElement.lang || undefined, { timeStyle: "short" }) })
      : message("copy", { age: ageWords(copy.savedAt, Date.now()) });
    age.dataset.savedAt = String(copy.savedAt);
    const ordered = nearestNextOrder(copy.requests, position);
    root.querySelector("[data-work-route]").textContent = position ? message("route") : message("route-unknown");
    const nodes = [];
    for (const [index, card] of ordered.entries()) {
      nodes.push(await renderCard(card, index, copy, actions));
    }
    list.replaceChildren(...nodes);
    renderMap(ordered);
  }
  renderOutbox(actions);
}

function renderOutbox(actions) {
  const waiting = actions.filter((a) => a.state !== "conflict").length;
  const outbox = root.querySelector("[data-work-outbox]");
  outbox.textContent = waiting ? message("waiting", { count: String(waiting) }) : message("all-sent");
  outbox.dataset.waiting = String(waiting);
  const conflicts = actions.filter((a) => a.state === "conflict");
  const box = root.querySelector("[data-work-conflicts]");
  box.hidden = conflicts.length === 0;
  const template = document.getElementById("work-conflict-template");
  const items = conflicts.map((action) => {
    const node = template.content.firstElementChild.cloneNode(true);
    node.dataset.request = action.request;
    node.dataset.kind = action.kind;
    fill(node, "what", actionWords(action));
    fill(node, "id", action.request);
    fill(node, "reason", action.reason || "");
    node.querySelector('[data-conflict="drop"]').addEventListener("click", async () => {
      await deleteAction(action.seq);
      await render();
    });
    node.querySelector('[data-conflict="redo"]').addEventListener("click", async () => {
      await redo(action);
    });
    return node;
  });
  root.querySelector("[data-work-conflict-list]").replaceChildren(...items);
}

/* ---- queuing ---------------------------------------------------------------------- */

async function queue(publicId, kind, fields) {
  const copy = await getCopy();
  const card = copy.requests.find((c) => c.public_id === publicId);
  const actions = await allActions();
  const shown = card ? withPending(card, actions) : { closed: false, assignee_id: null };
  const action = {
    key: crypto.randomUUID(),
    user: userId,
    request: publicId,
    kind,
    state: "queued",
    queuedAt: Date.now(),
    ...seenState(shown),
    ...fields,
  };
  await putAction(action);
  root.querySelector("[data-work-outbox]").textContent = message("queued");
  await render();
  flush();
}

/* Redo a refused action on the request as it is now: a new key, the current state seen. */
async function redo(action) {
  await deleteAction(action.seq);
  const { seq, key, state, reason, seen_closed, seen_assignee_id, ...fields } = action;
  await queue(action.request, action.kind, fields);
}

function wireCard(node, publicId) {
  node.querySelector('[data-act="acknowledge"]').addEventListener("click", () => queue(publicId, "acknowledge", {}));
  for (const form of node.querySelectorAll("form[data-form]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const kind = form.dataset.form;
      const data = new FormData(form);
      const fields = {};
      if (data.has("note")) fields.note = String(data.get("note"));
      if (kind === "note") fields.public = data.get("public") ? "1" : "0";
      if (kind === "photo") fields.public = "1";
      if (data.has("resolution")) fields.resolution = String(data.get("resolution"));
      if (data.has("assignee_id")) fields.assignee_id = String(data.get("assignee_id"));
      const file = data.get("photo");
      if (file && file.size) {
        fields.photo = file;  // a File is a Blob: IndexedDB keeps it
        fields.photoName = file.name;
      }
      await queue(publicId, kind, fields);
    });
  }
}

/* ---- sending ------------------------------------------------------------------------ */

async function send(action) {
  const body = new FormData();
  for (const name of ["key", "kind", "request", "seen_closed", "seen_assignee_id", "note", "public", "resolution", "assignee_id"]) {
    if (action[name] !== undefined && action[name] !== null) {
      body.append(name, action[name]);
    }
  }
  if (action.photo) {
    body.append("photo", action.photo, action.photoName || "photo.jpg");
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), SEND_TIMEOUT_MS);
  try {
    const response = await fetch(root.dataset.actionUrl, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrf },
      signal: controller.signal,
    });
    const answer = await response.json().catch(() => ({}));
    return { status: response.status, answer };
  } finally {
    clearTimeout(timer);
  }
}

async function updateCard(card) {
  const copy = await getCopy();
  if (!copy || !card) return;
  copy.requests = copy.requests.map((c) => (c.public_id === card.public_id ? card : c));
  await putCopy(copy);
}

/* Send every queued action, oldest first; stop at the first one that could not be
 * answered (no signal, server down): it and everything after it stay queued. */
async function flushOnce() {
  if (navigator.onLine === false) {
    return false;  // the phone knows there is no network: wait for its "online" event
  }
  for (const action of await allActions()) {
    if (action.state === "conflict") continue;
    let result;
    try {
      result = await send(action);
    } catch (error) {
      return false;
    }
    if (result.status === 200) {
      await deleteAction(action.seq);
      await updateCard(result.answer.request);
    } else if (result.status === 409 || (result.status >= 400 && result.status < 500 && result.status !== 401 && result.status !== 403 && result.status !== 429 && result.status !== 400)) {
      await putAction({ ...action, state: "conflict", reason: result.answer.reason || result.answer.error || "" });
      if (result.answer.request) await updateCard(result.answer.request);
    } else {
      if (result.status === 400) await refresh(false);  // a stale CSRF token: fetch a new one
      return false;
    }
  }
  return true;
}

function flush() {
  if (!flushing) {
    const run = () => flushOnce().finally(() => render());
    const locked = navigator.locks ? navigator.locks.request(`${DB_NAME}-flush`, run) : run();
    flushing = locked.finally(() => {
      flushing = null;
    });
  }
  return flushing;
}

/* ---- the copy ------------------------------------------------------------------------ */

async function savePhotos(requests) {
  for (const card of requests) {
    for (const photo of card.photos || []) {
      if (await getPhoto(photo.thumb).catch(() => null)) continue;
      try {
        const response = await fetch(photo.thumb, { credentials: "same-origin" });
        if (response.ok) await putPhoto(photo.thumb, await response.blob());
      } catch (error) {
        return;
      }
    }
  }
}

async function refresh(andRender = true) {
  try {
    if (navigator.onLine === false) throw new Error("offline");
    const response = await fetch(root.dataset.dataUrl, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    csrf = data.csrf || csrf;
    await putCopy({ requests: data.requests, colleagues: data.colleagues, me: data.me, savedAt: Date.now(), fresh: true });
    await savePhotos(data.requests);
  } catch (error) {
    const copy = await getCopy().catch(() => null);
    if (copy && copy.fresh) await putCopy({ ...copy, fresh: false });
  }
  if (andRender) await render();
}

function locate() {
  if (!navigator.geolocation) return;
  navigator.geolocation.getCurrentPosition(
    (found) => {
      position = { lat: found.coords.latitude, long: found.coords.longitude };
      render();
    },
    () => {},
    { maximumAge: 60000, timeout: 10000 },
  );
}

async function start() {
  if (!root) return;
  await render();
  locate();
  await flush();
  await refresh();
  root.querySelector("[data-work-refresh]").addEventListener("click", async () => {
    await flush();
    await refresh();
  });
  window.addEventListener("online", async () => {
    await flush();
    await refresh();
  });
  window.addEventListener("offline", () => refresh());
  setInterval(() => {
    if (navigator.onLine) flush();
  }, RETRY_MS);
  root.dataset.ready = "1";
}

start();
