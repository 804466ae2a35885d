/* The public map: clusters computed by the server for the zoom level and the box in
 * view, lone requests as markers that open their page, filters, and a list of the
 * newest requests in view that follows every pan and zoom.
 *
 * The page works without this script (filters are a form, the list is rendered by the
 * server). Each answer is kept as the last copy on the device, so with no network the
 * map comes back grey, at the last place, with the last requests it showed. */

import { loadLeaflet } from "./report-map.js";

const MAX_ZOOM = 19;
const LIST_SIZE = 50;
const MOVE_DELAY_MS = 250;
const LAST_COPY_KEY = "civic311-map-last";
const CLUSTER_ZOOM_STEP = 2;
const PERIOD_DAYS = { 7: 7, 30: 30, 365: 365 };
// Every target a finger hits is at least 44 × 44 CSS px: the smallest cluster too, and a
// lone request's pin is drawn inside a 44 × 52 box anchored at its tip.
const CLUSTER_SIZES = [44, 50, 56];
const PIN_SIZE = [44, 52];
const PIN_ANCHOR = [22, 52];
const SHADOW_SIZE = [41, 41];
const SHADOW_ANCHOR = [12, 41];

/** Replace %(name)s placeholders in a translated label. */
function fill(label, values) {
  return label.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? values[name] : match));
}

function formatCount(count) {
  return new Intl.NumberFormat(document.documentElement.lang || undefined).format(count);
}

/** The filters chosen in the form, as API query parameters. */
function filterParams(form) {
  const data = new FormData(form);
  const params = new URLSearchParams();
  for (const name of ["status", "service_code"]) {
    if (data.get(name)) {
      params.set(name, data.get(name));
    }
  }
  const days = PERIOD_DAYS[data.get("period")];
  if (days) {
    const since = new Date(Date.now() - days * 86400000);
    params.set("since", since.toISOString().slice(0, 10));
  }
  return params;
}

/** The form's choices as this page's own query string (kept in the address bar). */
function pageQuery(form) {
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(form)) {
    if (value) {
      params.set(name, value);
    }
  }
  return params.toString();
}

function bboxParam(map) {
  const b = map.getBounds();
  const clamp = (value, limit) => Math.max(-limit, Math.min(limit, value));
  return [
    clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90),
  ].map((n) => n.toFixed(5)).join(",");
}

async function fetchJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  return response.json();
}

function readLastCopy() {
  try {
    return JSON.parse(localStorage.getItem(LAST_COPY_KEY) || "null");
  } catch (error) {
    return null;
  }
}

function keepLastCopy(copy) {
  try {
    localStorage.setItem(LAST_COPY_KEY, JSON.stringify(copy));
  } catch (error) {
    /* storage full or refused: the map still works online */
  }
}

/** A round marker showing how many requests a cluster holds; choosing it zooms in. */
function clusterMarker(L, cluster, labels) {
  const [small, middle, large] = CLUSTER_SIZES;
  const size = cluster.count >= 1000 ? large : cluster.count >= 100 ? middle : small;
  const face = document.createElement("span");
  face.className = "map-cluster";
  face.textContent = formatCount(cluster.count);
  const label = fill(labels.requests, { count: formatCount(cluster.count) });
  const marker = L.marker([cluster.lat, cluster.long], {
    icon: L.divIcon({ html: face, className: "map-cluster-icon", iconSize: [size, size] }),
    keyboard: true,
    title: label,
  });
  marker.on("add", () => {
    const element = marker.getElement();
    if (element) {
      element.setAttribute("aria-label", label);
    }
  });
  return marker;
}

/** Leaflet's pin image, drawn (uncropped) in a box big enough to tap. */
function pinIcon(L, leafletCss) {
  const images = new URL("images/", new URL(leafletCss, window.location.href)).href;
  return L.icon({
    iconUrl: `${images}marker-icon-2x.png`,
    iconSize: PIN_SIZE,
    iconAnchor: PIN_ANCHOR,
    shadowUrl: `${images}marker-shadow.png`,
    shadowSize: SHADOW_SIZE,
    shadowAnchor: SHADOW_ANCHOR,
    className: "map-request-pin",
  });
}

/** A lone request: a pin named by its service and status; choosing it opens its page. */
function requestMarker(L, cluster, icon) {
  const request = cluster.request;
  const label = `${request.service_name} ${request.id}: ${request.status_label}`;
  const marker = L.marker([cluster.lat, cluster.long], { icon, keyboard: true, title: label, alt: label });
  marker.on("click", () => {
    window.location.assign(request.url);
  });
  marker.requestId = request.id;
  return marker;
}

/** Enter or Space on a focused marker does what a tap does. */
function activateWithKeys(marker) {
  marker.on("add", () => {
    const element = marker.getElement();
    if (!element) {
      return;
    }
    element.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        event.stopPropagation();
        marker.fire("click");
      }
    });
  });
  return marker;
}

function listItem(request) {
  const item = document.createElement("li");
  item.dataset.requestId = request.id;
  const link = document.createElement("a");
  link.href = request.url;
  link.append(`${request.service_name} `);
  const id = document.createElement("span");
  id.className = "request-id";
  id.textContent = request.id;
  link.append(id);
  const meta = document.createElement("span");
  meta.className = "map-list-meta";
  const when = new Date(request.requested_datetime).toLocaleDateString(
    document.documentElement.lang || undefined,
    { year: "numeric", month: "short", day: "numeric" },
  );
  const where = request.address || request.landmark || request.neighborhood;
  meta.textContent = [request.status_label, when, where].filter(Boolean).join(" · ");
  item.append(link, meta);
  return item;
}

function showList(elements, labels, body) {
  const items = body.data.map(listItem);
  elements.list.replaceChildren(...items);
  const { total, total_is_exact: exact } = body.meta;
  let text;
  if (total === 0) {
    text = labels.none;
  } else if (exact) {
    text = fill(labels.count, { count: formatCount(total) });
  } else {
    text = fill(labels.countMore, { count: formatCount(total) });
  }
  elements.count.textContent = text;
}

function setupMap(L, element, settings) {
  const map = L.map(element, { keyboard: true, zoomControl: true }).setView(
    [settings.lat, settings.long],
    settings.zoom,
  );
  const tiles = L.tileLayer(settings.tileUrl, { attribution: settings.tileAttribution, maxZoom: MAX_ZOOM });
  tiles.on("tileerror", () => element.classList.add("map-offline"));
  tiles.on("tileload", () => element.classList.remove("map-offline"));
  tiles.addTo(map);
  return map;
}

function drawClusters(L, layer, clusters, labels, map, icon) {
  layer.clearLayers();
  for (const cluster of clusters) {
    if (cluster.count === 1 && cluster.request) {
      activateWithKeys(requestMarker(L, cluster, icon)).addTo(layer);
    } else {
      const marker = clusterMarker(L, cluster, labels);
      marker.on("click", () => {
        map.setView([cluster.lat, cluster.long], Math.min(map.getZoom() + CLUSTER_ZOOM_STEP, MAX_ZOOM));
      });
      activateWithKeys(marker).addTo(layer);
    }
  }
}

/** Light up a request's list entry while its marker has focus or the pointer. */
function linkMarkersToList(layer, list) {
  layer.eachLayer((marker) => {
    if (!marker.requestId) {
      return;
    }
    const toggle = (on) => {
      const item = list.querySelector(`[data-request-id="${marker.requestId}"]`);
      if (item) {
        item.classList.toggle("is-highlighted", on);
      }
    };
    marker.on("mouseover", () => toggle(true));
    marker.on("mouseout", () => toggle(false));
    const element = marker.getElement();
    if (element) {
      element.addEventListener("focus", () => toggle(true));
      element.addEventListener("blur", () => toggle(false));
    }
  });
}

async function start() {
  const element = document.getElementById("public-map");
  const form = document.getElementById("map-filters");
  if (!element || !form) {
    return;
  }
  const d = element.dataset;
  const labels = {
    requests: d.labelRequests,
    offline: d.labelOffline,
    unavailable: d.labelUnavailable,
    count: d.labelCount,
    countMore: d.labelCountMore,
    none: d.labelNone,
  };
  const elements = {
    list: document.getElementById("map-list"),
    count: document.getElementById("map-list-count"),
    notice: document.getElementById("map-notice"),
  };
  const last = readLastCopy();
  const settings = {
    tileUrl: d.tileUrl,
    tileAttribution: d.tileAttribution,
    lat: last ? last.view.lat : Number(d.lat),
    long: last ? last.view.long : Number(d.long),
    zoom: last ? last.view.zoom : Number(d.zoom),
  };
  let L;
  try {
    L = await loadLeaflet(d.leafletJs, d.leafletCss);
  } catch (error) {
    element.classList.add("map-offline");
    elements.notice.textContent = labels.unavailable;
    return;
  }
  const map = setupMap(L, element, settings);
  if (!last && d.bounds) {
    const [south, west, north, east] = d.bounds.split(",").map(Number);
    map.fitBounds([[south, west], [north, east]]);
  }
  const layer = L.layerGroup().addTo(map);
  const icon = pinIcon(L, d.leafletCss);
  document.getElementById("map-apply").hidden = true;
  // Filters apply as they change; "Done" folds the sheet back to show the map.
  const done = document.getElementById("map-sheet-done");
  const sheet = document.getElementById("map-filter-sheet");
  if (done && sheet) {
    done.hidden = false;
    done.addEventListener("click", () => {
      sheet.open = false;
      sheet.querySelector("summary").focus();
    });
  }
  let generation = 0;
  let timer = null;

  function show(clusters, list) {
    drawClusters(L, layer, clusters.data, labels, map, icon);
    showList(elements, labels, list);
    linkMarkersToList(layer, elements.list);
    element.dataset.clusters = String(clusters.data.length);
    element.dataset.requestsInView = String(clusters.meta.total);
  }

  async function refresh() {
    element.dataset.loading = "true";
    const mine = ++generation;
    const filters = filterParams(form);
    const where = new URLSearchParams(filters);
    where.set("bbox", bboxParam(map));
    const clusterQuery = new URLSearchParams(where);
    clusterQuery.set("zoom", String(map.getZoom()));
    const listQuery = new URLSearchParams(where);
    listQuery.set("page_size", String(LIST_SIZE));
    try {
      if (navigator.onLine === false) {
        throw new Error("offline");
      }
      const [clusters, list] = await Promise.all([
        fetchJson(`${d.clustersUrl}?${clusterQuery}`),
        fetchJson(`${d.requestsUrl}?${listQuery}`),
      ]);
      if (mine !== generation) {
        return;
      }
      elements.notice.textContent = "";
      element.dataset.source = "network";
      show(clusters, list);
      delete element.dataset.loading;
      const centre = map.getCenter();
      keepLastCopy({
        at: new Date().toISOString(),
        query: pageQuery(form),
        view: { lat: centre.lat, long: centre.lng, zoom: map.getZoom() },
        clusters,
        list,
      });
    } catch (error) {
      if (mine !== generation) {
        return;
      }
      const copy = readLastCopy();
      element.classList.add("map-offline");
      if (copy) {
        show(copy.clusters, copy.list);
        element.dataset.source = "last-copy";
        delete element.dataset.loading;
        const time = new Date(copy.at).toLocaleString(document.documentElement.lang || undefined);
        elements.notice.textContent = fill(labels.offline, { time });
      } else {
        elements.notice.textContent = labels.unavailable;
        delete element.dataset.loading;
      }
    }
  }

  function refreshSoon() {
    element.dataset.loading = "true";
    clearTimeout(timer);
    timer = setTimeout(refresh, MOVE_DELAY_MS);
  }

  map.on("moveend", refreshSoon);
  form.addEventListener("change", () => {
    const query = pageQuery(form);
    window.history.replaceState(null, "", query ? `?${query}` : window.location.pathname);
    refresh();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    refresh();
  });
  window.addEventListener("online", refresh);
  refreshSoon();
}

start();
