/* "Before you report…": once a service is chosen in the report flow, show its knowledge
 * answers first, with "This answered my question" (counted as a contact resolved by
 * self-service) and "Report it anyway". Works offline from the service worker's copy of
 * the answers; a "resolved" that cannot be sent waits in localStorage until online. */
import { answersForService, loadAnswers } from "./answers-core.js";

const PANEL = document.getElementById("report-answers");
const LIST = document.getElementById("report-answers-list");
const THANKS = document.getElementById("report-answers-thanks");
const SKIP = document.getElementById("report-answers-skip");
const STRINGS = JSON.parse(document.getElementById("report-answers-strings").textContent);
const PENDING_KEY = "civic311-resolved-answers";
const SERVICE_INPUTS = 'input[name="service_code"]';

let allAnswers = null;
let currentService = null;

/* The answer's HTML was sanitized on the server (nh3); parse it into nodes without innerHTML. */
function answerBody(html) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  const body = document.createElement("div");
  body.className = "answer-body";
  body.append(...Array.from(parsed.body.childNodes, (node) => document.adoptNode(node)));
  return body;
}

function answerItem(answer) {
  const details = document.createElement("details");
  details.className = "report-answer";
  const summary = document.createElement("summary");
  summary.textContent = answer.title;
  details.append(summary);
  if (answer.summary) {
    const lede = document.createElement("p");
    lede.className = "hint";
    lede.textContent = answer.summary;
    details.append(lede);
  }
  details.append(answerBody(answer.html));
  const resolved = document.createElement("button");
  resolved.type = "button";
  resolved.className = "button button-primary";
  resolved.textContent = STRINGS.answered;
  resolved.addEventListener("click", () => markResolved(answer));
  details.append(resolved);
  return details;
}

function pending() {
  try {
    return JSON.parse(localStorage.getItem(PENDING_KEY) || "[]");
  } catch (error) {
    return [];
  }
}

async function sendResolved(item) {
  const url = PANEL.dataset.resolvedUrl.replace("SLUG", encodeURIComponent(item.slug));
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Requested-With": "civic311" },
    body: JSON.stringify({ service_code: item.service_code, channel: "pwa" }),
  });
  return response.ok || response.status === 404;
}

/* Send the "resolved" answers that waited for a connection. */
async function flushPending() {
  const waiting = pending();
  const left = [];
  for (const item of waiting) {
    try {
      if (!(await sendResolved(item))) {
        left.push(item);
      }
    } catch (error) {
      left.push(item);
    }
  }
  localStorage.setItem(PENDING_KEY, JSON.stringify(left));
}

async function markResolved(answer) {
  const item = { slug: answer.slug, service_code: currentService };
  localStorage.setItem(PENDING_KEY, JSON.stringify([...pending(), item]));
  LIST.replaceChildren();
  SKIP.hidden = true;
  THANKS.hidden = false;
  THANKS.focus();
  PANEL.dispatchEvent(new CustomEvent("report-answers:resolved", { bubbles: true, detail: item }));
  await flushPending();
}

function reportAnyway() {
  PANEL.hidden = true;
  const questions = document.querySelector(
    `.attribute-questions[data-service="${CSS.escape(currentService || "")}"]`,
  );
  const next = (questions && questions.querySelector("select, input, textarea")) ||
    document.getElementById("step-next");
  if (next) {
    next.focus();
  }
}

/* The answers sit right under the chosen category, before its questions. */
function placeUnder(serviceCode) {
  const radio = document.querySelector(`${SERVICE_INPUTS}[value="${CSS.escape(serviceCode)}"]`);
  const choice = radio && radio.closest(".service-choice");
  if (choice && choice.nextElementSibling !== PANEL) {
    choice.after(PANEL);
  }
}

/* "Ask a person" opens a live chat that knows the chosen category. */
function pointChatAt(serviceCode) {
  const link = document.getElementById("report-answers-chat");
  if (link) {
    const url = new URL(link.href, window.location.href);
    url.searchParams.set("service", serviceCode);
    link.href = url.pathname + url.search;
  }
}

async function showFor(serviceCode) {
  currentService = serviceCode;
  placeUnder(serviceCode);
  pointChatAt(serviceCode);
  THANKS.hidden = true;
  SKIP.hidden = false;
  try {
    allAnswers = allAnswers || (await loadAnswers(PANEL.dataset.answersUrl));
  } catch (error) {
    PANEL.hidden = true;
    return;
  }
  const found = answersForService(allAnswers, serviceCode);
  LIST.replaceChildren(...found.map(answerItem));
  PANEL.hidden = found.length === 0;
}

function wire() {
  document.querySelectorAll(SERVICE_INPUTS).forEach((radio) => {
    radio.addEventListener("change", () => showFor(radio.value));
  });
  SKIP.addEventListener("click", reportAnyway);
  window.addEventListener("online", flushPending);
  const chosen = document.querySelector(`${SERVICE_INPUTS}:checked`);
  if (chosen) {
    showFor(chosen.value);
  }
  if (navigator.onLine) {
    flushPending();
  }
  // Read ahead only on a page the service worker serves, so it keeps the copy that
  // answers offline. On the very first visit no worker serves the page yet: the answers
  // load when a category is chosen (by then the worker is there to keep them).
  if (navigator.onLine && navigator.serviceWorker && navigator.serviceWorker.controller) {
    loadAnswers(PANEL.dataset.answersUrl).then((found) => {
      allAnswers = found;
    }, () => {});
  }
}

if (PANEL) {
  wire();
}
