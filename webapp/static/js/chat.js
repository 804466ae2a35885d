/* The resident's chat page: lines arrive live (the list is an aria-live region), the
   form sends without leaving the page, and a reload resumes from the last line. */
import { ENDED, drawLine, follow, send } from "./chat-core.js";

const LIST = document.getElementById("chat-lines");
const FORM = document.getElementById("chat-form");
const STATE = document.getElementById("chat-state");
const REQUEST = document.getElementById("chat-request");
const ERROR = document.getElementById("chat-error");
const STRINGS = JSON.parse(document.getElementById("chat-strings").textContent);

function showRequest(number) {
  if (!number || REQUEST.dataset.number === number) {
    return;
  }
  REQUEST.dataset.number = number;
  const link = document.createElement("a");
  link.href = LIST.dataset.requestUrl.replace("NUMBER", encodeURIComponent(number));
  link.textContent = number;
  REQUEST.replaceChildren(`${STRINGS.request} `, link);
  REQUEST.hidden = false;
}

function showLine(line) {
  drawLine(LIST, line, STRINGS);
  STATE.textContent = STRINGS[line.status] || STATE.textContent;
  showRequest(line.request);
  if (line.status === ENDED && FORM) {
    FORM.hidden = true;
  }
}

async function sendLine(event) {
  event.preventDefault();
  ERROR.hidden = true;
  try {
    showLine(await send(FORM));
    FORM.elements.body.value = "";
  } catch (error) {
    ERROR.textContent = `${STRINGS.failed} ${error.message}`;
    ERROR.hidden = false;
  }
  FORM.elements.body.focus();
}

function sendOnEnter(event) {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    FORM.requestSubmit();
    event.preventDefault();
  }
}

if (FORM) {
  FORM.addEventListener("submit", sendLine);
  FORM.elements.body.addEventListener("keydown", sendOnEnter);
}
follow(LIST, showLine);
LIST.dataset.live = "1";
