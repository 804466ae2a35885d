/* Photos are made smaller on the phone before they are stored: upright (EXIF
 * orientation applied), long edge at most 1600 px, JPEG at quality 0.8. */

export const MAX_EDGE = 1600;
export const JPEG_QUALITY = 0.8;
export const MAX_PHOTOS = 3;

/** Decode a picked file upright; older browsers fall back to an <img>. */
async function decode(file) {
  if ("createImageBitmap" in self) {
    try {
      return await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (error) {
      console.warn("createImageBitmap failed, trying <img>", error);
    }
  }
  const url = URL.createObjectURL(file);
  try {
    const image = new Image();
    image.src = url;
    await image.decode();
    return image;
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** The size that keeps the aspect ratio with the long edge at most MAX_EDGE. */
export function fitWithin(width, height, maxEdge = MAX_EDGE) {
  const scale = Math.min(1, maxEdge / Math.max(width, height));
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

/** A downscaled JPEG of `file` as {data: ArrayBuffer, type, width, height}. */
export async function downscale(file) {
  const source = await decode(file);
  const width = source.width || source.naturalWidth;
  const height = source.height || source.naturalHeight;
  const size = fitWithin(width, height);
  const canvas = document.createElement("canvas");
  canvas.width = size.width;
  canvas.height = size.height;
  const context = canvas.getContext("2d");
  context.drawImage(source, 0, 0, size.width, size.height);
  if (typeof source.close === "function") {
    source.close();
  }
  const blob = await new Promise((resolve, reject) =>
    canvas.toBlob(
      (result) => (result ? resolve(result) : reject(new Error("encoding failed"))),
      "image/jpeg",
      JPEG_QUALITY,
    ),
  );
  return {
    data: await blob.arrayBuffer(),
    type: "image/jpeg",
    width: size.width,
    height: size.height,
  };
}
