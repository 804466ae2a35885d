/* Area alerts: "Use my location" fills the spot for "near here" (the form works
 * without it for neighborhoods, and with a spot passed in the link). */

const LOCATION_TIMEOUT_MS = 15000;

function byId(id) {
  return document.getElementById(id);
}

function useLocation() {
  const status = byId("alert-location-status");
  navigator.geolocation.getCurrentPosition(
    (position) => {
      byId("alert-lat").value = position.coords.latitude.toFixed(6);
      byId("alert-long").value = position.coords.longitude.toFixed(6);
      byId("area-near").checked = true;
      status.textContent = status.dataset.msgFound;
    },
    () => {
      status.textContent = status.dataset.msgFailed;
    },
    { enableHighAccuracy: true, timeout: LOCATION_TIMEOUT_MS },
  );
}

function start() {
  const button = byId("alert-use-location");
  if (button && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", useLocation);
  }
}

start();
