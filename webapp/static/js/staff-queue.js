// Keyboard shortcuts for the staff queue: j / k move the focus between requests,
// Enter follows the focused link (the browser's own behaviour). Typing in a form
// field is never intercepted.
const NEXT_KEY = "j";
const PREVIOUS_KEY = "k";

function queueLinks() {
  return Array.from(document.querySelectorAll("#queue-table .queue-link"));
}

function isTyping(target) {
  return target instanceof HTMLElement && target.closest("input, select, textarea, [contenteditable]");
}

function moveFocus(step) {
  const links = queueLinks();
  if (links.length === 0) return;
  const current = links.indexOf(document.activeElement);
  const next = current === -1 ? (step > 0 ? 0 : links.length - 1) : current + step;
  const clamped = Math.max(0, Math.min(links.length - 1, next));
  links[clamped].focus();
  links[clamped].closest("tr").scrollIntoView({ block: "nearest" });
}

function onKey(event) {
  if (event.altKey || event.ctrlKey || event.metaKey || isTyping(event.target)) return;
  if (event.key === NEXT_KEY) {
    event.preventDefault();
    moveFocus(1);
  } else if (event.key === PREVIOUS_KEY) {
    event.preventDefault();
    moveFocus(-1);
  }
}

document.addEventListener("keydown", onKey);

// On a wide screen the filters are shown open; on a phone they stay folded until asked.
const WIDE = window.matchMedia("(min-width: 40rem)");
const filterBox = document.getElementById("filter-box");
if (filterBox && WIDE.matches) {
  filterBox.open = true;
}
