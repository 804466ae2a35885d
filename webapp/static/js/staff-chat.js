/* The desk's live chat: the waiting list refreshes itself, the open chat's lines arrive
   live, Enter sends the answer, and one key (1–9, outside a text box) puts a found
   knowledge answer into the answer box. */
import { drawLine, follow, send } from "./chat-core.js";

const LIST = document.getElementById("chat-lines");
const REPLY_FORM = document.getElementById("chat-reply-form");
const ERROR = document.getElementById("chat-error");
const QUEUE = document.getElementById("chat-queue");
const CHATS = document.getElementById("desk-chats");
const STRINGS = JSON.parse(document.getElementById("chat-strings").textContent);
const NEWS = document.getElementById("chat-queue-news");
const QUEUE_EVERY_MS = Number(CHATS?.dataset.everyMs) || 10000;
const QUEUE_ITEM = document.getElementById("chat-queue-item");

function insertAnswer(button) {
  const box = REPLY_FORM.elements.body;
  box.value = box.value ? `${box.value}\n${button.dataset.answerText}` : button.dataset.answerText;
  box.focus();
}

function isTyping(target) {
  return target.closest("input, textarea, select, [contenteditable]") !== null;
}

function insertByKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) {
    return;
  }
  if (!/^[1-9]$/.test(event.key)) {
    return;
  }
  const button = document.querySelector(`[data-insert-answer="${event.key}"]`);
  if (button) {
    event.preventDefault();
    insertAnswer(button);
  }
}

async function sendAnswer(event) {
  event.preventDefault();
  ERROR.hidden = true;
  try {
    drawLine(LIST, await send(REPLY_FORM), STRINGS);
    REPLY_FORM.elements.body.value = "";
  } catch (error) {
    ERROR.textContent = error.message;
    ERROR.hidden = false;
  }
  REPLY_FORM.elements.body.focus();
}

function sendOnEnter(event) {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    REPLY_FORM.requestSubmit();
  }
}

/* A chat that arrived since the desk was drawn joins the list with its own Take form
   (the same form the server draws), and the status line announces it. */
function addToQueue(chat) {
  const item = QUEUE_ITEM.content.firstElementChild.cloneNode(true);
  item.dataset.chat = String(chat.id);
  item.querySelector("form").action = chat.take_url;
  const who = item.querySelector(".chat-who");
  who.textContent = chat.who || who.dataset.anonymous;
  const status = item.querySelector(".chat-status");
  status.textContent = status.dataset[chat.status] || chat.status;
  const number = item.querySelector(".chat-number");
  number.textContent = ` (${number.dataset.label.replace("{n}", chat.id)})`;
  document.getElementById("chat-queue-empty")?.remove();
  QUEUE.append(item);
}

/* How many chats joined the list since the desk was drawn. The status line keeps saying
   so until another one arrives: a quiet round does not take the news away before the
   call-taker has read it. */
let arrivedSinceDrawn = 0;

async function refreshQueue() {
  try {
    const response = await fetch(CHATS.dataset.listUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      return;
    }
    const chats = await response.json();
    const known = new Set([...QUEUE.querySelectorAll("[data-chat]")].map((item) => item.dataset.chat));
    const fresh = chats.filter((chat) => !known.has(String(chat.id)));
    if (fresh.length) {
      fresh.forEach(addToQueue);
      arrivedSinceDrawn += fresh.length;
      NEWS.textContent = STRINGS.news.replace("{n}", arrivedSinceDrawn);
      NEWS.hidden = false;
    }
  } catch (error) {
    /* the list stays as it is until the next round */
  }
}

/* One round at a time: the next starts a full period after the last one ended, so a slow
   answer can never be read twice and draw a chat twice. */
async function refreshQueueForever() {
  await refreshQueue();
  window.setTimeout(refreshQueueForever, QUEUE_EVERY_MS);
}

function wire() {
  if (LIST) {
    follow(LIST, (line) => drawLine(LIST, line, STRINGS));
    LIST.dataset.live = "1";
  }
  if (REPLY_FORM) {
    REPLY_FORM.addEventListener("submit", sendAnswer);
    REPLY_FORM.elements.body.addEventListener("keydown", sendOnEnter);
    document.addEventListener("keydown", insertByKey);
    document.querySelectorAll("[data-insert-answer]").forEach((button) => {
      button.addEventListener("click", () => insertAnswer(button));
    });
  }
  if (CHATS) {
    window.setTimeout(refreshQueueForever, QUEUE_EVERY_MS);
  }
}

wire();
