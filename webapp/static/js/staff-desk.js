/* The call-taker desk: questions of the chosen service, address search on Enter (the
 * first result is taken, arrows pick another), a map to click, nearby duplicates with
 * "add the caller as a supporter instead", and the caller's details copied into the
 * information-call forms. The page works without it (plain forms). */
import { createReportMap } from "./report-map.js";

const FORM = document.getElementById("desk-new");
const STRINGS = JSON.parse(document.getElementById("desk-strings").textContent);
const SERVICE = document.getElementById("desk-service");
const ADDRESS = document.getElementById("desk-address");
const STATUS = document.getElementById("desk-address-status");
const RESULTS = document.getElementById("desk-address-results");
const LAT = document.getElementById("desk-lat");
const LONG = document.getElementById("desk-long");
const NEARBY = document.getElementById("desk-nearby");
const NEARBY_LIST = document.getElementById("desk-nearby-list");
const CHANNEL = document.getElementById("desk-channel");
const NEARBY_RADIUS_M = 200;
/* Alt+L lookup, Alt+A answers, Alt+N new request, Alt+I information-only call. */
const SHORTCUTS = { KeyL: "desk-lookup", KeyA: "desk-answer-q", KeyN: "desk-service",
  KeyI: "info-topic" };

let map = null;

function showQuestions() {
  document.querySelectorAll(".desk-questions").forEach((fieldset) => {
    const chosen = fieldset.dataset.service === SERVICE.value;
    fieldset.hidden = !chosen;
    fieldset.disabled = !chosen;
  });
  showNearby();
}

function setLocation(lat, long, label) {
  LAT.value = lat.toFixed(6);
  LONG.value = long.toFixed(6);
  if (label) {
    STATUS.textContent = STRINGS.chosen.replace("{label}", label);
  }
  if (map) {
    map.setPosition(lat, long);
  }
  showNearby();
}

function resultChoice(place, index) {
  const wrapper = document.createElement("div");
  wrapper.className = "choice";
  const radio = document.createElement("input");
  radio.type = "radio";
  radio.name = "address_choice";
  radio.id = `desk-place-${index}`;
  radio.checked = index === 0;
  radio.addEventListener("change", () => {
    ADDRESS.value = place.label;
    setLocation(place.lat, place.long, place.label);
  });
  const label = document.createElement("label");
  label.htmlFor = radio.id;
  label.textContent = place.label;
  wrapper.append(radio, label);
  return wrapper;
}

async function searchAddress() {
  const query = ADDRESS.value.trim();
  if (!query) {
    return false;
  }
  STATUS.textContent = STRINGS.searching;
  RESULTS.replaceChildren();
  let places = [];
  try {
    const response = await fetch(`${FORM.dataset.geocodeUrl}?q=${encodeURIComponent(query)}`);
    if (!response.ok) {
      STATUS.textContent = STRINGS.unavailable;
      return false;
    }
    places = (await response.json()).data || [];
  } catch (error) {
    STATUS.textContent = STRINGS.unavailable;
    return false;
  }
  if (!places.length) {
    STATUS.textContent = STRINGS.noResults;
    return false;
  }
  RESULTS.append(...places.map(resultChoice));
  setLocation(places[0].lat, places[0].long, places[0].label);
  return true;
}

/* Enter in the address box: search, take the first result and move on to the caller's
 * words (Shift+Tab goes back to pick another result). */
async function searchAndMoveOn() {
  if (await searchAddress()) {
    document.getElementById("desk-description").focus();
  }
}

function nearbyItem(item) {
  const li = document.createElement("li");
  const text = document.createElement("span");
  const metres = STRINGS.metres.replace("{m}", Math.round(item.distance_m));
  text.textContent = `${item.id} · ${item.service_name || ""} · ${metres} `;
  const button = document.createElement("button");
  button.type = "submit";
  button.className = "button";
  button.formAction = NEARBY_LIST.dataset.supportUrl.replace("ID", encodeURIComponent(item.id));
  button.formNoValidate = true;
  button.textContent = NEARBY_LIST.dataset.supportLabel.replace("{id}", item.id);
  li.append(text, button);
  return li;
}

async function showNearby() {
  if (!SERVICE.value || !LAT.value || !LONG.value) {
    NEARBY.hidden = true;
    return;
  }
  const params = new URLSearchParams({
    lat: LAT.value, long: LONG.value, service_code: SERVICE.value, radius: NEARBY_RADIUS_M,
  });
  try {
    const response = await fetch(`${FORM.dataset.nearbyUrl}?${params}`);
    const found = response.ok ? (await response.json()).data || [] : [];
    NEARBY_LIST.replaceChildren(...found.map(nearbyItem));
    NEARBY.hidden = found.length === 0;
  } catch (error) {
    NEARBY.hidden = true;
  }
}

/* The information-call forms carry copies of the caller's details and channel. */
function copyCaller(event) {
  event.target.querySelectorAll("[data-caller-copy]").forEach((input) => {
    const source = FORM.elements[input.dataset.callerCopy];
    if (source) {
      input.value = source.value;
    }
  });
  event.target.querySelectorAll("[data-channel-copy]").forEach((input) => {
    input.value = CHANNEL.value;
  });
}

async function startMap() {
  const element = document.getElementById("desk-map");
  const settings = {
    leafletJs: FORM.dataset.leafletJs,
    leafletCss: FORM.dataset.leafletCss,
    tileUrl: FORM.dataset.tileUrl,
    tileAttribution: FORM.dataset.tileAttribution,
    lat: Number(FORM.dataset.mapLat),
    long: Number(FORM.dataset.mapLong),
    zoom: Number(FORM.dataset.mapZoom),
    pinLabel: STRINGS.pinLabel,
  };
  map = await createReportMap(element, settings, (lat, long) => setLocation(lat, long), () => {});
}

function jumpTo(event) {
  const target = event.altKey && !event.ctrlKey && !event.metaKey && SHORTCUTS[event.code];
  if (!target) {
    return;
  }
  event.preventDefault();
  const details = document.getElementById(target).closest("details");
  if (details) {
    details.open = true;
  }
  document.getElementById(target).focus();
}

function wire() {
  document.addEventListener("keydown", jumpTo);
  SERVICE.addEventListener("change", showQuestions);
  ADDRESS.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      searchAndMoveOn();
    }
  });
  LAT.addEventListener("change", showNearby);
  LONG.addEventListener("change", showNearby);
  document.querySelectorAll("form").forEach((form) => {
    if (form !== FORM && form.querySelector("[data-caller-copy]")) {
      form.addEventListener("submit", copyCaller);
    }
  });
  showQuestions();
  startMap();
}

wire();
