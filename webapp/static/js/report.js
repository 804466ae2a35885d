/* The report flow: photo → location → category → description → contact → review → send.
 * One step at a time over one real <form>. The draft is kept in IndexedDB as the
 * resident types; "Send" writes the report to the outbox before any network attempt. */

import {
  core,
  fill,
  onOutboxChange,
  resubmitReport,
  saveReport,
  startOutbox,
} from "./outbox.js";
import { createReportMap } from "./report-map.js";
import { downscale, MAX_PHOTOS } from "./report-photos.js";

const STEPS = ["photo", "location", "category", "description", "contact", "review"];
const DRAFT_KEY = "draft";
const DRAFT_DELAY_MS = 250;
const NEARBY_RADIUS_M = 200;
const COORD_DIGITS = 6;

const form = document.getElementById("report-form");
const strings = JSON.parse(document.getElementById("report-strings").textContent);
const state = {
  step: 0,
  photos: [],
  pending: Promise.resolve(),
  editing: null,
  map: null,
  mapStarting: null,
  lastSaved: null,
  draftTimer: null,
  pushOutcome: null,
};

/** A translated string from the page, with "{name}" placeholders filled. */
function t(key, values) {
  return fill(strings[key], values || {});
}

function byId(id) {
  return document.getElementById(id);
}

function isLiaison() {
  return form.dataset.liaison === "1";
}

/* ---------- steps ---------- */

function stepSection(name) {
  return form.querySelector(`.step[data-step="${name}"]`);
}

/** Show only step `index`, update the buttons and move focus to its heading. */
function showStep(index, { focus = true } = {}) {
  state.step = Math.max(0, Math.min(STEPS.length - 1, index));
  STEPS.forEach((name, i) => {
    stepSection(name).hidden = i !== state.step;
  });
  byId("step-progress").textContent = t("stepOf", { n: state.step + 1, total: STEPS.length });
  byId("step-back").hidden = state.step === 0;
  byId("step-next").hidden = state.step === STEPS.length - 1;
  byId("send-report").hidden = state.step !== STEPS.length - 1;
  byId("form-message").textContent = "";
  const name = STEPS[state.step];
  if (name === "location") {
    startMap();
  }
  if (name === "review") {
    renderReview();
    showNearby();
  }
  if (focus) {
    const heading = stepSection(name).querySelector("h2");
    heading.tabIndex = -1;
    heading.focus();
  }
  scheduleDraftSave();
}

/** Check one step; returns an error message or "" when it is complete. */
function stepProblem(name) {
  if (name === "location") {
    ensureLocation();
    return byId("lat").value && byId("long").value ? "" : t("needLocation");
  }
  if (name === "category") {
    const chosen = form.querySelector('input[name="service_code"]:checked');
    if (!chosen) {
      return t("needService");
    }
    const questions = attributeFieldset(chosen.value);
    if (questions) {
      for (const field of questions.querySelectorAll("input, select, textarea")) {
        if (!field.checkValidity()) {
          field.focus();
          return field.validationMessage + (field.dataset.label ? ` (${field.dataset.label})` : "");
        }
      }
    }
    return "";
  }
  const section = stepSection(name);
  for (const field of section.querySelectorAll("input, select, textarea")) {
    if (!field.disabled && !field.checkValidity()) {
      field.focus();
      return field.validationMessage;
    }
  }
  return "";
}

function messageFor(name) {
  return byId(`${name}-message`) || byId("form-message");
}

function goNext() {
  const name = STEPS[state.step];
  const problem = stepProblem(name);
  messageFor(name).textContent = problem;
  if (!problem) {
    showStep(state.step + 1);
  }
}

/* ---------- photos ---------- */

function renderPhotos() {
  const list = byId("photo-previews");
  const items = state.photos.map((photo, index) => {
    const li = document.createElement("li");
    const img = document.createElement("img");
    if (!photo.url) {
      photo.url = URL.createObjectURL(new Blob([photo.data], { type: photo.type }));
    }
    img.src = photo.url;
    img.alt = t("photoAlt", { n: index + 1 });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button photo-remove";
    remove.textContent = "✕";
    remove.setAttribute("aria-label", t("removePhoto", { n: index + 1 }));
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(photo.url);
      state.photos.splice(index, 1);
      renderPhotos();
      scheduleDraftSave();
    });
    li.append(img, remove);
    return li;
  });
  list.replaceChildren(...items);
  byId("photo-input").disabled = state.photos.length >= MAX_PHOTOS;
}

async function addPhotos(files) {
  const message = byId("photo-message");
  message.textContent = "";
  for (const file of files) {
    if (state.photos.length >= MAX_PHOTOS) {
      message.textContent = t("photoLimit");
      break;
    }
    try {
      state.photos.push(await downscale(file));
    } catch (error) {
      message.textContent = t("photoFailed");
    }
  }
  renderPhotos();
  await saveDraft();
}

/* ---------- location ---------- */

function round(value) {
  return Number(Number(value).toFixed(COORD_DIGITS));
}

function setCoordinates(lat, long, accuracy) {
  byId("lat").value = round(lat);
  byId("long").value = round(long);
  byId("accuracy").value = accuracy ? Math.round(accuracy) : "";
  byId("location-message").textContent = "";
  scheduleDraftSave();
}

function mapSettings() {
  const data = form.dataset;
  return {
    leafletJs: data.leafletJs,
    leafletCss: data.leafletCss,
    tileUrl: data.tileUrl,
    tileAttribution: data.tileAttribution,
    lat: Number(data.mapLat),
    long: Number(data.mapLong),
    zoom: Number(data.mapZoom),
  };
}

async function startMap() {
  if (state.map) {
    state.map.refresh();
    return;
  }
  if (state.mapStarting) {
    return;
  }
  state.mapStarting = createReportMap(
    byId("report-map"),
    mapSettings(),
    (lat, long) => {
      setCoordinates(lat, long, null);
      byId("address").value = "";
      byId("location-status").textContent = t("pinMoved", { lat: round(lat), long: round(long) });
    },
    () => {
      byId("location-status").textContent = t("mapOffline");
    },
  );
  state.map = await state.mapStarting;
  if (state.map && byId("lat").value && byId("long").value) {
    state.map.setPosition(Number(byId("lat").value), Number(byId("long").value), null);
  }
}

/** A landmark alone still completes the step: the pin (or the map's middle) gives the point. */
function ensureLocation() {
  if (byId("lat").value && byId("long").value) {
    return;
  }
  if (!byId("landmark").value.trim()) {
    return;
  }
  const where = state.map ? state.map.pinPosition() : mapSettings();
  setCoordinates(where.lat, where.long, null);
}

function useMyLocation() {
  const status = byId("location-status");
  if (!("geolocation" in navigator)) {
    status.textContent = t("locationUnsupported");
    return;
  }
  status.textContent = t("locating");
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const { latitude, longitude, accuracy } = position.coords;
      setCoordinates(latitude, longitude, accuracy);
      status.textContent = t("located", { m: Math.round(accuracy) });
      if (state.map) {
        state.map.setPosition(latitude, longitude, accuracy);
      }
    },
    () => {
      status.textContent = t("locationDenied");
    },
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

async function searchAddress() {
  const query = byId("address-query").value.trim();
  const results = byId("address-results");
  if (!query) {
    return;
  }
  results.replaceChildren(textItem(t("searching")));
  let found = [];
  let problem = "";
  try {
    const response = await fetch(`${form.dataset.geocodeUrl}?q=${encodeURIComponent(query)}`, {
      headers: { Accept: "application/json" },
    });
    const body = await response.json().catch(() => null);
    if (response.ok) {
      found = body && Array.isArray(body.data) ? body.data : [];
    } else {
      problem = (body && body.error && body.error.message) || t("searchUnavailable");
    }
  } catch (error) {
    problem = t("searchUnavailable");
  }
  if (problem || !found.length) {
    const item = textItem(problem || t("noResults"));
    item.className = problem ? "error-message" : "";
    results.replaceChildren(item);
    return;
  }
  results.replaceChildren(
    ...found.slice(0, 5).map((place) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.textContent = place.label;
      button.addEventListener("click", () => {
        setCoordinates(place.lat, place.long, null);
        byId("address").value = place.label;
        byId("location-status").textContent = place.label;
        results.replaceChildren();
        if (state.map) {
          state.map.setPosition(place.lat, place.long, null);
        }
      });
      li.append(button);
      return li;
    }),
  );
}

function textItem(text) {
  const li = document.createElement("li");
  li.textContent = text;
  return li;
}

/* ---------- category ---------- */

function attributeFieldset(code) {
  return form.querySelector(`.attribute-questions[data-service="${CSS.escape(code)}"]`);
}

function showQuestionsFor(code) {
  form.querySelectorAll(".attribute-questions").forEach((fieldset) => {
    const active = fieldset.dataset.service === code;
    fieldset.hidden = !active;
    fieldset.disabled = !active;
  });
}

function filterServices() {
  const words = byId("service-search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  form.querySelectorAll(".service-group").forEach((group) => {
    let groupShown = 0;
    group.querySelectorAll(".service-choice").forEach((choice) => {
      const match = words.every((word) => choice.dataset.search.includes(word));
      choice.hidden = !match;
      groupShown += match ? 1 : 0;
    });
    group.hidden = groupShown === 0;
    shown += groupShown;
  });
  const none = byId("service-none");
  none.hidden = shown > 0;
  none.textContent = shown ? "" : t("noServiceMatch");
}

function chosenService() {
  return form.querySelector('input[name="service_code"]:checked');
}

/* ---------- fields, draft, review ---------- */

/** The form's answers as [name, value] pairs (disabled questions of other services left out). */
function collectFields() {
  const pairs = [];
  for (const [name, value] of new FormData(form).entries()) {
    if (typeof value === "string" && value.trim() !== "" && name !== "notify") {
      pairs.push([name, value.trim()]);
    }
  }
  const notify = byId("notify");
  if (notify) {
    pairs.push(["notify", notify.checked ? "1" : "0"]);
  }
  return pairs;
}

function applyFields(pairs) {
  form.reset();
  const values = new Map();
  pairs.forEach(([name, value]) => {
    values.set(name, [...(values.get(name) || []), value]);
  });
  const service = (values.get("service_code") || [])[0];
  if (service) {
    showQuestionsFor(service);
  }
  for (const element of form.elements) {
    if (!element.name || element.type === "file" || !values.has(element.name)) {
      continue;
    }
    const given = values.get(element.name);
    if (element.name === "notify") {
      element.checked = given[0] === "1";
    } else if (element.type === "radio" || element.type === "checkbox") {
      element.checked = given.includes(element.value);
    } else {
      element.value = given[0];
    }
  }
}

function draftRecord() {
  return {
    fields: collectFields(),
    photos: state.photos.map((photo) => ({ data: photo.data, type: photo.type })),
    step: state.step,
    editing: state.editing ? state.editing.client_uuid : null,
    saved_at: Date.now(),
  };
}

async function saveDraft() {
  clearTimeout(state.draftTimer);
  const outbox = core();
  if (outbox && !byId("report-form").hidden) {
    await outbox.setMeta(DRAFT_KEY, draftRecord());
  }
}

function scheduleDraftSave() {
  clearTimeout(state.draftTimer);
  state.draftTimer = setTimeout(saveDraft, DRAFT_DELAY_MS);
}

function addRow(list, label, value) {
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  dd.textContent = value || t("notGiven");
  list.append(dt, dd);
}

function renderReview() {
  const list = byId("review-summary");
  const labels = list.dataset;
  list.replaceChildren();
  const count = state.photos.length;
  addRow(list, labels.labelPhotos, t(["photoNone", "photoOne"][count] || "photoMany", { n: count }));
  const accuracy = byId("accuracy").value;
  addRow(
    list,
    labels.labelLocation,
    t("pinnedAt", { lat: byId("lat").value, long: byId("long").value }) +
      (accuracy ? ` (±${accuracy} m)` : ""),
  );
  addRow(list, labels.labelLandmark, byId("address").value || byId("landmark").value);
  const service = chosenService();
  const answers = [];
  if (service) {
    const questions = attributeFieldset(service.value);
    if (questions) {
      questions.querySelectorAll("select, input, textarea").forEach((field) => {
        if ((field.type === "checkbox" && !field.checked) || !field.value) {
          return;
        }
        const shown = field.tagName === "SELECT" ? field.selectedOptions[0].text : field.value;
        answers.push(`${field.dataset.label}: ${shown}`);
      });
    }
  }
  addRow(
    list,
    labels.labelCategory,
    service ? [service.dataset.name, ...answers].join(" — ") : "",
  );
  addRow(list, labels.labelDescription, byId("description").value.trim());
  const contact = ["contact_name", "contact_email", "contact_phone"]
    .map((id) => byId(id).value.trim())
    .filter(Boolean)
    .join(", ");
  addRow(list, labels.labelContact, contact);
  if (byId("notify")) {
    addRow(list, labels.labelNotify, byId("notify").checked ? t("yes") : t("no"));
  }
  if (byId("community_issue")) {
    addRow(list, labels.labelCommunity, byId("community_issue").checked ? t("yes") : t("no"));
  }
}

/* ---------- nearby: follow instead ---------- */

async function showNearby() {
  const section = byId("nearby");
  const list = byId("nearby-list");
  section.hidden = true;
  const service = chosenService();
  if (!service || !byId("lat").value || !navigator.onLine) {
    return;
  }
  const query = new URLSearchParams({
    lat: byId("lat").value,
    long: byId("long").value,
    service_code: service.value,
    radius: String(NEARBY_RADIUS_M),
  });
  let found = [];
  try {
    const response = await fetch(`${form.dataset.nearbyUrl}?${query}`, {
      headers: { Accept: "application/json" },
    });
    if (response.ok) {
      const body = await response.json();
      found = Array.isArray(body.data) ? body.data : [];
    }
  } catch (error) {
    found = [];
  }
  if (!found.length || STEPS[state.step] !== "review") {
    return;
  }
  list.replaceChildren(...found.slice(0, 5).map(nearbyRow));
  section.hidden = false;
}

function nearbyRow(item) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = item.url || form.dataset.requestUrl.replace("ID", item.id);
  link.textContent = `${item.service_name || ""} ${item.id}`.trim();
  const details = document.createElement("p");
  const distance = item.distance_m ?? item.distance;
  details.textContent = [
    item.description || "",
    item.status_label || "",
    distance !== undefined ? t("metresAway", { m: Math.round(distance) }) : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const follow = document.createElement("button");
  follow.type = "button";
  follow.className = "button";
  follow.textContent = t("followInstead", { id: item.id });
  follow.addEventListener("click", () => followInstead(item));
  li.append(link, details, follow);
  return li;
}

async function followInstead(item) {
  try {
    const headers = { "X-Requested-With": "civic311", Accept: "application/json" };
    const token = await core().getMeta("device_token");
    if (token) {
      headers["X-Device-Token"] = token;
    }
    const response = await fetch(form.dataset.followUrl.replace("{id}", item.id), {
      method: "POST",
      headers,
      credentials: "same-origin",
    });
    if (!response.ok) {
      throw new Error(String(response.status));
    }
    const newToken = response.headers.get("X-Device-Token");
    if (newToken) {
      await core().setMeta("device_token", newToken);
    }
    const page = item.url || form.dataset.requestUrl.replace("ID", item.id);
    await finish(t("followed", { id: item.id }), page, t("seeStatus", { id: item.id }));
  } catch (error) {
    byId("form-message").textContent = t("followFailed");
  }
}

/* ---------- send ---------- */

async function send(event) {
  event.preventDefault();
  if (state.step !== STEPS.length - 1) {
    goNext();
    return;
  }
  for (let index = 0; index < STEPS.length; index += 1) {
    const problem = stepProblem(STEPS[index]);
    if (problem) {
      showStep(index);
      messageFor(STEPS[index]).textContent = problem;
      return;
    }
  }
  await state.pending;
  const button = byId("send-report");
  button.disabled = true;
  byId("form-message").textContent = t("saving");
  const service = chosenService();
  const report = {
    client_uuid: state.editing ? state.editing.client_uuid : crypto.randomUUID(),
    fields: collectFields(),
    photos: state.photos.map((photo) => ({ data: photo.data, type: photo.type })),
    captured_at: new Date().toISOString(),
    service_name: service ? service.dataset.name : "",
    saved_at: state.editing ? state.editing.saved_at : Date.now(),
  };
  try {
    state.lastSaved = report.client_uuid;
    if (state.editing) {
      await resubmitReport(Object.assign(state.editing, report));
    } else {
      await saveReport(report);
    }
  } catch (error) {
    byId("form-message").textContent = t("storageFull");
    button.disabled = false;
    return;
  }
  button.disabled = false;
  await finish(t("saved"), null);
}

/** Clear the form and its draft and show the thank-you panel, linking to `link` (with
 * `linkText`) or, by default, to "my requests". */
async function finish(message, link, linkText) {
  clearTimeout(state.draftTimer);
  await core().deleteMeta(DRAFT_KEY);
  state.photos.forEach((photo) => photo.url && URL.revokeObjectURL(photo.url));
  state.photos = [];
  state.editing = null;
  byId("editing-notice").hidden = true;
  form.reset();
  showQuestionsFor("");
  renderPhotos();
  if (window.location.search) {
    history.replaceState(null, "", window.location.pathname);
  }
  form.hidden = true;
  const done = byId("report-done");
  byId("report-done-message").textContent = message;
  const doneLink = byId("report-done-link");
  doneLink.href = link || doneLink.dataset.myUrl;
  doneLink.textContent = linkText || doneLink.dataset.myText;
  done.hidden = false;
  done.focus();
}

function onSent(detail) {
  if (!detail || !detail.sent || detail.client_uuid !== state.lastSaved) {
    return;
  }
  byId("report-done-message").textContent = t("sentAs", { id: detail.sent.public_id });
  if (detail.sent.url) {
    const doneLink = byId("report-done-link");
    doneLink.href = detail.sent.url;
    doneLink.textContent = t("seeStatus", { id: detail.sent.public_id });
  }
}

function reportAnother() {
  byId("report-done").hidden = true;
  form.hidden = false;
  byId("location-status").textContent = "";
  showStep(0);
}

/* ---------- start ---------- */

/* The notify step tells the truth: the box stays ticked only when this phone will
 * really be notified; otherwise it says why and offers e-mail (pre-filled when given). */
function showPushTruth(outcome) {
  const note = byId("notify-status");
  if (!note) {
    return;
  }
  state.pushOutcome = outcome;
  if (!outcome || outcome === "ask") {
    note.textContent = "";
    return;
  }
  const reason = note.dataset[`msg${outcome[0].toUpperCase()}${outcome.slice(1)}`] || "";
  if (outcome === "on") {
    note.textContent = reason;
    return;
  }
  const email = byId("contact_email") ? byId("contact_email").value.trim() : "";
  const offer = email ? fill(note.dataset.msgEmail, { email }) : note.dataset.msgNoEmail;
  note.textContent = `${reason} ${offer}`;
}

async function askForPush(event) {
  const box = event.target;
  if (!box.checked) {
    showPushTruth(null);
    return;
  }
  let outcome = "failed";
  try {
    const push = await import("/static/js/push.js");
    outcome = await push.turnOnPush();
  } catch (error) {
    console.warn("push notifications are not available", error);
  }
  box.checked = outcome === "on";
  showPushTruth(outcome);
  if (outcome !== "on" && byId("contact_email") && !byId("contact_email").value.trim()) {
    byId("contact_email").focus();
  }
}

async function showPushStateOnLoad() {
  const box = byId("notify");
  if (!box) {
    return;
  }
  try {
    const push = await import("/static/js/push.js");
    const now = push.pushState();
    if (now === "unsupported" || now === "denied" || now === "install") {
      box.checked = false;
      showPushTruth(now);
    }
  } catch (error) {
    console.warn("push notifications are not available", error);
  }
}

function stepForField(field) {
  if (!field) {
    return STEPS.length - 1;
  }
  if (["location", "lat", "long", "landmark", "address", "outside_city"].includes(field)) {
    return STEPS.indexOf("location");
  }
  if (field === "service_code" || field.startsWith("attribute")) {
    return STEPS.indexOf("category");
  }
  if (field === "description") {
    return STEPS.indexOf("description");
  }
  if (field === "photos") {
    return STEPS.indexOf("photo");
  }
  if (field.startsWith("contact")) {
    return STEPS.indexOf("contact");
  }
  return STEPS.length - 1;
}

function loadPhotos(photos) {
  state.photos = (photos || []).map((photo) => ({ data: photo.data, type: photo.type }));
  renderPhotos();
}

/** Reopen a report that needs attention, or the draft the resident left. */
async function restore() {
  const outbox = core();
  const params = new URLSearchParams(window.location.search);
  const editUuid = params.get("edit");
  if (editUuid) {
    const item = await outbox.getReport(editUuid);
    if (item) {
      state.editing = item;
      applyFields(item.fields || []);
      loadPhotos(item.photos);
      const notice = byId("editing-notice");
      notice.hidden = false;
      notice.textContent = `${t("editing")} ${item.error ? item.error.message : ""}`.trim();
      const step = stepForField(item.error && (item.error.field || item.error.reason));
      showStep(step, { focus: false });
      messageFor(STEPS[step]).textContent = item.error ? item.error.message : "";
      return;
    }
  }
  const draft = await outbox.getMeta(DRAFT_KEY);
  if (draft) {
    if (draft.editing) {
      state.editing = (await outbox.getReport(draft.editing)) || null;
    }
    applyFields(draft.fields || []);
    loadPhotos(draft.photos);
    showStep(draft.step || 0, { focus: false });
    return;
  }
  showStep(0, { focus: false });
}

function wire() {
  byId("step-next").addEventListener("click", goNext);
  byId("step-back").addEventListener("click", () => showStep(state.step - 1));
  form.addEventListener("submit", send);
  form.addEventListener("input", scheduleDraftSave);
  form.addEventListener("change", scheduleDraftSave);
  byId("photo-input").addEventListener("change", (event) => {
    const files = Array.from(event.target.files || []);
    event.target.value = "";
    state.pending = addPhotos(files);
  });
  byId("use-location").addEventListener("click", useMyLocation);
  byId("address-search").addEventListener("click", searchAddress);
  byId("address-query").addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      searchAddress();
    }
  });
  ["lat", "long"].forEach((id) =>
    byId(id).addEventListener("change", () => {
      if (state.map && byId("lat").value && byId("long").value) {
        state.map.setPosition(Number(byId("lat").value), Number(byId("long").value), null);
      }
      byId("accuracy").value = "";
    }),
  );
  byId("service-search").addEventListener("input", filterServices);
  form.querySelectorAll('input[name="service_code"]').forEach((radio) =>
    radio.addEventListener("change", () => showQuestionsFor(radio.value)),
  );
  const notify = byId("notify");
  if (notify) {
    notify.addEventListener("change", askForPush);
    byId("contact_email").addEventListener("input", () => showPushTruth(state.pushOutcome));
  }
  byId("report-another").addEventListener("click", reportAnother);
  onOutboxChange(onSent);
  window.addEventListener("pagehide", saveDraft);
}

async function main() {
  if (!form || !core()) {
    return;
  }
  wire();
  await restore();
  await showPushStateOnLoad();
  startOutbox();
}

main();
