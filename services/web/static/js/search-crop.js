// Search by picture, a region of it: the picture is drawn on a canvas with the region over it; the region is
// drawn with the pointer, or set with four number inputs (left, top, width, height in % of the picture), so the
// keyboard does it as well. The region is what is uploaded: cut from the picture at its own pixels (at most
// MAX_SIDE a side) and encoded by canvas.toBlob; the whole picture is sent as the file it is.
import { byId } from "./dom.js";

const MAX_SIDE = 1600;
const INPUTS = { x: "crop-x", y: "crop-y", w: "crop-w", h: "crop-h" };
const crop = { bitmap: null, name: "", region: { x: 0, y: 0, w: 100, h: 100 } };

function clamp(region) {
  const x = Math.min(99, Math.max(0, Math.round(region.x)));
  const y = Math.min(99, Math.max(0, Math.round(region.y)));
  return { x, y, w: Math.min(100 - x, Math.max(1, Math.round(region.w))),
    h: Math.min(100 - y, Math.max(1, Math.round(region.h))) };
}

function draw() {
  const canvas = byId("crop-canvas");
  const { bitmap, region } = crop;
  if (!bitmap) return;
  const scale = Math.min(1, 480 / bitmap.width, 320 / bitmap.height);
  canvas.width = Math.max(1, Math.round(bitmap.width * scale));
  canvas.height = Math.max(1, Math.round(bitmap.height * scale));
  const ctx = canvas.getContext("2d");
  ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  const [x, y, w, h] = [region.x * canvas.width / 100, region.y * canvas.height / 100,
    region.w * canvas.width / 100, region.h * canvas.height / 100];
  ctx.fillStyle = "rgba(0, 0, 0, 0.55)"; // what is left out is dimmed
  ctx.fillRect(0, 0, canvas.width, y);
  ctx.fillRect(0, y + h, canvas.width, canvas.height - y - h);
  ctx.fillRect(0, y, x, h);
  ctx.fillRect(x + w, y, canvas.width - x - w, h);
  ctx.strokeStyle = "#ffffff";
  ctx.lineWidth = 2;
  ctx.strokeRect(x + 1, y + 1, Math.max(0, w - 2), Math.max(0, h - 2));
}

function setRegion(region) {
  crop.region = clamp(region);
  for (const [key, id] of Object.entries(INPUTS)) byId(id).value = crop.region[key];
  draw();
}

/** Show `file` to be cropped; resolves once it is drawn (the region: all of it). */
export async function showPicture(file) {
  crop.bitmap?.close?.();
  crop.bitmap = await createImageBitmap(file);
  crop.name = file.name;
  crop.file = file;
  setRegion({ x: 0, y: 0, w: 100, h: 100 });
}

export function isWhole() {
  const { x, y, w, h } = crop.region;
  return x === 0 && y === 0 && w === 100 && h === 100;
}

/** The file to search with: the picture itself, or its region as a JPEG the canvas made. */
export async function regionFile() {
  if (!crop.bitmap || isWhole()) return crop.file;
  const { bitmap, region } = crop;
  const sx = Math.round(bitmap.width * region.x / 100);
  const sy = Math.round(bitmap.height * region.y / 100);
  const sw = Math.max(1, Math.min(bitmap.width - sx, Math.round(bitmap.width * region.w / 100)));
  const sh = Math.max(1, Math.min(bitmap.height - sy, Math.round(bitmap.height * region.h / 100)));
  const scale = Math.min(1, MAX_SIDE / Math.max(sw, sh));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(sw * scale));
  canvas.height = Math.max(1, Math.round(sh * scale));
  canvas.getContext("2d").drawImage(bitmap, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
  return new File([blob], `region-of-${crop.name.replace(/\.\w+$/, "")}.jpg`, { type: "image/jpeg" });
}

export function forgetPicture() {
  crop.bitmap?.close?.();
  Object.assign(crop, { bitmap: null, file: null, name: "" });
}

/** Wire the inputs and the pointer; `onReady` is called when the region is chosen (the button, Enter). */
export function wireCrop(onReady) {
  for (const [key, id] of Object.entries(INPUTS)) {
    byId(id).addEventListener("input", (event) => {
      const value = Number.parseFloat(event.target.value);
      if (!Number.isNaN(value)) setRegion({ ...crop.region, [key]: value });
    });
    byId(id).addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        onReady();
      }
    });
  }
  byId("crop-whole").addEventListener("click", () => setRegion({ x: 0, y: 0, w: 100, h: 100 }));
  byId("crop-search").addEventListener("click", onReady);
  const canvas = byId("crop-canvas");
  let start = null;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return { x: (event.clientX - box.left) * 100 / box.width, y: (event.clientY - box.top) * 100 / box.height };
  };
  canvas.addEventListener("pointerdown", (event) => {
    start = at(event);
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!start) return;
    const p = at(event);
    setRegion({ x: Math.min(start.x, p.x), y: Math.min(start.y, p.y),
      w: Math.abs(p.x - start.x), h: Math.abs(p.y - start.y) });
  });
  canvas.addEventListener("pointerup", () => {
    start = null;
  });
}
