/* Step: what kind of problem. A search box filters the categories; the chosen
 * category's questions open right under it and are scrolled into view. */

import { byId, changed, chosenService, form, t } from "./report-context.js";

export function attributeFieldset(code) {
  return form.querySelector(`.attribute-questions[data-service="${CSS.escape(code)}"]`);
}

/** Show (and enable) only the questions of service `code`. */
export function showQuestionsFor(code) {
  form.querySelectorAll(".attribute-questions").forEach((fieldset) => {
    const active = fieldset.dataset.service === code;
    fieldset.hidden = !active;
    fieldset.disabled = !active;
  });
}

function bringQuestionsIntoView(code) {
  const questions = attributeFieldset(code);
  if (!questions) {
    return;
  }
  const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  questions.scrollIntoView({ block: "center", behavior: smooth ? "smooth" : "auto" });
}

function filterServices() {
  const words = byId("service-search").value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  let shown = 0;
  form.querySelectorAll(".service-group").forEach((group) => {
    let groupShown = 0;
    group.querySelectorAll(".service-choice").forEach((choice) => {
      const match = words.every((word) => choice.dataset.search.includes(word));
      choice.hidden = !match;
      groupShown += match ? 1 : 0;
    });
    group.hidden = groupShown === 0;
    shown += groupShown;
  });
  const none = byId("service-none");
  none.hidden = shown > 0;
  none.textContent = shown ? "" : t("noServiceMatch");
}

/** "" when a category is chosen and its required questions are answered. */
export function categoryProblem() {
  const chosen = chosenService();
  if (!chosen) {
    return t("needService");
  }
  const questions = attributeFieldset(chosen.value);
  if (questions) {
    for (const field of questions.querySelectorAll("input, select, textarea")) {
      if (!field.checkValidity()) {
        field.focus();
        return field.validationMessage + (field.dataset.label ? ` (${field.dataset.label})` : "");
      }
    }
  }
  return "";
}

/** The chosen category and its answers in words ("Pothole — How big is it?: Large"). */
export function categorySummary() {
  const service = chosenService();
  if (!service) {
    return "";
  }
  const answers = [];
  const questions = attributeFieldset(service.value);
  if (questions) {
    questions.querySelectorAll("select, input, textarea").forEach((field) => {
      if ((field.type === "checkbox" && !field.checked) || !field.value) {
        return;
      }
      const shown = field.tagName === "SELECT" ? field.selectedOptions[0].text : field.value;
      const label = field.dataset.label || "";
      answers.push(/[?:]$/.test(label) ? `${label} ${shown}` : `${label}: ${shown}`);
    });
  }
  return [service.dataset.name, ...answers].join(" — ");
}

export function wireCategoryStep() {
  byId("service-search").addEventListener("input", filterServices);
  form.querySelectorAll('input[name="service_code"]').forEach((radio) =>
    radio.addEventListener("change", () => {
      showQuestionsFor(radio.value);
      bringQuestionsIntoView(radio.value);
      changed();
    }),
  );
}
