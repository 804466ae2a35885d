/* "Is it one of these?" Open requests of the chosen category near the pin, with their
 * photos, shown on the location step. Following one instead keeps the resident's photos
 * and note: they are added to that request as a supporter's comment. */

import { rememberChoice, rememberedChoice } from "./notify-choice.js";
import { core } from "./outbox.js";
import { byId, chosenService, form, getJson, state, t } from "./report-context.js";

const NEARBY_RADIUS_M = 200;
const NEARBY_SHOWN = 5;
const WRITE_HEADER = { "X-Requested-With": "civic311", Accept: "application/json" };
const listeners = { followed: async () => {}, shown: () => {} };
let asked = "";

/* How the follower hears the outcome: the same choice as a new report (this phone when
 * it can be notified, else e-mail), filled in with what this phone chose last time. */
function showPushReason(outcome) {
  const box = byId("nearby-notify");
  const status = byId("nearby-push-status");
  if (!outcome || outcome === "ask") {
    status.textContent = "";
    return;
  }
  const reason = box.dataset[`msg${outcome[0].toUpperCase()}${outcome.slice(1)}`] || "";
  status.textContent = outcome === "on" ? reason : `${reason} ${box.dataset.msgEmail}`;
}

async function pushModule() {
  try {
    return await import("/static/js/push.js");
  } catch (error) {
    console.warn("push notifications are not available", error);
    return null;
  }
}

async function askForPush(event) {
  const box = event.target;
  if (!box.checked) {
    showPushReason(null);
    return;
  }
  const push = await pushModule();
  const outcome = push ? await push.turnOnPush() : "failed";
  box.checked = outcome === "on";
  showPushReason(outcome);
  if (outcome !== "on" && !byId("nearby-email").value.trim()) {
    byId("nearby-email").focus();
  }
}

/** Fill the outcome choice from this phone's last one; say when push cannot work here. */
export async function wireNearbyNotify() {
  const box = byId("nearby-push");
  if (!box) {
    return;
  }
  const remembered = rememberedChoice();
  byId("nearby-email").value = remembered.email;
  box.addEventListener("change", askForPush);
  const push = await pushModule();
  const now = push ? push.pushState() : "unsupported";
  if (now === "unsupported" || now === "denied" || now === "install") {
    byId("nearby-push-choice").hidden = true;
    showPushReason(now);
  } else {
    box.checked = remembered.push && now === "on";
  }
}

/** `onFollowed(item, url, email)` runs after the resident followed a nearby request
 * instead (``email`` is where they asked for the outcome, or ""). */
export function onFollowed(callback) {
  listeners.followed = callback;
}

function requestUrl(item) {
  return item.url || form.dataset.requestUrl.replace("ID", item.id);
}

/** `onShown(items)` runs whenever the nearby requests change (an empty list hides them). */
export function onNearbyShown(callback) {
  listeners.shown = callback;
}

export function hideNearby() {
  byId("nearby").hidden = true;
  byId("nearby-list").replaceChildren();
  listeners.shown([]);
  asked = "";
}

/** Bring a nearby request's row into view and put the focus on its "Follow" button. */
export function pointAtNearby(item) {
  const row = document.getElementById(`nearby-${item.id}`);
  if (row) {
    row.scrollIntoView({ block: "center" });
    row.querySelector("button").focus();
  }
}

/** Look for open requests near the pin of the chosen category (online only). */
export async function showNearby() {
  const service = chosenService();
  const lat = byId("lat").value;
  const long = byId("long").value;
  if (!service || !lat || !long || !navigator.onLine || state.pinSource === null) {
    hideNearby();
    return;
  }
  const query = new URLSearchParams({
    lat,
    long,
    service_code: service.value,
    radius: String(NEARBY_RADIUS_M),
  });
  const key = query.toString();
  if (key === asked) {
    return;
  }
  asked = key;
  const { ok, body } = await getJson(`${form.dataset.nearbyUrl}?${query}`);
  const found = ok && body && Array.isArray(body.data) ? body.data : [];
  if (asked !== key) {
    return;
  }
  if (!found.length) {
    byId("nearby").hidden = true;
    byId("nearby-list").replaceChildren();
    listeners.shown([]);
    return;
  }
  const emailField = byId("nearby-email");
  if (emailField && !emailField.value) {
    emailField.value = rememberedChoice().email;
  }
  const shown = found.slice(0, NEARBY_SHOWN);
  byId("nearby-list").replaceChildren(...shown.map(nearbyRow));
  byId("nearby").hidden = false;
  listeners.shown(
    shown.map((item) => ({ ...item, label: `${item.service_name || ""} ${item.id}`.trim() })),
  );
}

function nearbyRow(item) {
  const li = document.createElement("li");
  li.className = "nearby-item";
  li.id = `nearby-${item.id}`;
  const photo = (item.photos || []).find((p) => p.kind === "report") || (item.photos || [])[0];
  if (photo) {
    const img = document.createElement("img");
    img.src = photo.thumbnail_url;
    img.alt = t("nearbyPhotoAlt", { id: item.id });
    img.width = 88;
    img.height = 88;
    img.loading = "lazy";
    li.append(img);
  }
  const text = document.createElement("div");
  const link = document.createElement("a");
  link.href = requestUrl(item);
  link.textContent = `${item.service_name || ""} ${item.id}`.trim();
  const details = document.createElement("p");
  const distance = item.distance_m ?? item.distance;
  details.textContent = [
    item.description || item.address || item.landmark || "",
    item.status_label || "",
    distance !== undefined ? t("metresAway", { m: Math.round(distance) }) : "",
  ]
    .filter(Boolean)
    .join(" · ");
  const follow = document.createElement("button");
  follow.type = "button";
  follow.className = "button";
  follow.textContent = t("followInstead");
  // Its visible words are its name (speech input users say them); the request it
  // follows is read out as its description.
  link.id = `nearby-link-${item.id}`;
  follow.setAttribute("aria-describedby", link.id);
  follow.addEventListener("click", () => followInstead(item, follow));
  text.append(link, details, follow);
  li.append(text);
  return li;
}

/** The resident's photos and note, sent along with the follow. */
function supporterBody() {
  const body = new FormData();
  const note = byId("nearby-note").value.trim() || byId("description").value.trim();
  if (note) {
    body.append("comment", note);
  }
  const email = byId("nearby-email") ? byId("nearby-email").value.trim() : "";
  if (email) {
    body.append("email", email);
  }
  state.photos.forEach((photo, index) => {
    body.append("photos", new Blob([photo.data], { type: photo.type }), `photo-${index + 1}.jpg`);
  });
  return body;
}

async function followInstead(item, button) {
  const message = byId("nearby-message");
  message.textContent = "";
  const emailField = byId("nearby-email");
  if (emailField && !emailField.checkValidity()) {
    message.textContent = t("badEmail");
    emailField.focus();
    return;
  }
  button.disabled = true;
  try {
    const headers = { ...WRITE_HEADER };
    const token = await core().getMeta("device_token");
    if (token) {
      headers["X-Device-Token"] = token;
    }
    const response = await fetch(form.dataset.followUrl.replace("{id}", item.id), {
      method: "POST",
      headers,
      body: supporterBody(),
      credentials: "same-origin",
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error((body && body.error && body.error.message) || String(response.status));
    }
    const newToken = response.headers.get("X-Device-Token");
    if (newToken) {
      await core().setMeta("device_token", newToken);
    }
    const email = emailField ? emailField.value.trim() : "";
    if (emailField) {
      rememberChoice({ push: byId("nearby-push").checked, email });
    }
    await listeners.followed(item, requestUrl(item), email);
  } catch (error) {
    message.textContent = t("followFailed");
    button.disabled = false;
  }
}
