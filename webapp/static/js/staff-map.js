// Small Leaflet maps for the staff workbench and the liaison dashboard.
// Leaflet is loaded before this module as a classic script (window.L); without it,
// or offline, the page keeps its plain coordinates link and list.

const DEFAULT_ZOOM = 16;
const MAX_ZOOM = 19;

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

export function showPoint(element) {
  if (!element || !leafletAvailable()) return null;
  const lat = Number(element.dataset.lat);
  const long = Number(element.dataset.long);
  const map = createMap(element);
  map.setView([lat, long], DEFAULT_ZOOM);
  window.L.marker([lat, long]).addTo(map);
  return map;
}

export function showPoints(element, points) {
  if (!element || !leafletAvailable() || points.length === 0) return null;
  const map = createMap(element);
  const bounds = [];
  for (const point of points) {
    const marker = window.L.marker([point.lat, point.long]).addTo(map);
    const label = document.createElement("a");
    label.href = point.url;
    label.textContent = point.label;
    marker.bindPopup(label);
    bounds.push([point.lat, point.long]);
  }
  map.fitBounds(bounds, { maxZoom: DEFAULT_ZOOM, padding: [20, 20] });
  return map;
}
