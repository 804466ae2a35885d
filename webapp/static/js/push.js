/* "Notify me when this is fixed": ask for permission only on a tap, subscribe with the
 * server's VAPID key, send the subscription to the server, and keep it in sync on every
 * page start. Wires every button[data-push-subscribe] and [data-push-preferences] form
 * on import. User-facing text comes from data-msg-* attributes (translated server-side),
 * else from the language's script texts (/strings/<locale>.js, see webapp/js_strings.py). */

import { rememberChoice, rememberedChoice } from "./notify-choice.js";

const PUBLIC_KEY_URL = "/api/v1/push/public-key";
const SUBSCRIPTIONS_URL = "/api/v1/push/subscriptions";
const PREFERENCES_URL = "/api/v1/push/preferences";
const WRITE_HEADERS = { "Content-Type": "application/json", "X-Requested-With": "civic311" };
const FALLBACK_MESSAGES = {
  working: "Turning on notifications…",
  on: "Notifications are on. We will tell you when this is fixed.",
  denied: "Notifications are blocked for this site. Allow them in your browser settings to get updates.",
  failed: "Notifications could not be turned on. Please try again.",
  unsupported: "This browser cannot show notifications from this app.",
  install: "To get notifications on iPhone or iPad, add this app to your Home Screen (Share, then Add to Home Screen) and open it from there.",
  saved: "Saved.",
};

export function isIos() {
  const touchMac = navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1;
  return /iPad|iPhone|iPod/.test(navigator.userAgent) || touchMac;
}

export function isInstalledApp() {
  return window.matchMedia("(display-mode: standalone)").matches || navigator.standalone === true;
}

export function needsHomeScreenInstall() {
  return isIos() && !isInstalledApp();
}

export function pushSupported() {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

function base64UrlToBytes(text) {
  const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}

function bytesToBase64Url(buffer) {
  const text = btoa(String.fromCharCode(...new Uint8Array(buffer)));
  return text.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function fetchPublicKey() {
  const response = await fetch(PUBLIC_KEY_URL, { credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(`public key: ${response.status}`);
  }
  const body = await response.json();
  return body.data.public_key;
}

async function sendSubscription(subscription, extra = {}) {
  const response = await fetch(SUBSCRIPTIONS_URL, {
    method: "POST",
    credentials: "same-origin",
    headers: WRITE_HEADERS,
    body: JSON.stringify({ ...subscription.toJSON(), ...extra }),
  });
  return response.ok;
}

function subscribedWithKey(subscription, publicKey) {
  const key = subscription.options && subscription.options.applicationServerKey;
  return !key || bytesToBase64Url(key) === publicKey;
}

async function currentSubscription(registration, publicKey) {
  const existing = await registration.pushManager.getSubscription();
  if (existing && subscribedWithKey(existing, publicKey)) {
    return existing;
  }
  if (existing) {
    await existing.unsubscribe();
  }
  return registration.pushManager.subscribe({
    userVisibleOnly: true,
    applicationServerKey: base64UrlToBytes(publicKey),
  });
}

/* What push can do here before anyone taps: "ask", "on" (already allowed),
 * "denied" (blocked in the browser's settings), "unsupported" or "install" (iPhone:
 * add to the Home Screen first). */
export function pushState() {
  if (needsHomeScreenInstall()) {
    return "install";
  }
  if (!pushSupported()) {
    return "unsupported";
  }
  if (Notification.permission === "denied") {
    return "denied";
  }
  return Notification.permission === "granted" ? "on" : "ask";
}

/* Call from a tap. Resolves to what really happened: "on" once the server has this
 * browser's subscription (following `options.request`, a public id, when given), else
 * "install", "unsupported", "denied" or "failed". */
export async function turnOnPush(options = {}) {
  const before = pushState();
  if (before === "install" || before === "unsupported" || before === "denied") {
    return before;
  }
  const permission = await Notification.requestPermission();
  if (permission !== "granted") {
    return permission === "denied" ? "denied" : "failed";
  }
  try {
    const registration = await navigator.serviceWorker.ready;
    const subscription = await currentSubscription(registration, await fetchPublicKey());
    const extra = options.request ? { request: options.request } : {};
    return (await sendSubscription(subscription, extra)) ? "on" : "failed";
  } catch (error) {
    console.warn("Push subscription failed", error);
    return "failed";
  }
}

/* Call from a tap. Resolves true once the server has this browser's subscription. */
export async function enablePushNotifications(options = {}) {
  return (await turnOnPush(options)) === "on";
}

/* On every page start: make sure the server still has this browser's subscription. */
export async function resyncSubscription() {
  if (!pushSupported() || Notification.permission !== "granted") {
    return false;
  }
  const registration = await navigator.serviceWorker.ready;
  const subscription = await registration.pushManager.getSubscription();
  if (!subscription) {
    return false;
  }
  return sendSubscription(subscription);
}

/* The page's own text, else the script texts of the page's language, else English. */
function message(root, name) {
  const key = `msg${name[0].toUpperCase()}${name.slice(1)}`;
  const texts = (self.CIVIC_STRINGS || {})[document.documentElement.lang] || {};
  const scriptKey = `push${name[0].toUpperCase()}${name.slice(1)}`;
  return (root && root.dataset[key]) || texts[scriptKey] || FALLBACK_MESSAGES[name];
}

function showStatus(root, name) {
  const status = root && root.querySelector("[data-push-status]");
  if (status) {
    status.textContent = message(root, name);
  }
}

/* When push cannot work here, say so and show the e-mail offer next to it. */
function offerEmail(root, outcome) {
  const offer = root && root.querySelector("[data-push-email]");
  if (offer) {
    offer.hidden = outcome === "on";
  }
}

function wireButton(button) {
  const root = button.closest("[data-push]");
  if (root) {
    root.hidden = false;
  }
  const initial = pushState();
  if (initial === "unsupported" || initial === "denied") {
    showStatus(root, initial);
    offerEmail(root, initial);
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    showStatus(root, "working");
    const outcome = await turnOnPush({ request: button.dataset.request });
    button.disabled = false;
    if (outcome === "on") {
      button.setAttribute("aria-pressed", "true");
      rememberChoice({ ...rememberedChoice(), push: true });
    }
    showStatus(root, outcome);
    offerEmail(root, outcome);
  });
}

async function loadPreferences(fieldset) {
  const response = await fetch(PREFERENCES_URL, { credentials: "same-origin" });
  if (!response.ok) {
    return;
  }
  const body = await response.json();
  for (const box of fieldset.querySelectorAll("input[type=checkbox]")) {
    box.checked = Boolean(body.data.preferences[box.name]);
  }
}

function wirePreferences(fieldset) {
  const root = fieldset.closest("[data-push]");
  loadPreferences(fieldset).catch((error) => console.warn("Could not load preferences", error));
  fieldset.addEventListener("change", async (event) => {
    const box = event.target;
    if (!box || box.type !== "checkbox") {
      return;
    }
    const response = await fetch(PREFERENCES_URL, {
      method: "PUT",
      credentials: "same-origin",
      headers: WRITE_HEADERS,
      body: JSON.stringify({ preferences: { [box.name]: box.checked } }),
    });
    showStatus(root, response.ok ? "saved" : "failed");
  });
}

/* The e-mail offer comes filled with the address this phone chose last time, and shows
 * at once when e-mail was that choice. */
function wireEmailOffer(form) {
  const field = form.querySelector("input[type=email]");
  const remembered = rememberedChoice();
  if (field && !field.value) {
    field.value = remembered.email;
  }
  const offer = form.closest("[data-push-email]");
  if (offer && remembered.email && !remembered.push) {
    offer.hidden = false;
  }
  form.addEventListener("submit", () => {
    rememberChoice({ push: false, email: field ? field.value.trim() : "" });
  });
}

function start() {
  document.querySelectorAll("button[data-push-subscribe]").forEach(wireButton);
  document.querySelectorAll("form[data-remember-email]").forEach(wireEmailOffer);
  document.querySelectorAll("[data-push-preferences]").forEach(wirePreferences);
  resyncSubscription().catch((error) => console.warn("Push re-sync failed", error));
}

start();
