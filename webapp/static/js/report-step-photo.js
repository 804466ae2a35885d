/* Step: photos. Each picked photo is made smaller on the phone and shown as a preview. */

import { byId, changed, state, t } from "./report-context.js";
import { downscale, MAX_PHOTOS } from "./report-photos.js";

/** An object URL for a stored photo (made once, kept on the photo). */
export function photoUrl(photo) {
  if (!photo.url) {
    photo.url = URL.createObjectURL(new Blob([photo.data], { type: photo.type }));
  }
  return photo.url;
}

export function renderPhotos() {
  const list = byId("photo-previews");
  const items = state.photos.map((photo, index) => {
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.src = photoUrl(photo);
    img.alt = t("photoAlt", { n: index + 1 });
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "button photo-remove";
    remove.textContent = "✕";
    remove.setAttribute("aria-label", t("removePhoto", { n: index + 1 }));
    remove.addEventListener("click", () => {
      URL.revokeObjectURL(photo.url);
      state.photos.splice(index, 1);
      renderPhotos();
      changed();
    });
    li.append(img, remove);
    return li;
  });
  list.replaceChildren(...items);
  const full = state.photos.length >= MAX_PHOTOS;
  byId("photo-input").disabled = full;
  byId("photo-button-label").textContent = state.photos.length ? t("addAnotherPhoto") : t("takePhoto");
}

async function addPhotos(files) {
  const message = byId("photo-message");
  message.textContent = "";
  for (const file of files) {
    if (state.photos.length >= MAX_PHOTOS) {
      message.textContent = t("photoLimit");
      break;
    }
    try {
      state.photos.push(await downscale(file));
    } catch (error) {
      message.textContent = t("photoFailed");
    }
  }
  renderPhotos();
  changed();
}

export function loadPhotos(photos) {
  forgetPhotos();
  state.photos = (photos || []).map((photo) => ({ data: photo.data, type: photo.type }));
  renderPhotos();
}

export function forgetPhotos() {
  state.photos.forEach((photo) => photo.url && URL.revokeObjectURL(photo.url));
  state.photos = [];
}

/** The photos as the outbox stores them. */
export function photoRecords() {
  return state.photos.map((photo) => ({ data: photo.data, type: photo.type }));
}

export function wirePhotoStep() {
  byId("photo-input").addEventListener("change", (event) => {
    const files = Array.from(event.target.files || []);
    event.target.value = "";
    state.pending = addPhotos(files);
  });
}
