// The request workbench: a map of the spot, response templates that fill the note
// fields as soon as one is chosen (without JS the "Use" button reloads the page), and
// actions done in place: each action form is sent in the background and the page's
// content is replaced by the updated workbench, so a crew on a phone keeps its place.
// Without JavaScript the same forms post and redirect as usual.
import { showPoint } from "./staff-map.js";

const ACTION_FORMS = "form.action-form";

function fillFromTemplate(select) {
  const option = select.selectedOptions[0];
  const body = option ? option.dataset.body || "" : "";
  if (!body) return;
  for (const target of document.querySelectorAll("[data-template-target]")) {
    if (target.id === "close-note" || target.id === "note-text") {
      target.value = body;
    }
  }
}

function wireTemplates() {
  const select = document.querySelector("[data-template-select]");
  if (!select) return;
  select.addEventListener("change", () => fillFromTemplate(select));
}

/** The after-photo button says which photo was chosen. */
function wirePhotoName() {
  const input = document.getElementById("close-photo");
  const shown = document.getElementById("close-photo-name");
  if (!input || !shown) return;
  input.addEventListener("change", () => {
    shown.textContent = input.files.length ? input.files[0].name : "";
  });
}

/** Draw what the server's fresh page holds (map and templates wired again). */
function start() {
  showPoint(document.getElementById("wb-map"));
  wireTemplates();
  wirePhotoName();
}

/** Post the form the ordinary way (used when the background send cannot be trusted). */
function submitNormally(form, submitter) {
  if (submitter && submitter.name) {
    const carried = document.createElement("input");
    carried.type = "hidden";
    carried.name = submitter.name;
    carried.value = submitter.value;
    form.append(carried);
  }
  HTMLFormElement.prototype.submit.call(form);
}

/** Replace the page's main content with the one in `html`, keeping the scroll place. */
function showUpdated(html, formId) {
  const fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
  const main = document.querySelector("main");
  if (!fresh || !main) return false;
  main.replaceChildren(...Array.from(fresh.childNodes).map((node) => document.adoptNode(node)));
  start();
  const flashes = main.querySelector(".flashes");
  const again = formId && document.getElementById(formId);
  if (flashes) {
    flashes.tabIndex = -1;
    flashes.classList.add("flashes-floating");
  }
  if (again) {
    again.scrollIntoView({ block: "nearest" });
  }
  (flashes || main).focus({ preventScroll: true });
  return true;
}

async function sendInPlace(event) {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.matches(ACTION_FORMS)) return;
  event.preventDefault();
  const submitter = event.submitter;
  const body = new FormData(form);
  if (submitter && submitter.name) {
    body.append(submitter.name, submitter.value);
  }
  const buttons = form.querySelectorAll("button");
  buttons.forEach((button) => (button.disabled = true));
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.startsWith("text/html")) throw new Error(String(response.status));
    if (!showUpdated(await response.text(), form.id)) throw new Error("no page");
    if (response.url && response.url !== window.location.href) {
      history.replaceState(null, "", response.url);
    }
  } catch (error) {
    buttons.forEach((button) => (button.disabled = false));
    submitNormally(form, submitter);
  }
}

/** The action bar's links move to a form and put the cursor in its first field. */
function jumpToAction(event) {
  const link = event.target.closest(".action-bar a[href^='#']");
  if (!link) return;
  const target = document.querySelector(link.getAttribute("href"));
  if (!target) return;
  event.preventDefault();
  target.scrollIntoView({ block: "start" });
  const field = target.querySelector("textarea, select, input:not([type=hidden])");
  (field || target).focus({ preventScroll: true });
}

document.addEventListener("submit", sendInPlace);
document.addEventListener("click", jumpToAction);
start();
