// Recordings and 3D models on the asset page: an HTML5 <audio> or <video> player with the poster (or the
// waveform), and <model-viewer> (Google's web component, from the project's own build, which bundles three.js)
// for a model's GLB; and the downloads of every media file's original and derivatives, per tier as for images.
//
// <video>, <audio> and <model-viewer> cannot send the caller's key, so each file is asked for with the key
// (`GET …/files/{n}/{name}?as=json`) and the short-lived URL the gateway answers is what the element loads.
// What the caller's tier does not include is said, with the tier it would need, instead of a player.
import { api, fetchBlob, showError } from "./api.js";
import { byId, clear, h, saveBlob } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { iiifPicture, picture as iiifImg } from "./images.js";

const MODEL_VIEWER = new URL("../build/model-viewer/model-viewer.min.js", import.meta.url).href;
const STYLES = new URL("../css/media.css", import.meta.url).href;
const PLAYED = new Set(["audio", "video", "model"]);
const EXTENSIONS = { "image/jpeg": ".jpg", "image/png": ".png", "video/mp4": ".mp4", "video/webm": ".webm",
  "audio/mp4": ".m4a", "audio/mpeg": ".mp3", "audio/ogg": ".ogg", "audio/webm": ".webm", "audio/wav": ".wav",
  "model/gltf-binary": ".glb", "text/plain": ".txt", "application/pdf": ".pdf" };
let modelViewer = null; // the import of <model-viewer>, started by the first model shown

/** The page's media styles, once: a stylesheet beside this module (same version, so cached like it). */
export function loadStyles() {
  if (!document.querySelector(`link[href="${STYLES}"]`)) document.head.append(h("link", { rel: "stylesheet", href: STYLES }));
}

function offered(asset, k, name) {
  return (asset.files || []).find((f) => f.file === k && f.name === name) || null;
}

function needed(media, name) {
  return name === "original" ? "original" : media.derivatives.find((d) => d.name === name)?.tier || null;
}

/** <model-viewer>'s bundle. three.js's meshopt decoder in it compiles its WebAssembly as the bundle loads; the
 * page's policy allows no WebAssembly ('wasm-unsafe-eval'), and the GLBs ingestion makes are never
 * meshopt-compressed, so that one refusal is expected: it is kept from surfacing as an uncaught error. */
function loadModelViewer() {
  window.addEventListener("unhandledrejection", (event) => {
    const reason = String(event.reason?.message || event.reason || "");
    if (reason.includes("WebAssembly") && reason.includes("Content Security Policy")) event.preventDefault();
  });
  return import(MODEL_VIEWER);
}

/** The short-lived URL of a delivery the caller may receive, asked with its key. */
async function playable(link) {
  const answer = await api(`${link.href}${link.href.includes("?") ? "&" : "?"}as=json`);
  return answer.href;
}

/** What the page calls a media file: its label, else its kind, numbered when the record has several of it. */
function kindName(media, all) {
  const kind = t(`media.kind.${media.media_type}`);
  const same = all.filter((m) => m.media_type === media.media_type);
  return media.label || (same.length > 1 ? `${kind} ${same.findIndex((m) => m.k === media.k) + 1}` : kind);
}

function facts(media) {
  const out = [media.format];
  if (media.duration_s) out.push(t("media.duration", { s: formatNumber(Math.round(media.duration_s * 10) / 10) }));
  if (media.width && media.height) out.push(`${formatNumber(media.width)} × ${formatNumber(media.height)}`);
  if (media.faces) out.push(t("media.faces", { n: formatNumber(media.faces) }));
  return out.join(" · ");
}

/** A hint in place of a player: the tier this would need, against the caller's. */
function notAtTier(asset, media, name) {
  const need = needed(media, name);
  return h("p", { class: "hint", "data-need": name }, need ? t("media.needsTier", { need: t(`tier.${need}`), tier: t(`tier.${asset.access.tier}`) })
    : t("media.noPlayable"));
}

async function fill(el, attribute, link) {
  el[attribute] = await playable(link);
}

function player(asset, media, error) {
  if (media.media_type === "model") {
    const glb = offered(asset, media.k, "glb");
    if (!glb) {
      // Below the GLB's tier its first rendered view may still be seen, as its thumbnail.
      const view = asset.access.tier !== "metadata" && asset.record.images.find((im) => im.of_media === media.id);
      const img = view && iiifImg(iiifPicture(view, 400), "");
      img?.setAttribute("data-picture", "");
      return h("div", {}, img, notAtTier(asset, media, "glb"));
    }
    modelViewer ??= loadModelViewer();
    const viewer = h("model-viewer", { "data-player": "alt", "camera-controls": true, "touch-action": "pan-y",
      "interaction-prompt": "none" });
    modelViewer.then(() => fill(viewer, "src", glb)).catch((e) => showError(error, e));
    return h("div", {}, viewer, h("p", { class: "hint", "data-i18n": "media.modelHint" }, t("media.modelHint")));
  }
  const video = media.media_type === "video";
  const rendition = offered(asset, media.k, "rendition") || offered(asset, media.k, "original");
  const picture = offered(asset, media.k, video ? "poster" : "waveform");
  if (!rendition) {
    // A lower tier may still have the poster or the waveform: shown, with what playing would need.
    const img = picture && h("img", { class: video ? "poster" : "waveform", "data-picture": "" });
    if (img) fill(img, "src", picture).catch(() => img.remove());
    return h("div", {}, img, notAtTier(asset, media, "rendition"));
  }
  const el = h(video ? "video" : "audio", { controls: true, preload: "metadata", "data-player": "aria-label" });
  fill(el, "src", rendition).catch((e) => showError(error, e));
  if (picture && video) fill(el, "poster", picture).catch(() => {});
  if (picture && !video) {
    const img = h("img", { class: "waveform", "data-picture": "" });
    fill(img, "src", picture).catch(() => img.remove());
    return h("div", {}, img, el);
  }
  return el;
}

function played(asset) {
  return asset.record.media_files.map((m, k) => ({ ...m, k })).filter((m) => PLAYED.has(m.media_type));
}

/** Every text of a media file's figure that names it, in the current language. */
function label(figure, asset, media, all) {
  const name = kindName(media, all);
  const el = figure.querySelector("[data-player]");
  el?.setAttribute(el.dataset.player, t(`media.player.${media.media_type}`, { name }));
  const pictureOf = { video: "media.posterOf", audio: "media.waveformOf", model: "media.viewOf" }[media.media_type];
  figure.querySelector("[data-picture]")?.setAttribute("alt", t(pictureOf, { name }));
  figure.querySelector("figcaption").replaceChildren(h("strong", {}, name), " ",
    h("span", { class: "hint" }, facts(media)));
  const hint = figure.querySelector("p[data-need]");
  if (hint) hint.replaceWith(notAtTier(asset, media, hint.dataset.need));
}

/** The players of the record's recordings and models into #media (hidden when it has none). */
export function renderMedia(asset) {
  const files = played(asset);
  byId("media").hidden = !files.length;
  const list = clear(byId("media-files"));
  for (const media of files) {
    const error = h("div", {});
    const figure = h("figure", { class: "media-file", "data-kind": media.media_type, "data-file": String(media.k) },
      h("div", { class: "player" }, player(asset, media, error)), h("figcaption", {}), error);
    label(figure, asset, media, files);
    list.append(figure);
  }
}

/** After a change of language: the players stay (and keep playing); what names them is said again. */
export function relabelMedia(asset) {
  const files = played(asset);
  for (const figure of byId("media-files").querySelectorAll("figure[data-file]")) {
    const media = files.find((m) => String(m.k) === figure.dataset.file);
    if (media) label(figure, asset, media, files);
  }
}

function fileName(asset, media, name, mime) {
  const original = name === "original" ? (media.path.match(/\.[A-Za-z0-9]+$/)?.[0] || "") : "";
  const ext = original || EXTENSIONS[mime] || "";
  return `${asset.record.object_id}-${media.k + 1}-${name}${ext}`.replace(/[^\w.\-\u4e00-\u9fff]+/g, "_");
}

async function download(asset, media, name, button) {
  const error = byId("download-error");
  showError(error, null);
  button.disabled = true;
  try {
    const blob = await fetchBlob(`/v1/assets/${encodeURIComponent(asset.asset_id)}/files/${media.k}/${name}`);
    saveBlob(blob, fileName(asset, media, name, blob.type || offered(asset, media.k, name)?.mime));
  } catch (e) {
    showError(error, e);
  } finally {
    button.disabled = false;
  }
}

/** Download buttons of every media file's original and derivatives: those the tier allows, and the others
 * (whose button asks the gateway and shows its reason and who would allow it). */
export function fileDownloads(asset) {
  const all = asset.record.media_files.map((m, k) => ({ ...m, k }));
  return all.flatMap((media) => [...media.derivatives.map((d) => d.name), "original"].map((name) => {
    const allowed = Boolean(offered(asset, media.k, name));
    const what = t("downloads.fileOf", { file: t(`file.${name}`), name: kindName(media, all) });
    const button = h("button", { type: "button", class: allowed ? "" : "secondary", "data-file": String(media.k),
      "data-name": name, "data-allowed": String(allowed) },
    allowed ? t("downloads.getFile", { what }) : t("downloads.refusedFile", { what }));
    button.addEventListener("click", () => download(asset, media, name, button));
    return h("li", {}, button);
  }));
}
