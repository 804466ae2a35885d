/* The form's answers as [name, value] pairs: what the draft keeps and the outbox sends. */

import { byId, form } from "./report-context.js";
import { showQuestionsFor } from "./report-step-category.js";

const NOT_SENT = new Set(["notify"]);

/** The answers (questions of other categories are disabled and so left out). */
export function collectFields() {
  const pairs = [];
  for (const [name, value] of new FormData(form).entries()) {
    if (typeof value === "string" && value.trim() !== "" && !NOT_SENT.has(name)) {
      pairs.push([name, value.trim()]);
    }
  }
  const notify = byId("notify");
  if (notify) {
    pairs.push(["notify", notify.checked ? "1" : "0"]);
  }
  return pairs;
}

/** Put saved answers back into the form. */
export function applyFields(pairs) {
  form.reset();
  const values = new Map();
  pairs.forEach(([name, value]) => {
    values.set(name, [...(values.get(name) || []), value]);
  });
  showQuestionsFor((values.get("service_code") || [""])[0]);
  for (const element of form.elements) {
    if (!element.name || element.type === "file" || !values.has(element.name)) {
      continue;
    }
    const given = values.get(element.name);
    if (element.name === "notify") {
      element.checked = given[0] === "1";
    } else if (element.type === "radio" || element.type === "checkbox") {
      element.checked = given.includes(element.value);
    } else {
      element.value = given[0];
    }
  }
}
