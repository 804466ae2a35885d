/* Step: contact details (a liaison enters the neighbor's). "Notify me" asks for push
 * permission on the tap itself, as browsers require, and tells the truth: the box stays
 * ticked only when this phone will really be notified; otherwise the step says why and
 * offers e-mail (pre-filled when the resident gave an address). */

import { fill } from "./outbox.js";
import { byId } from "./report-context.js";

let pushOutcome = null;

function showPushTruth(outcome) {
  const note = byId("notify-status");
  if (!note) {
    return;
  }
  pushOutcome = outcome;
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

/** On page start (after a restored draft): untick "Notify me" and say why when this
 * phone cannot be notified at all. */
export async function showPushStateOnLoad() {
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

export function wireContactStep() {
  const notify = byId("notify");
  if (notify) {
    notify.addEventListener("change", askForPush);
    const email = byId("contact_email");
    if (email) {
      email.addEventListener("input", () => showPushTruth(pushOutcome));
    }
  }
}
