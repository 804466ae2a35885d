/* Step: where is it. A pin counts as placed only when the resident placed it: their
 * GPS position, a drag or a tap on the map, typed coordinates or an address they picked.
 * A described place alone ("in front of the library") is looked up through the server's
 * address search, inside the city; when it cannot be found the report goes without
 * coordinates, "location to be confirmed" by the city. The map's starting point is
 * never sent as if it were the place. */

import { byId, changed, form, getJson, state, t, textItem } from "./report-context.js";
import { createReportMap } from "./report-map.js";
import { onNearbyShown, pointAtNearby, showNearby } from "./report-nearby.js";

const COORD_DIGITS = 6;
const map = { instance: null, starting: null };
/* Open requests already reported near the pin, drawn on the map once it is there. */
let nearbyOnMap = [];

function drawNearby() {
  if (map.instance) {
    map.instance.showOthers(nearbyOnMap, pointAtNearby);
  }
}

function round(value) {
  return Number(Number(value).toFixed(COORD_DIGITS));
}

function hasCoordinates() {
  return Boolean(byId("lat").value && byId("long").value);
}

/** True when the resident placed the pin (see the module comment). */
export function pinPlaced() {
  return hasCoordinates() && state.pinSource !== null;
}

function status(text) {
  byId("location-status").textContent = text;
}

/** Put the pin at (lat, long) because of `source`; the address is kept only when given. */
function placePin(lat, long, { source, accuracy = null, address = "" }) {
  byId("lat").value = round(lat);
  byId("long").value = round(long);
  byId("accuracy").value = accuracy ? Math.round(accuracy) : "";
  byId("address").value = address;
  byId("location-message").textContent = "";
  state.pinSource = source;
  state.locationToConfirm = false;
  if (map.instance && source !== "drag" && source !== "tap") {
    map.instance.setPosition(lat, long, accuracy);
  }
  if (map.instance) {
    map.instance.setPlaced(true);
  }
  changed();
  showNearby();
}

/** Forget the coordinates (the place will be confirmed by the city). */
function clearPin() {
  ["lat", "long", "accuracy", "address"].forEach((id) => {
    byId(id).value = "";
  });
  state.pinSource = null;
  if (map.instance) {
    map.instance.setPlaced(false);
  }
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
    pinLabel: t("pinLabel"),
  };
}

/** Open the map (once) when the location step is shown. */
export async function startMap() {
  if (map.instance) {
    map.instance.refresh();
    return;
  }
  if (map.starting) {
    return;
  }
  map.starting = createReportMap(
    byId("report-map"),
    mapSettings(),
    (lat, long, how) => {
      placePin(lat, long, { source: how });
      status(t("pinMoved"));
    },
    () => status(t("mapOffline")),
  );
  map.instance = await map.starting;
  drawNearby();
  if (map.instance && hasCoordinates()) {
    map.instance.setPosition(Number(byId("lat").value), Number(byId("long").value), null);
    map.instance.setPlaced(pinPlaced());
  }
}

function useMyLocation() {
  if (!("geolocation" in navigator)) {
    status(t("locationUnsupported"));
    return;
  }
  status(t("locating"));
  navigator.geolocation.getCurrentPosition(
    (position) => {
      const { latitude, longitude, accuracy } = position.coords;
      placePin(latitude, longitude, { source: "gps", accuracy });
      status(t("located", { m: Math.round(accuracy) }));
    },
    () => status(t("locationDenied")),
    { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
  );
}

/** Places matching `query` inside the city: {places, problem}. */
async function findPlaces(query, limit) {
  const url = `${form.dataset.geocodeUrl}?q=${encodeURIComponent(query)}&limit=${limit}`;
  const { ok, body } = await getJson(url);
  if (!ok) {
    return { places: [], problem: (body && body.error && body.error.message) || t("searchUnavailable") };
  }
  return { places: body && Array.isArray(body.data) ? body.data : [], problem: "" };
}

async function searchAddress() {
  const query = byId("address-query").value.trim();
  const results = byId("address-results");
  if (!query) {
    return;
  }
  results.replaceChildren(textItem(t("searching")));
  const { places, problem } = await findPlaces(query, 5);
  if (problem || !places.length) {
    const item = textItem(problem || t("noResults"));
    item.className = problem ? "error-message" : "";
    results.replaceChildren(item);
    return;
  }
  results.replaceChildren(
    ...places.map((place) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button button-quiet";
      button.textContent = place.label;
      button.addEventListener("click", () => {
        placePin(place.lat, place.long, { source: "search", address: place.label });
        status(place.label);
        results.replaceChildren();
      });
      li.append(button);
      return li;
    }),
  );
}

/** Complete the step before moving on: "" when the place is known (a placed pin, a
 * described place found by the server, or a description sent "to be confirmed"),
 * else what is missing. */
export async function completeLocation() {
  if (pinPlaced()) {
    return "";
  }
  const landmark = byId("landmark").value.trim();
  if (!landmark) {
    return t("needLocation");
  }
  if (state.locationToConfirm) {
    return "";
  }
  status(t("lookingUpPlace"));
  const { places } = navigator.onLine ? await findPlaces(landmark, 1) : { places: [] };
  if (places.length) {
    const place = places[0];
    placePin(place.lat, place.long, { source: "landmark", address: place.label });
    status(t("placeFound", { place: place.label }));
    return "";
  }
  clearPin();
  state.locationToConfirm = true;
  status(t("placeToConfirm"));
  changed();
  return "";
}

/** The place in words for the review: address, described place, or "to be confirmed". */
export function placeSummary() {
  const landmark = byId("landmark").value.trim();
  const address = byId("address").value.trim();
  if (!pinPlaced()) {
    return landmark ? t("toConfirm", { place: landmark }) : "";
  }
  const accuracy = byId("accuracy").value;
  const where = address || (state.pinSource === "gps" ? t("yourLocation") : t("pinOnMap"));
  const parts = [where + (accuracy ? ` (±${accuracy} m)` : "")];
  if (landmark && landmark !== address) {
    parts.push(landmark);
  }
  return parts.join(" — ");
}

/** After a draft or a report to fix is loaded: coordinates in it were placed before. */
export function restoreLocation() {
  state.pinSource = hasCoordinates() ? "restored" : null;
  state.locationToConfirm = !hasCoordinates() && Boolean(byId("landmark").value.trim());
}

export function resetLocation() {
  state.pinSource = null;
  state.locationToConfirm = false;
  status("");
  byId("address-results").replaceChildren();
  if (map.instance) {
    map.instance.setPlaced(false);
  }
}

export function wireLocationStep() {
  onNearbyShown((items) => {
    nearbyOnMap = items;
    drawNearby();
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
      if (hasCoordinates()) {
        placePin(Number(byId("lat").value), Number(byId("long").value), { source: "typed" });
      }
    }),
  );
  byId("landmark").addEventListener("input", () => {
    if (state.pinSource === "landmark") {
      clearPin();
    }
    state.locationToConfirm = false;
  });
}
