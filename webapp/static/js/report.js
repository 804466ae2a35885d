/* The report flow: photo → category → location → description → contact → review → send.
 * One step at a time over one real <form>; each step lives in its own module
 * (report-step-*.js). The draft is kept in IndexedDB as the resident types; "Send"
 * writes the report to the outbox before any network attempt. */

import { core, onOutboxChange, resubmitReport, saveReport, startOutbox } from "./outbox.js";
import {
  byId,
  chosenService,
  form,
  listen,
  state,
  stepSection,
  t,
} from "./report-context.js";
import { applyFields, collectFields } from "./report-fields.js";
import { onFollowed, showNearby, hideNearby, wireNearbyNotify } from "./report-nearby.js";
import { categoryProblem, showQuestionsFor, wireCategoryStep } from "./report-step-category.js";
import { showPushStateOnLoad, wireContactStep } from "./report-step-contact.js";
import {
  completeLocation,
  resetLocation,
  restoreLocation,
  startMap,
  wireLocationStep,
} from "./report-step-location.js";
import {
  forgetPhotos,
  loadPhotos,
  photoRecords,
  renderPhotos,
  wirePhotoStep,
} from "./report-step-photo.js";
import { renderReview } from "./report-step-review.js";

/* The steps in order. A step that needs the chosen category (questions asked before
 * reporting, say) goes right after "category"; "location" needs the category too, to
 * look for the same problem already reported nearby. */
const STEPS = ["photo", "category", "location", "description", "contact", "review"];
const DRAFT_KEY = "draft";
const DRAFT_DELAY_MS = 250;

/** What each step does when it opens. */
const ON_SHOW = {
  location: () => {
    startMap();
    showNearby();
  },
  review: renderReview,
};

/** What completes each step: "" when done, else what is missing (may be async). */
const PROBLEM = {
  category: categoryProblem,
  location: completeLocation,
};

let draftTimer = null;

/** Show only step `index`, update the buttons and move focus to its heading. */
function showStep(index, { focus = true } = {}) {
  state.step = Math.max(0, Math.min(STEPS.length - 1, index));
  STEPS.forEach((name, i) => {
    stepSection(name).hidden = i !== state.step;
  });
  // From now on the steps' own `hidden` decides (app.css shows only the first step until
  // then, so the page does not jump when the script takes over).
  form.dataset.stepsReady = "true";
  byId("step-progress").textContent = t("stepOf", { n: state.step + 1, total: STEPS.length });
  byId("report-lede").hidden = state.step > 0;
  byId("step-back").hidden = state.step === 0;
  byId("step-next").hidden = state.step === STEPS.length - 1;
  byId("send-report").hidden = state.step !== STEPS.length - 1;
  byId("form-message").textContent = "";
  const name = STEPS[state.step];
  (ON_SHOW[name] || (() => {}))();
  if (focus) {
    const heading = stepSection(name).querySelector("h2");
    heading.tabIndex = -1;
    heading.focus();
    heading.scrollIntoView({ block: "start" });
  }
  scheduleDraftSave();
}

/** "" when the step's fields are valid, else the first problem (its field focused). */
function fieldsProblem(name) {
  for (const field of stepSection(name).querySelectorAll("input, select, textarea")) {
    if (!field.disabled && !field.checkValidity()) {
      field.focus();
      return field.validationMessage;
    }
  }
  return "";
}

async function stepProblem(name) {
  return PROBLEM[name] ? await PROBLEM[name]() : fieldsProblem(name);
}

function messageFor(name) {
  return byId(`${name}-message`) || byId("form-message");
}

async function goNext() {
  const name = STEPS[state.step];
  const button = byId("step-next");
  button.disabled = true;
  try {
    const problem = await stepProblem(name);
    messageFor(name).textContent = problem;
    if (!problem) {
      showStep(state.step + 1);
    }
  } finally {
    button.disabled = false;
  }
}

/* ---------- draft ---------- */

function draftRecord() {
  return {
    fields: collectFields(),
    photos: photoRecords(),
    step: state.step,
    editing: state.editing ? state.editing.client_uuid : null,
    saved_at: Date.now(),
  };
}

async function saveDraft() {
  clearTimeout(draftTimer);
  const outbox = core();
  if (outbox && !form.hidden) {
    await outbox.setMeta(DRAFT_KEY, draftRecord());
  }
}

function scheduleDraftSave() {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(saveDraft, DRAFT_DELAY_MS);
}

/* ---------- send ---------- */

async function send(event) {
  event.preventDefault();
  if (state.step !== STEPS.length - 1) {
    await goNext();
    return;
  }
  for (let index = 0; index < STEPS.length; index += 1) {
    const problem = await stepProblem(STEPS[index]);
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
    photos: photoRecords(),
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
  await finish(navigator.onLine ? t("sending") : t("saved"), null);
}

/** Clear the form and its draft and show the thank-you panel, linking to `link` (with
 * `linkText`) or, by default, to "my requests". */
async function finish(message, link, linkText) {
  clearTimeout(draftTimer);
  await core().deleteMeta(DRAFT_KEY);
  forgetPhotos();
  state.editing = null;
  byId("editing-notice").hidden = true;
  form.reset();
  showQuestionsFor("");
  renderPhotos();
  resetLocation();
  hideNearby();
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

/** Put `text` in `element`, the request number in it kept on one line. */
function showWithNumber(element, text, id) {
  const at = text.indexOf(id);
  if (at < 0) {
    element.textContent = text;
    return;
  }
  const number = document.createElement("span");
  number.className = "request-number";
  number.textContent = id;
  element.replaceChildren(text.slice(0, at), number, text.slice(at + id.length));
}

function onSent(detail) {
  if (!detail || !detail.sent || detail.client_uuid !== state.lastSaved) {
    return;
  }
  const id = detail.sent.public_id;
  showWithNumber(byId("report-done-message"), t("sentAs", { id }), id);
  if (detail.sent.url) {
    const doneLink = byId("report-done-link");
    doneLink.href = detail.sent.url;
    showWithNumber(doneLink, t("seeStatus", { id }), id);
  }
}

/* Whether the phone is online, said on every step (not only after Send): offline, the
 * report is kept on this phone and sent when the connection is back. */
function showConnection() {
  byId("connection-state").hidden = navigator.onLine !== false;
}

function reportAnother() {
  byId("report-done").hidden = true;
  form.hidden = false;
  showStep(0);
}

/* ---------- start ---------- */

function stepForField(field) {
  const named = {
    location: "location",
    lat: "location",
    long: "location",
    landmark: "location",
    address: "location",
    outside_city: "location",
    service_code: "category",
    description: "description",
    photos: "photo",
  };
  if (!field) {
    return STEPS.length - 1;
  }
  if (named[field]) {
    return STEPS.indexOf(named[field]);
  }
  if (field.startsWith("attribute")) {
    return STEPS.indexOf("category");
  }
  if (field.startsWith("contact")) {
    return STEPS.indexOf("contact");
  }
  return STEPS.length - 1;
}

/** Reopen a report that needs attention, or the draft the resident left. */
async function restore() {
  const outbox = core();
  const editUuid = new URLSearchParams(window.location.search).get("edit");
  if (editUuid) {
    const item = await outbox.getReport(editUuid);
    if (item) {
      state.editing = item;
      applyFields(item.fields || []);
      restoreLocation();
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
    restoreLocation();
    loadPhotos(draft.photos);
    showStep(Math.min(draft.step || 0, STEPS.length - 1), { focus: false });
    return;
  }
  showStep(0, { focus: false });
}

function wire() {
  listen({
    changed: scheduleDraftSave,
    goTo: (name) => showStep(STEPS.indexOf(name)),
  });
  onFollowed(async (item, url, email) => {
    const byEmail = email ? ` ${t("followedByEmail", { email })}` : "";
    await finish(`${t("followed", { id: item.id })}${byEmail}`, url, t("seeStatus", { id: item.id }));
  });
  byId("step-next").addEventListener("click", goNext);
  byId("step-back").addEventListener("click", () => showStep(state.step - 1));
  form.addEventListener("submit", send);
  form.addEventListener("input", scheduleDraftSave);
  form.addEventListener("change", scheduleDraftSave);
  wirePhotoStep();
  wireCategoryStep();
  wireLocationStep();
  wireContactStep();
  wireNearbyNotify();
  showConnection();
  window.addEventListener("online", showConnection);
  window.addEventListener("offline", showConnection);
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
