/* Knowledge answers on the device: one cached copy of every published answer
 * (GET /api/v1/answers, kept by the service worker), searched locally when offline. */

const TERM_PATTERN = /[\p{L}\p{N}]+/gu;

/* Every published answer, from the network or, offline, the service worker's last copy. */
export async function loadAnswers(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    throw new Error(`answers: ${response.status}`);
  }
  const body = await response.json();
  return body.data || [];
}

function terms(text) {
  return (text || "").toLowerCase().match(TERM_PATTERN) || [];
}

/* Answers holding every word of the query as a word prefix, titles first. */
export function searchLocally(answers, query) {
  const wanted = terms(query);
  if (!wanted.length) {
    return answers.slice();
  }
  const scored = [];
  for (const answer of answers) {
    const title = terms(answer.title);
    const rest = terms(`${answer.summary} ${answer.body} ${(answer.topics || []).join(" ")}`);
    const all = title.concat(rest);
    if (!wanted.every((w) => all.some((t) => t.startsWith(w)))) {
      continue;
    }
    const score = wanted.filter((w) => title.some((t) => t.startsWith(w))).length;
    scored.push({ answer, score });
  }
  scored.sort((a, b) => b.score - a.score || a.answer.title.localeCompare(b.answer.title));
  return scored.map((item) => item.answer);
}

/* The answers linked to a service, in title order. */
export function answersForService(answers, serviceCode) {
  return answers
    .filter((a) => (a.service_codes || []).includes(serviceCode))
    .sort((a, b) => a.title.localeCompare(b.title));
}
