/* Web Push in the service worker: every push becomes a notification, a tap opens (or
 * focuses) the request's page, and a rotated subscription is sent back to the server.
 * Messages use the Declarative Web Push shape {"web_push": 8030, "notification": {...}}
 * that Safari can show by itself; other browsers come through these handlers. */

const PUSH_FALLBACK_TITLE = "311";
const PUSH_FALLBACK_URL = "/my";
const PUSH_ICON_URL = "/static/icons/icon.svg";
const PUSH_SUBSCRIPTIONS_URL = "/api/v1/push/subscriptions";
const PUSH_PUBLIC_KEY_URL = "/api/v1/push/public-key";
const PUSH_WRITE_HEADERS = { "Content-Type": "application/json", "X-Requested-With": "civic311" };

/* The app's name in any language the worker imported (the title of a push without one). */
function pushFallbackTitle() {
  const all = self.CIVIC_STRINGS || {};
  const first = Object.values(all)[0];
  return (first && first.appName) || PUSH_FALLBACK_TITLE;
}

function readPushJson(data) {
  if (!data) {
    return {};
  }
  try {
    return data.json() || {};
  } catch (error) {
    return { notification: { body: data.text() } };
  }
}

function sameOriginUrl(value) {
  try {
    const url = new URL(value || PUSH_FALLBACK_URL, self.location.origin);
    return url.origin === self.location.origin ? url.href : new URL(PUSH_FALLBACK_URL, self.location.origin).href;
  } catch (error) {
    return new URL(PUSH_FALLBACK_URL, self.location.origin).href;
  }
}

function notificationFromPush(data) {
  const message = readPushJson(data);
  const notification = message.notification || {};
  const navigate = sameOriginUrl(notification.navigate);
  const options = {
    body: notification.body || "",
    icon: PUSH_ICON_URL,
    data: { navigate },
  };
  if (notification.tag) {
    options.tag = notification.tag;
    options.renotify = true;
  }
  return { title: notification.title || pushFallbackTitle(), options };
}

async function showPushNotification(event) {
  const { title, options } = notificationFromPush(event.data);
  await self.registration.showNotification(title, options);
}

async function openNotificationTarget(notification) {
  const url = sameOriginUrl(notification.data && notification.data.navigate);
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => client.url === url);
  if (open) {
    return open.focus();
  }
  return self.clients.openWindow(url);
}

function base64UrlToBytes(text) {
  const padded = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
}

async function serverKey() {
  const response = await fetch(PUSH_PUBLIC_KEY_URL, { credentials: "same-origin" });
  const body = await response.json();
  return base64UrlToBytes(body.data.public_key);
}

async function renewSubscription(event) {
  const old = event.oldSubscription;
  let subscription = event.newSubscription;
  if (!subscription) {
    const key = old && old.options && old.options.applicationServerKey
      ? old.options.applicationServerKey
      : await serverKey();
    subscription = await self.registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: key,
    });
  }
  const body = { ...subscription.toJSON(), old_endpoint: old ? old.endpoint : null };
  await fetch(PUSH_SUBSCRIPTIONS_URL, {
    method: "POST",
    credentials: "same-origin",
    headers: PUSH_WRITE_HEADERS,
    body: JSON.stringify(body),
  });
}

self.addEventListener("push", (event) => {
  event.waitUntil(showPushNotification(event));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openNotificationTarget(event.notification));
});

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(renewSubscription(event));
});
