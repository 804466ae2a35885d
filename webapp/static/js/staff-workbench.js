// The request workbench: a map of the spot, and response templates that fill the
// note fields as soon as one is chosen (without JS the "Use" button reloads the page).
import { showPoint } from "./staff-map.js";

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

showPoint(document.getElementById("wb-map"));
wireTemplates();
