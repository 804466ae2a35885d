/* Live chat, shared by the resident's page and the call-taker's desk: draw a line,
   follow the chat's Server-Sent Events, send the next line. Text only: every body is
   set with textContent, never as markup. */

export const ENDED = "closed";

export function drawLine(list, line, labels) {
  if (list.querySelector(`[data-id="${Number(line.id)}"]`)) {
    return false;
  }
  const item = document.createElement("li");
  item.className = `chat-line chat-${line.author}`;
  item.dataset.id = String(line.id);
  const who = document.createElement("strong");
  who.className = "chat-who";
  who.textContent = `${labels[line.author] || line.author}:`;
  const body = document.createElement("span");
  body.className = "chat-body";
  body.dir = "auto";
  body.textContent = line.body;
  item.append(who, " ", body);
  list.append(item);
  list.dataset.lastId = String(Math.max(Number(list.dataset.lastId || 0), Number(line.id)));
  return true;
}

export function follow(list, onLine) {
  const url = new URL(list.dataset.eventsUrl, window.location.href);
  url.searchParams.set("after", list.dataset.lastId || "0");
  const source = new EventSource(url);
  source.addEventListener("line", (event) => {
    const line = JSON.parse(event.data);
    onLine(line);
    if (line.status === ENDED) {
      source.close();
    }
  });
  return source;
}

export async function send(form) {
  const response = await fetch(form.action, {
    method: "POST",
    body: new FormData(form),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body && body.error && body.error.message;
    throw new Error(message || String(response.status));
  }
  return body;
}
