/* Step: check and send. Each part of the report in words — a thumbnail of the photo,
 * the address or described place (never raw coordinates) — with a "Change" link that
 * opens that part's step. */

import { byId, goTo, state, t } from "./report-context.js";
import { categorySummary } from "./report-step-category.js";
import { placeSummary } from "./report-step-location.js";
import { photoUrl } from "./report-step-photo.js";

function changeButton(step, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "link-button change-link";
  button.textContent = t("change");
  button.setAttribute("aria-label", t("changeLabel", { part: label }));
  button.addEventListener("click", () => goTo(step));
  return button;
}

/** One part of the summary: a label, its value (text or nodes) and a "Change" link. */
function addPart(list, label, value, step) {
  const row = document.createElement("div");
  row.className = "review-part";
  const dt = document.createElement("dt");
  dt.textContent = label;
  const dd = document.createElement("dd");
  if (typeof value === "string" || !value) {
    dd.textContent = value || t("notGiven");
  } else {
    dd.append(value);
  }
  row.append(dt, dd);
  if (step) {
    const change = document.createElement("dd");
    change.className = "review-change";
    change.append(changeButton(step, label));
    row.append(change);
  }
  list.append(row);
}

function photosValue() {
  const count = state.photos.length;
  if (!count) {
    return t("photoNone");
  }
  const box = document.createElement("span");
  box.className = "review-photos";
  state.photos.forEach((photo, index) => {
    const img = document.createElement("img");
    img.src = photoUrl(photo);
    img.alt = t("photoAlt", { n: index + 1 });
    img.width = 72;
    img.height = 72;
    box.append(img);
  });
  return box;
}

function yesNo(id) {
  return byId(id).checked ? t("yes") : t("no");
}

/** What will really happen when the request changes: this phone, e-mail, both, or
 * nothing (then the resident looks it up by its number). */
function notifySummary() {
  const email = byId("contact_email").value.trim();
  const phone = byId("notify").checked;
  if (phone && email) {
    return t("notifyPhoneAndEmail", { email });
  }
  if (phone) {
    return t("notifyPhone");
  }
  return email ? t("notifyEmail", { email }) : t("notifyNone");
}

export function renderReview() {
  const list = byId("review-summary");
  const labels = list.dataset;
  list.replaceChildren();
  addPart(list, labels.labelPhotos, photosValue(), "photo");
  addPart(list, labels.labelCategory, categorySummary(), "category");
  addPart(list, labels.labelLocation, placeSummary(), "location");
  addPart(list, labels.labelDescription, byId("description").value.trim(), "description");
  const contact = ["contact_name", "contact_email", "contact_phone"]
    .map((id) => byId(id).value.trim())
    .filter(Boolean)
    .join(", ");
  addPart(list, labels.labelContact, contact, "contact");
  if (byId("notify")) {
    addPart(list, labels.labelNotify, notifySummary(), "contact");
  }
  if (byId("community_issue")) {
    addPart(list, labels.labelCommunity, yesNo("community_issue"), "contact");
  }
}
