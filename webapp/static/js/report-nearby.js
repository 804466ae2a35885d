/* "Is it one of these?" Open requests of the chosen category near the pin, with their
 * photos, shown on the location step. Following one instead keeps the resident's photos
 * and note: they are added to that request as a supporter's comment. */

import { core } from "./outbox.js";
import { byId, chosenService, form, getJson, state, t } from "./report-context.js";

const NEARBY_RADIUS_M = 200;
const NEARBY_SHOWN = 5;
const WRITE_HEADER = { "X-Requested-With": "civic311", Accept: "application/json" };
const listeners = { followed: async () => {}, shown: () => {} };
let asked = "";

/** `onFollowed(item)` runs after the resident followed a nearby request instead. */
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
  follow.setAttribute("aria-label", t("followInsteadLabel", { id: item.id }));
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
  state.photos.forEach((photo, index) => {
    body.append("photos", new Blob([photo.data], { type: photo.type }), `photo-${index + 1}.jpg`);
  });
  return body;
}

async function followInstead(item, button) {
  const message = byId("nearby-message");
  message.textContent = "";
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
    await listeners.followed(item, requestUrl(item));
  } catch (error) {
    message.textContent = t("followFailed");
    button.disabled = false;
  }
}
