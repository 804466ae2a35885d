/* /help: the form searches on the server; offline it searches the saved copy instead. */
import { loadAnswers, searchLocally } from "./answers-core.js";

const FORM = document.getElementById("help-search");
const RESULTS = document.getElementById("help-results");
const STATUS = document.getElementById("help-status");
const STRINGS = JSON.parse(document.getElementById("help-strings").textContent);

function showResults(found, query) {
  RESULTS.replaceChildren();
  for (const answer of found) {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = answer.url;
    link.textContent = answer.title;
    item.append(link);
    if (answer.summary) {
      const summary = document.createElement("p");
      summary.className = "hint";
      summary.textContent = answer.summary;
      item.append(summary);
    }
    RESULTS.append(item);
  }
  if (!found.length) {
    const item = document.createElement("li");
    item.textContent = STRINGS.none;
    RESULTS.append(item);
  }
  const count = STRINGS.count.replace("{n}", found.length).replace("{q}", query);
  STATUS.textContent = `${STRINGS.offline} ${count}`;
}

async function searchOffline(event) {
  if (navigator.onLine) {
    return;
  }
  event.preventDefault();
  const query = FORM.elements.q.value;
  try {
    showResults(searchLocally(await loadAnswers(FORM.dataset.answersUrl), query), query);
  } catch (error) {
    STATUS.textContent = STRINGS.none;
  }
}

function keepCopy() {
  if (navigator.onLine) {
    loadAnswers(FORM.dataset.answersUrl).catch(() => {});
  }
}

FORM.addEventListener("submit", searchOffline);
keepCopy();
