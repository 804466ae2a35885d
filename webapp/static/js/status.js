/* The status page: a small map of the spot, follow/unfollow ("me too") when the
 * follow API answers (without it, or offline, the button stays hidden), and the
 * "Not fixed" answer on a closed request. */

import { loadLeaflet } from "./report-map.js";

const MAP_ZOOM = 16;

/** A small, still map with a pin; stays a grey box when Leaflet or tiles are unavailable. */
async function showMap() {
  const element = document.getElementById("status-map");
  if (!element) {
    return;
  }
  const data = element.dataset;
  try {
    const L = await loadLeaflet(data.leafletJs, data.leafletCss);
    const where = [Number(data.lat), Number(data.long)];
    const map = L.map(element, {
      zoomControl: false,
      dragging: false,
      scrollWheelZoom: false,
      touchZoom: false,
      doubleClickZoom: false,
      keyboard: false,
    }).setView(where, MAP_ZOOM);
    L.tileLayer(data.tileUrl, { attribution: data.tileAttribution, maxZoom: 19 })
      .on("tileerror", () => element.classList.add("map-offline"))
      .addTo(map);
    L.marker(where, { keyboard: false }).addTo(map);
  } catch (error) {
    element.classList.add("map-offline");
  }
}

function renderFollow(box, following) {
  box.dataset.following = following ? "1" : "0";
  document.getElementById("follow-button").textContent = following
    ? box.dataset.unfollowLabel
    : box.dataset.followLabel;
  document.getElementById("follow-status").textContent = following
    ? box.dataset.followingText
    : "";
}

/** Follow or unfollow through the API; a missing API hides the control for good. */
async function toggleFollow(box) {
  const following = box.dataset.following === "1";
  const headers = { "X-Requested-With": "civic311", Accept: "application/json" };
  const outbox = self.Civic311Outbox;
  const token = outbox ? await outbox.getMeta("device_token").catch(() => null) : null;
  if (token) {
    headers["X-Device-Token"] = token;
  }
  try {
    const response = await fetch(box.dataset.url, {
      method: following ? "DELETE" : "POST",
      headers,
      credentials: "same-origin",
    });
    if (response.status === 404 || response.status === 405) {
      box.hidden = true;
      return;
    }
    if (!response.ok) {
      throw new Error(String(response.status));
    }
    renderFollow(box, !following);
  } catch (error) {
    document.getElementById("follow-status").textContent = box.dataset.failed;
  }
}

function startFollow() {
  const box = document.getElementById("follow-box");
  if (!box) {
    return;
  }
  renderFollow(box, box.dataset.following === "1");
  document.getElementById("follow-button").addEventListener("click", () => toggleFollow(box));
  box.hidden = false;
}

/** "Not fixed" opens the reopen form in place (without JavaScript the link reloads the
 * page with the form open). */
function startNotFixed() {
  const link = document.getElementById("not-fixed");
  const form = document.getElementById("reopen-form");
  if (!link || !form) {
    return;
  }
  link.addEventListener("click", (event) => {
    event.preventDefault();
    form.hidden = false;
    link.setAttribute("aria-expanded", "true");
    document.getElementById("reopen-comment").focus();
  });
}

showMap();
startFollow();
startNotFixed();
