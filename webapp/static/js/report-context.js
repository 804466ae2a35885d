/* What every step of the report flow shares: the form, its translated strings, the
 * flow's state and a way to say "something changed" (the draft is then saved). */

import { fill } from "./outbox.js";

export const form = document.getElementById("report-form");
const stringsElement = document.getElementById("report-strings");
const strings = stringsElement ? JSON.parse(stringsElement.textContent) : {};

export const state = {
  step: 0,
  photos: [],
  pending: Promise.resolve(),
  editing: null,
  lastSaved: null,
  /* How the pin got where it is: "gps", "drag", "tap", "search", "typed", "landmark"
   * (a described place found by the server's address search) or "restored". Null
   * means nobody placed it: the map only shows where it starts. */
  pinSource: null,
  /* True when the resident described the place but it could not be found: the report
   * is sent without coordinates, "location to be confirmed" by the city. */
  locationToConfirm: false,
};

const listeners = { changed: () => {}, goTo: () => {} };

/** A translated string from the page, with "{name}" placeholders filled. */
export function t(key, values) {
  return fill(strings[key] || key, values || {});
}

export function byId(id) {
  return document.getElementById(id);
}

export function isLiaison() {
  return form.dataset.liaison === "1";
}

export function stepSection(name) {
  return form.querySelector(`.step[data-step="${name}"]`);
}

/** The service the resident chose (its radio input), or null. */
export function chosenService() {
  return form.querySelector('input[name="service_code"]:checked');
}

/** Tell the flow that an answer changed (the draft is saved shortly after). */
export function changed() {
  listeners.changed();
}

/** Open the step called `name` (used by the review's "Change" links). */
export function goTo(name) {
  listeners.goTo(name);
}

/** The flow itself registers what `changed()` and `goTo()` do. */
export function listen(handlers) {
  Object.assign(listeners, handlers);
}

/** A JSON GET that never throws: {ok, status, body} (body null when unreadable). */
export async function getJson(url) {
  try {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => null);
    return { ok: response.ok, status: response.status, body };
  } catch (error) {
    return { ok: false, status: 0, body: null };
  }
}

export function textItem(text) {
  const li = document.createElement("li");
  li.textContent = text;
  return li;
}
