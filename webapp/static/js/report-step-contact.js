/* Step: contact details (a liaison enters the neighbor's). "Notify me" asks for push
 * permission on the tap itself, as browsers require. */

import { byId } from "./report-context.js";

async function askForPush(event) {
  if (!event.target.checked) {
    return;
  }
  try {
    const push = await import("/static/js/push.js");
    await push.enablePushNotifications();
  } catch (error) {
    console.warn("push notifications are not available", error);
  }
}

export function wireContactStep() {
  const notify = byId("notify");
  if (notify) {
    notify.addEventListener("change", askForPush);
  }
}
