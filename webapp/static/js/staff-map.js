// Small Leaflet maps for the staff workbench and the liaison dashboard.
// Leaflet is loaded before this module as a classic script (window.L); without it,
// or offline, the page keeps its plain coordinates link and list.
//
// Many requests close together would draw markers on top of each other, too small and
// too close to tap: points closer than a marker's width are drawn as one numbered
// cluster (44 px), and tapping a cluster zooms in on it; at the closest zoom its
// requests are listed in a popup instead.

const DEFAULT_ZOOM = 16;
const MAX_ZOOM = 19;
const TARGET_PX = 44;
/* Markers closer than this (in screen pixels) are grouped: a 44 × 52 pin and a 44 px
 * cluster never overlap once their anchors are this far apart. */
const GROUP_PX = 64;
const PIN_SIZE = [44, 52];
const PIN_ANCHOR = [22, 52];

export function leafletAvailable() {
  return typeof window.L === "object" && window.L !== null;
}

export function createMap(element) {
  const map = window.L.map(element, { scrollWheelZoom: false });
  window.L.tileLayer(element.dataset.tileUrl, {
    maxZoom: MAX_ZOOM,
    attribution: element.dataset.attribution || "",
  }).addTo(map);
  return map;
}

function pinIcon() {
  return window.L.divIcon({ className: "map-pin", iconSize: PIN_SIZE, iconAnchor: PIN_ANCHOR, html: "" });
}

export function showPoint(element) {
  if (!element || !leafletAvailable()) return null;
  const lat = Number(element.dataset.lat);
  const long = Number(element.dataset.long);
  const map = createMap(element);
  map.setView([lat, long], DEFAULT_ZOOM);
  window.L.marker([lat, long], { icon: pinIcon(), keyboard: false }).addTo(map);
  return map;
}

/** Group points whose markers would overlap at the map's current zoom. */
function clusters(map, points) {
  const groups = [];
  for (const point of points) {
    const at = map.latLngToLayerPoint([point.lat, point.long]);
    const near = groups.find((group) => group.at.distanceTo(at) < GROUP_PX);
    if (near) {
      near.points.push(point);
    } else {
      groups.push({ at, points: [point] });
    }
  }
  return groups;
}

function pointLink(point) {
  const link = document.createElement("a");
  link.href = point.url;
  link.textContent = point.label;
  return link;
}

function singleMarker(point) {
  return window.L.marker([point.lat, point.long], { icon: pinIcon(), title: point.label })
    .bindPopup(pointLink(point));
}

function clusterMarker(map, group, labelFor) {
  const L = window.L;
  const bounds = L.latLngBounds(group.points.map((p) => [p.lat, p.long]));
  const icon = L.divIcon({
    className: "map-cluster",
    iconSize: [TARGET_PX, TARGET_PX],
    html: String(group.points.length),
  });
  const first = group.points[0];
  const marker = L.marker([first.lat, first.long], { icon, title: labelFor(group.points.length) });
  marker.on("click", () => {
    if (map.getZoom() >= MAX_ZOOM || bounds.getNorthEast().equals(bounds.getSouthWest())) {
      const list = document.createElement("ul");
      list.className = "map-cluster-list";
      group.points.forEach((point) => {
        const item = document.createElement("li");
        item.append(pointLink(point));
        list.append(item);
      });
      marker.bindPopup(list).openPopup();
      return;
    }
    map.fitBounds(bounds, { padding: [TARGET_PX, TARGET_PX], maxZoom: MAX_ZOOM });
  });
  return marker;
}

export function showPoints(element, points) {
  if (!element || !leafletAvailable() || points.length === 0) return null;
  const map = createMap(element);
  const layer = window.L.layerGroup().addTo(map);
  const template = element.dataset.clusterLabel || "{n}";
  const labelFor = (n) => template.replace("{n}", String(n));
  const draw = () => {
    element.dataset.zoom = String(map.getZoom());
    layer.clearLayers();
    for (const group of clusters(map, points)) {
      const marker =
        group.points.length === 1 ? singleMarker(group.points[0]) : clusterMarker(map, group, labelFor);
      layer.addLayer(marker);
    }
  };
  map.fitBounds(
    points.map((point) => [point.lat, point.long]),
    { maxZoom: DEFAULT_ZOOM, padding: [20, 20] },
  );
  map.on("zoomend", draw);
  draw();
  return map;
}
