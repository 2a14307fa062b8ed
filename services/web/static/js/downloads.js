// The asset page's one download menu: every image at every tier (thumbnail, preview, original) and every media
// file's original and derivatives, each with what the file is — its format and pixel size, from the API's
// delivery answer (`media[]`: what the caller's tier allows). A tier the caller may not have is still listed:
// its button asks the gateway and shows the refusal, with the licence or grant that would allow it.
import { fetchBlob, showError } from "./api.js";
import { byId, clear, formatBytes, h, saveBlob } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { fileDownloads } from "./media.js";

const TIERS = ["thumbnail", "preview", "original"];
const FORMATS = { "image/jpeg": "JPEG", "image/png": "PNG", "image/tiff": "TIFF", "image/webp": "WebP",
  "image/gif": "GIF", "image/jp2": "JPEG 2000" };

/** A format people know by name: JPEG, TIFF… (else the media type's own subtype). */
export function formatName(mime) {
  return FORMATS[mime] || (mime || "").split("/").pop().toUpperCase();
}

function fileName(asset, image, tier) {
  const ext = tier === "original" ? (image.path.match(/\.[A-Za-z0-9]+$/)?.[0] || "") : ".jpg";
  return `${asset.record.object_id}-${tier}${ext}`.replace(/[^\w.\-\u4e00-\u9fff]+/g, "_");
}

/** Fetch one delivery with the caller's key: the file (through the gateway's redirect to S3), or the refusal. */
async function download(asset, n, tier, button) {
  const error = byId("download-error");
  showError(error, null);
  button.disabled = true;
  try {
    const blob = await fetchBlob(`/v1/assets/${encodeURIComponent(asset.asset_id)}/media/${n}/${tier}`);
    saveBlob(blob, fileName(asset, asset.record.images[n], tier));
  } catch (e) {
    showError(error, e);
  } finally {
    button.disabled = false;
  }
}

/** What the file of a delivery is: "JPEG · 1,600 × 1,200 px" (and the original's size in bytes). */
function facts(link, image) {
  const out = [formatName(link.mime), t("downloads.pixels", { w: formatNumber(link.width), h: formatNumber(link.height) })];
  if (link.tier === "original" && image.size_bytes) out.push(formatBytes(image.size_bytes));
  return out.join(" · ");
}

function imageEntry(asset, n, tier, several) {
  const link = asset.media.find((m) => m.image === n && m.tier === tier);
  const which = several ? t("downloads.image", { n: n + 1 }) : "";
  const name = t(`tier.${tier}`);
  const button = h("button", { type: "button", class: link ? "" : "secondary", "data-tier": tier, "data-image": String(n),
    "data-allowed": String(Boolean(link)) },
  link ? [t("downloads.get", { tier: name, which }), " ", h("span", { class: "facts" }, facts(link, asset.record.images[n]))]
    : t("downloads.refused", { tier: name, which }));
  button.addEventListener("click", () => download(asset, n, tier, button));
  return h("li", {}, button);
}

/** The menu's entries into #downloads, and its summary saying how many files the caller may download. */
export function renderDownloads(asset) {
  const images = asset.record.images;
  const uploaded = images.map((image, n) => [n, image]).filter(([, image]) => !image.of_media);
  const entries = [...uploaded.flatMap(([n]) => TIERS.map((tier) => imageEntry(asset, n, tier, uploaded.length > 1))),
    ...fileDownloads(asset)];
  const body = clear(byId("downloads"));
  const allowed = entries.filter((li) => li.querySelector("button")?.dataset.allowed === "true").length;
  const summary = byId("download-menu").querySelector("summary");
  summary.textContent = t("downloads.menu");
  if (!entries.length) {
    body.append(h("p", { class: "hint" }, t("downloads.noImages")));
    return;
  }
  summary.append(" ", h("span", { class: "count" }, t("downloads.count", { n: formatNumber(allowed) })));
  body.append(h("p", { class: "hint" }, t("downloads.hint", { tier: t(`tier.${asset.access.tier}`) })),
    h("ul", { class: "downloads" }, entries));
}

/** The menu closes with Escape (focus back on its summary when it was in the menu, or lost), as menus do. */
export function wireDownloads() {
  const menu = byId("download-menu");
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !menu.open) return;
    const lost = !document.activeElement || document.activeElement === document.body;
    menu.open = false;
    if (lost || menu.contains(document.activeElement)) menu.querySelector("summary").focus();
  });
}
