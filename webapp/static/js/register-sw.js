/* Register the service worker (feature-detected) and offer its updates.
 * A new version waits until the resident taps "Reload": then the page asks the waiting
 * worker to take over and reloads once it controls the page. */

const SW_URL = "/sw.js";
const BANNER_ID = "update-banner";
const RELOAD_BUTTON_ID = "update-reload";
const UPDATE_CHECK_INTERVAL_MS = 60 * 60 * 1000;

let lastUpdateCheck = Date.now();
let reloading = false;

export async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) {
    return null;
  }
  try {
    const registration = await navigator.serviceWorker.register(SW_URL, { scope: "/" });
    watchForUpdates(registration);
    tellLanguage();
    return registration;
  } catch (error) {
    console.warn("Service worker registration failed", error);
    return null;
  }
}

/* The worker shows the offline page and its own texts in the language this page is in. */
async function tellLanguage() {
  const ready = await navigator.serviceWorker.ready;
  if (ready.active) {
    ready.active.postMessage({ type: "LOCALE", locale: document.documentElement.lang });
  }
}

function watchForUpdates(registration) {
  if (registration.waiting && navigator.serviceWorker.controller) {
    offerUpdate(registration.waiting);
  }
  registration.addEventListener("updatefound", () => {
    const incoming = registration.installing;
    if (!incoming) {
      return;
    }
    incoming.addEventListener("statechange", () => {
      if (incoming.state === "installed" && navigator.serviceWorker.controller) {
        offerUpdate(incoming);
      }
    });
  });
  document.addEventListener("visibilitychange", () => checkForUpdateNow(registration));
}

function checkForUpdateNow(registration) {
  if (document.visibilityState !== "visible") {
    return;
  }
  if (Date.now() - lastUpdateCheck < UPDATE_CHECK_INTERVAL_MS) {
    return;
  }
  lastUpdateCheck = Date.now();
  registration.update().catch(() => {});
}

function offerUpdate(worker) {
  const banner = document.getElementById(BANNER_ID);
  const button = document.getElementById(RELOAD_BUTTON_ID);
  if (!banner || !button) {
    return;
  }
  banner.hidden = false;
  button.onclick = () => applyUpdate(worker, button);
}

function applyUpdate(worker, button) {
  button.disabled = true;
  navigator.serviceWorker.addEventListener("controllerchange", reloadOnce);
  worker.postMessage({ type: "SKIP_WAITING" });
}

function reloadOnce() {
  if (reloading) {
    return;
  }
  reloading = true;
  window.location.reload();
}

registerServiceWorker();
