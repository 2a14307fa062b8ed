// Pictures through the IIIF Image API (same origin, capped by the caller's tier on the server). A page
// without a key lets the browser load them (lazily); a signed-in page fetches them with its key, since an
// <img> cannot send one, and shows the bytes from a blob: URL.
import { authHeaders, session } from "./api.js";
import { h } from "./dom.js";

export function iiifBase(image) {
  return `/iiif/3/${encodeURIComponent(image.id)}`;
}

/** A picture of at most `px` on its longer side (never an upscale: smaller images come at their size). */
export function iiifPicture(image, px = 400) {
  const size = Math.max(image.width, image.height) > px ? `!${px},${px}` : "max";
  return `${iiifBase(image)}/full/${size}/0/default.jpg`;
}

/** The size iiifPicture(image, px) comes at (as the service fits it: never enlarged), for width and height
 * attributes that keep the page from jumping as pictures arrive. */
export function fittedSize(image, px = 400) {
  const [w, h] = ["5", "6", "7", "8"].includes(image.exif?.Orientation) ? [image.height, image.width] : [image.width, image.height];
  const scale = Math.min(1, px / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/** picture() of an image through IIIF at most `px` on its longer side, with its width and height. */
export function sizedPicture(image, px, alt, fallback = null) {
  const img = picture(iiifPicture(image, px), alt, fallback);
  const { width, height } = fittedSize(image, px);
  img.width = width;
  img.height = height;
  return img;
}

const observer = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
  for (const entry of entries) {
    if (entry.isIntersecting) {
      observer.unobserve(entry.target);
      fetchInto(entry.target, entry.target.dataset.src);
    }
  }
}, { rootMargin: "200px" }) : null;

function unavailable(img) {
  img.replaceWith(h("span", { class: "noimage" }, img.alt));
}

async function fetchInto(img, url) {
  try {
    const resp = await fetch(url, { headers: authHeaders() });
    if (!resp.ok) throw new Error(String(resp.status));
    img.src = URL.createObjectURL(await resp.blob());
    img.addEventListener("load", () => URL.revokeObjectURL(img.src), { once: true });
  } catch {
    if (img.dataset.fallback) {
      const fallback = img.dataset.fallback;
      delete img.dataset.fallback;
      fetchInto(img, fallback);
    } else {
      unavailable(img);
    }
  }
}

/** An <img> of `url` (else of `fallback`) with alternative text `alt`, loaded as the caller may. */
export function picture(url, alt, fallback = null) {
  const img = h("img", { alt, decoding: "async" });
  if (fallback) img.dataset.fallback = fallback;
  if (!session.key) {
    img.loading = "lazy";
    img.addEventListener("error", () => {
      if (img.dataset.fallback) {
        img.src = img.dataset.fallback;
        delete img.dataset.fallback;
      } else {
        unavailable(img);
      }
    });
    img.src = url;
  } else if (observer) {
    img.dataset.src = url;
    observer.observe(img);
  } else {
    fetchInto(img, url);
  }
  return img;
}
