/* How this phone's resident last chose to hear the outcome of a request they follow:
 * on this phone (push) or by e-mail, and the address. Remembered on the device only, so
 * the next "Follow it instead" or "Me too" offers the same choice already filled in. */

const KEY = "civic311.notify-choice";

/** The remembered choice: { push: boolean, email: string }. */
export function rememberedChoice() {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || "null");
    return {
      push: Boolean(saved && saved.push),
      email: saved && typeof saved.email === "string" ? saved.email : "",
    };
  } catch (error) {
    return { push: false, email: "" };
  }
}

/** Keep what the resident chose for the next time. */
export function rememberChoice({ push, email }) {
  try {
    localStorage.setItem(KEY, JSON.stringify({ push: Boolean(push), email: email || "" }));
  } catch (error) {
    console.warn("could not remember the notification choice", error);
  }
}
