/* Register the service worker when the browser supports it (feature-detected). */

const SW_URL = "/sw.js";

export async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) {
    return null;
  }
  try {
    return await navigator.serviceWorker.register(SW_URL, { scope: "/" });
  } catch (error) {
    console.warn("Service worker registration failed", error);
    return null;
  }
}

registerServiceWorker();
