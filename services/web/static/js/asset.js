// One asset: a zoomable image over the IIIF Image API (OpenSeadragon, from the project's own build) that goes
// full screen with its controls, right under it the licence, credit line, download menu, share link and IIIF
// links (reuse.js, downloads.js), the record in Chinese and English, AI labels marked as such, similar items and
// the same object held elsewhere. A document's pages open in the same viewer, with the page list and the page's
// text beside it (pages.js); recordings and 3D models have their players (media.js).
import { api, authHeaders, fetchBlob, session, showError } from "./api.js";
import { byId, clear, h } from "./dom.js";
import { renderDownloads, wireDownloads } from "./downloads.js";
import { conceptName, departmentName, formatNumber, formatYear, institutionName, regionName, t } from "./i18n.js";
import { iiifBase, sizedPicture } from "./images.js";
import { canDecide, renderLabels } from "./labels.js";
import { loadStyles, relabelMedia, renderMedia } from "./media.js";
import { renderPages, renderPageText, viewable as inViewer } from "./pages.js";
import { renderReuse, resayReuse, wireReuse } from "./reuse.js";
import { assetCard, initPage, recordTitle } from "./shell.js";

const assetId = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() || "");
let asset = null;
let similar = null;
let viewer = null;
let info = null; // info.json of the image in the viewer
let shown = null; // … and its position in the record

function field(key, value, valueLang) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return [];
  return [h("dt", {}, t(`field.${key}`)), h("dd", { lang: valueLang || null }, Array.isArray(value) ? value.join("、") : value)];
}

function renderRecord() {
  const r = asset.record;
  const title = recordTitle(r);
  const heading = byId("title");
  heading.textContent = title.text;
  heading.lang = title.lang || "";
  const other = title.lang === "zh" ? r.title_en : title.lang === "en" ? r.title_zh : null;
  byId("subtitle").textContent = other || "";
  byId("subtitle").lang = title.lang === "zh" ? "en" : "zh";
  const years = r.period_norm?.parsed && r.period_norm.start !== null
    ? `${formatYear(r.period_norm.start)} – ${r.period_norm.end === null ? "" : formatYear(r.period_norm.end)}` : null;
  clear(byId("record")).append(
    ...field("objectId", r.object_id),
    ...field("institution", institutionName(r.institution).text),
    ...field("department", r.department && departmentName(r.institution, r.department).text),
    ...field("region", r.region && regionName(r.region).text),
    ...field("category", [...r.category_ids.map(conceptName), r.category && !r.category_ids.length ? r.category : null]
      .filter(Boolean)),
    ...field("period", [r.period, r.date].filter(Boolean).join(" · ")),
    ...field("years", years),
    ...field("materials", r.materials),
    ...field("materialIds", r.material_ids.map(conceptName)),
    ...field("dimensions", r.dimensions),
    ...field("creator", r.creator),
    ...field("originalTitle", r.original_title, "zh"),
    ...field("descriptionZh", r.description_zh, "zh"),
    ...field("descriptionEn", r.description_en, "en"),
    ...field("provenance", r.provenance),
    ...field("acquisition", r.acquisition),
    ...field("grade", r.grade),
    ...field("quantity", r.quantity),
    ...field("condition", r.condition),
  );
}

function renderAi() {
  const ai = asset.ai;
  byId("ai-panel").hidden = !ai;
  if (!ai) return;
  renderLabels(byId("ai-labels"), asset.asset_id, ai.labels, { decide: canDecide(asset.record.institution) });
  clear(byId("ocr"));
  if (ai.ocr_text) {
    byId("ocr").append(h("h3", {}, t("ai.ocr"), " ", h("span", { class: "badge ai" }, t("ai.badge"))),
      h("details", { class: "model hint" }, h("summary", {}, t("ai.modelSummary")),
        t("ai.ocrModel", { model: ai.models.ocr || "" })),
      h("p", { lang: "zh", class: "attribution" }, ai.ocr_text));
  }
}

function renderHeld() {
  const held = asset.also_held_by;
  byId("held-panel").hidden = !held.length;
  clear(byId("held")).append(...held.map((d) => h("li", {},
    h("a", { href: `/assets/${encodeURIComponent(d.asset_id)}` }, d.title || d.object_id), " ",
    h("span", { class: "hint" }, t("held.detail", { institution: institutionName(d.institution).text, object: d.object_id,
      similarity: formatNumber(Math.round(d.similarity * 100)) })))));
}

function renderSimilar() {
  for (const kind of ["image", "text"]) {
    const list = clear(byId(`similar-${kind}`));
    const items = similar?.[kind] || [];
    list.append(...(items.length ? items.slice(0, 6).map((n) => assetCard(n)) : [h("li", { class: "hint" }, t("similar.none"))]));
  }
}

/** info.json as the caller's tier has it. OpenSeadragon does not honour maxWidth/maxHeight, so a capped
 * tier is shown from the sizes the service offers (a pyramid of whole images), never from tiles beyond it. */
function viewable(info) {
  if (info.maxWidth < info.width || info.maxHeight < info.height) {
    const { tiles: _tiles, ...rest } = info;
    return { ...rest, profile: "level0" };
  }
  return info;
}

async function openImage(n) {
  shown = n;
  const note = byId("viewer-note");
  const box = byId("viewer");
  for (const button of byId("images").querySelectorAll("button")) button.setAttribute("aria-pressed", String(button.dataset.n === String(n)));
  renderPages(byId("pages"), asset.record, n, openImage);
  renderPageText(asset.record, n);
  try {
    info = await api(`${iiifBase(asset.record.images[n])}/info.json`);
    box.hidden = false;
    byId("viewer-tools").hidden = false;
    viewerNote();
    const source = viewable(info);
    if (viewer) {
      viewer.open(source);
      return;
    }
    viewer = makeViewer(source);
    viewer.addHandler("open-failed", () => { note.textContent = t("viewer.failed"); });
  } catch (error) {
    const media = error.status === 404 && largestDerivative(n);
    if (media) {
      await openFile(n, media);
      return;
    }
    box.hidden = true;
    byId("viewer-tools").hidden = true;
    showError(note, error);
  }
}

/** Records stored before images had IIIF ids have no image service: the viewer shows a delivered file. */
function largestDerivative(n) {
  return ["preview", "thumbnail"].map((tier) => asset.media.find((m) => m.image === n && m.tier === tier))
    .find(Boolean);
}

async function openFile(n, media) {
  info = null;
  const url = session.key ? URL.createObjectURL(await fetchBlob(media.href)) : media.href;
  const source = { type: "image", url, crossOriginPolicy: "Anonymous" };
  byId("viewer").hidden = false;
  byId("viewer-tools").hidden = false;
  byId("viewer-note").textContent = t("viewer.fromFile", { tier: t(`tier.${media.tier}`) });
  if (viewer) viewer.open(source);
  else viewer = makeViewer(source);
}

function makeViewer(source) {
  return window.OpenSeadragon({
    element: byId("viewer"), tileSources: source, prefixUrl: "/static/build/openseadragon/images/",
    showNavigationControl: false, drawer: "canvas", crossOriginPolicy: "Anonymous",
    loadTilesWithAjax: Boolean(session.key), ajaxHeaders: authHeaders(),
    gestureSettingsMouse: { clickToZoom: false }, visibilityRatio: 0.5, maxZoomPixelRatio: 2,
  });
}

function viewerNote() {
  if (info) {
    byId("viewer-note").textContent = t("viewer.note", { w: formatNumber(info.maxWidth), h: formatNumber(info.maxHeight),
      tier: t(`tier.${asset.access.tier}`) });
  }
}

function renderImages() {
  const record = asset.record;
  const images = record.images;
  const uploaded = images.map((image, n) => [n, image]).filter(([, image]) => !image.of_media);
  const strip = clear(byId("images"));
  shown ??= images.findIndex((_, n) => inViewer(record, n));
  if (shown < 0 || asset.access.tier === "metadata") {
    byId("viewer").hidden = true;
    byId("viewer-tools").hidden = true;
    const note = shown >= 0 ? t("viewer.noTier", { basis: asset.access.basis }) : record.media_files.length ? "" : t("viewer.none");
    byId("viewer-note").textContent = note;
    // Without pictures a document's pages still have their text, as the record does.
    const textOnly = (n) => {
      shown = n;
      renderPages(byId("pages"), record, n, textOnly);
      renderPageText(record, n);
    };
    if (shown >= 0) textOnly(shown);
    else shown = null;
    return;
  }
  if (uploaded.length > 1 || (uploaded.length && uploaded.length < images.filter((_, n) => inViewer(record, n)).length)) {
    uploaded.forEach(([n, image]) => {
      strip.append(h("button", { type: "button", "data-n": String(n), "aria-pressed": String(n === shown),
        onclick: () => openImage(n) }, sizedPicture(image, 120, image.label || t("viewer.imageN", { n: n + 1 }))));
    });
  }
  openImage(shown);
}

function wireViewer() {
  const zoom = (factor) => {
    if (!viewer?.viewport) return;
    viewer.viewport.zoomBy(factor);
    viewer.viewport.applyConstraints();
  };
  byId("zoom-in").addEventListener("click", () => zoom(1.6));
  byId("zoom-out").addEventListener("click", () => zoom(1 / 1.6));
  byId("zoom-home").addEventListener("click", () => viewer?.viewport?.goHome());
  // The frame (controls and image) goes full screen, so the controls stay there with it; Escape leaves.
  byId("full-page").addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else byId("viewer-frame").requestFullscreen?.().catch((error) => showError(byId("viewer-note"), error));
  });
  document.addEventListener("fullscreenchange", fullScreenLabel);
  wireReuse(() => asset);
  wireDownloads();
}

function fullScreenLabel() {
  const on = document.fullscreenElement === byId("viewer-frame");
  const button = byId("full-page");
  button.textContent = t(on ? "viewer.exitFullPage" : "viewer.fullPage");
  button.dataset.i18n = on ? "viewer.exitFullPage" : "viewer.fullPage";
}

function renderText() {
  renderRecord();
  renderAi();
  renderReuse(asset);
  renderDownloads(asset);
  renderHeld();
  renderSimilar();
}

async function load() {
  try {
    asset = await api(`/v1/assets/${encodeURIComponent(assetId)}`);
  } catch (error) {
    byId("status").textContent = "";
    showError(byId("error"), error);
    return;
  }
  byId("status").textContent = "";
  byId("status").removeAttribute("data-i18n");
  byId("asset").hidden = false;
  document.title = `${recordTitle(asset.record).text} · 文渊 Wenyuan`;
  renderText();
  renderImages();
  renderMedia(asset);
  try {
    similar = await api(`/v1/assets/${encodeURIComponent(assetId)}/similar?size=6`);
  } catch {
    similar = { image: [], text: [] };
  }
  renderSimilar();
}

initPage("title.asset");
loadStyles();
wireViewer();
document.addEventListener("langchange", () => {
  if (!asset) return;
  renderText();
  document.title = `${recordTitle(asset.record).text} · 文渊 Wenyuan`;
  if (info) viewerNote();
  else renderImages();
  if (info && shown !== null) {
    renderPages(byId("pages"), asset.record, shown, openImage);
    renderPageText(asset.record, shown);
  }
  relabelMedia(asset);
  resayReuse(asset);
});
load();
