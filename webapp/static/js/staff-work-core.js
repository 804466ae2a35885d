/* My work, the parts with no browser in them: the route order, what a queued action
 * changes on the phone's copy, and how old a copy is. Imported by staff-work.js. */

const EARTH_RADIUS_M = 6371000;

export function distanceM(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLong = (b.long - a.long) * rad;
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLong / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.sqrt(h));
}

function located(item) {
  return typeof item.lat === "number" && typeof item.long === "number";
}

/* Greedy nearest-neighbour tour: from `start` go to the nearest stop, then the nearest
 * to that one, and so on; stops with no location keep their order at the end. Without
 * a start the tour begins at the first located stop (the soonest due). The server's
 * crew_work.route is the same rule. */
export function nearestNextOrder(items, start) {
  const left = items.filter(located);
  const unplaced = items.filter((item) => !located(item));
  const order = [];
  let here = start || left[0];
  while (left.length) {
    let best = 0;
    for (let i = 1; i < left.length; i += 1) {
      if (distanceM(here, left[i]) < distanceM(here, left[best])) {
        best = i;
      }
    }
    const [next] = left.splice(best, 1);
    order.push(next);
    here = next;
  }
  return [...order, ...unplaced];
}

/* The request as the crew sees it: the saved copy with their own queued actions on top
 * (a queued close shows the request closed, a reassign shows the new assignee). */
export function withPending(card, actions) {
  const shown = { ...card, history: [...(card.history || [])] };
  for (const action of actions) {
    if (action.request !== card.public_id || action.state === "conflict") {
      continue;
    }
    if (action.kind === "acknowledge" && shown.status === "submitted") {
      shown.status = "acknowledged";
    } else if (action.kind === "close") {
      shown.closed = true;
    } else if (action.kind === "reassign") {
      shown.assignee_id = Number(action.assignee_id);
    }
  }
  return shown;
}

/* What the server must compare against: the request as the crew saw it when queuing. */
export function seenState(shown) {
  return {
    seen_closed: shown.closed ? "1" : "0",
    seen_assignee_id: shown.assignee_id == null ? "" : String(shown.assignee_id),
  };
}

/* "5 min", "3 h", "2 d": how long ago a copy was saved. */
export function ageWords(savedAtMs, nowMs) {
  const minutes = Math.max(0, Math.round((nowMs - savedAtMs) / 60000));
  if (minutes < 60) {
    return `${minutes} min`;
  }
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

/* Actions in the order they were queued (their autoincrement sequence). */
export function inOrder(actions) {
  return [...actions].sort((a, b) => a.seq - b.seq);
}
