/* The report map: Leaflet (served by us) loaded only when the location step opens,
 * tiles from the configured server, a draggable pin. When tiles or Leaflet cannot
 * load the map stays grey and the form keeps working (GPS, address or landmark). */

const PIN_ZOOM = 17;
const UNPLACED_OPACITY = 0.45;
/* The pin is drawn 25 × 41 but answers to a 44 × 52 px touch target. */
const PIN_SIZE = [44, 52];
const PIN_ANCHOR = [22, 52];

let leafletPromise = null;

/** Leaflet's own control texts in the page's language (/strings/<locale>.js). */
function inReadersLanguage(L) {
  const texts = (self.CIVIC_STRINGS || {})[document.documentElement.lang] || {};
  if (texts.mapZoomIn && L.Control && L.Control.Zoom) {
    L.Control.Zoom.mergeOptions({ zoomInTitle: texts.mapZoomIn, zoomOutTitle: texts.mapZoomOut });
  }
  return L;
}

/** Load Leaflet's CSS and script once; resolves with window.L or rejects. */
export function loadLeaflet(scriptUrl, cssUrl) {
  if (window.L) {
    return Promise.resolve(window.L);
  }
  if (leafletPromise) {
    return leafletPromise;
  }
  leafletPromise = new Promise((resolve, reject) => {
    const css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = cssUrl;
    document.head.append(css);
    const script = document.createElement("script");
    script.src = scriptUrl;
    script.onload = () =>
      window.L ? resolve(inReadersLanguage(window.L)) : reject(new Error("no Leaflet"));
    script.onerror = () => {
      leafletPromise = null;
      reject(new Error("Leaflet did not load"));
    };
    document.head.append(script);
  });
  return leafletPromise;
}

/** Record where the pin is on the map element (read by scripts and tests, never styled). */
function notePin(element, lat, long) {
  element.dataset.pinLat = String(lat);
  element.dataset.pinLong = String(long);
}

/** Build the map in `element`; `onPinMoved(lat, long, how)` runs when the resident moves
 * the pin (`how` is "drag" or "tap"). Until someone places it, the pin is faded: it only
 * shows where the map starts. */
export async function createReportMap(element, settings, onPinMoved, onTilesFailed) {
  let L;
  try {
    L = await loadLeaflet(settings.leafletJs, settings.leafletCss);
  } catch (error) {
    element.classList.add("map-offline");
    onTilesFailed();
    return null;
  }
  const start = [settings.lat, settings.long];
  const map = L.map(element, { zoomControl: true, attributionControl: true }).setView(
    start,
    settings.zoom,
  );
  const tiles = L.tileLayer(settings.tileUrl, {
    attribution: settings.tileAttribution,
    maxZoom: 19,
  });
  let failed = false;
  tiles.on("tileerror", () => {
    if (!failed) {
      failed = true;
      element.classList.add("map-offline");
      onTilesFailed();
    }
  });
  tiles.on("tileload", () => element.classList.remove("map-offline"));
  tiles.addTo(map);
  const icon = L.divIcon({ className: "map-pin", iconSize: PIN_SIZE, iconAnchor: PIN_ANCHOR, html: "" });
  const pin = L.marker(start, {
    icon,
    title: settings.pinLabel || "",
    draggable: true,
    keyboard: true,
    autoPan: true,
    opacity: UNPLACED_OPACITY,
  }).addTo(map);
  notePin(element, settings.lat, settings.long);
  element.dataset.pinPlaced = "0";
  const others = L.layerGroup().addTo(map);
  let circle = null;
  pin.on("dragend", () => {
    const where = pin.getLatLng();
    notePin(element, where.lat, where.lng);
    onPinMoved(where.lat, where.lng, "drag");
  });
  map.on("click", (event) => {
    pin.setLatLng(event.latlng);
    notePin(element, event.latlng.lat, event.latlng.lng);
    onPinMoved(event.latlng.lat, event.latlng.lng, "tap");
  });
  return {
    /** Move the pin (and an accuracy circle when known) without reporting it back. */
    setPosition(lat, long, accuracy) {
      pin.setLatLng([lat, long]);
      notePin(element, lat, long);
      if (circle) {
        circle.remove();
        circle = null;
      }
      if (accuracy) {
        circle = L.circle([lat, long], { radius: accuracy, interactive: false }).addTo(map);
      }
      map.setView([lat, long], Math.max(map.getZoom(), PIN_ZOOM));
    },
    /** Show the pin as placed by the resident (solid) or only as the start (faded). */
    setPlaced(placed) {
      pin.setOpacity(placed ? 1 : UNPLACED_OPACITY);
      element.dataset.pinPlaced = placed ? "1" : "0";
    },
    /** Show open requests already reported near the pin as dots; tapping one hands it to
     * `onChosen` (the list beside the map is the keyboard's way to the same requests). */
    showOthers(items, onChosen) {
      others.clearLayers();
      const shown = items.filter((item) => item.lat != null && item.long != null);
      for (const item of shown) {
        L.circleMarker([item.lat, item.long], {
          radius: 10,
          className: "map-nearby",
          bubblingMouseEvents: false,
        })
          .bindTooltip(item.label)
          .on("click", () => onChosen(item))
          .addTo(others);
      }
      element.dataset.nearbyShown = String(shown.length);
    },
    /** Recompute the size after the map's step becomes visible. */
    refresh() {
      map.invalidateSize();
    },
  };
}
