// A document's pages on the asset page: each page is an image of the asset (`images[n]` with `of_media` the
// document's id and `page` its number), so the page viewer is the page's deep zoom in the same OpenSeadragon
// viewer as any image. Here: the list of a document's pages (with previous and next), and the text of the
// page in view beside the viewer — from the document's own text layer, or read by OCR, which is marked as
// machine-made.
import { byId, clear, h } from "./dom.js";
import { formatNumber, t } from "./i18n.js";

/** The documents of the record, each with its pages as [position in images, image], in page order. */
export function documents(record) {
  return record.media_files.map((media, k) => ({ k, media, pages: record.images
    .map((image, n) => [n, image])
    .filter(([, image]) => image.of_media === media.id)
    .sort(([a, x], [b, y]) => (x.page ?? 0) - (y.page ?? 0) || a - b) }))
    .filter((doc) => doc.media.media_type === "document");
}

/** Whether images[n] is something the viewer shows: an uploaded image or a document's page (not a keyframe
 * or a 3D model's rendered view, which the players stand for). */
export function viewable(record, n) {
  const of = record.images[n]?.of_media;
  return Boolean(record.images[n]) && (!of || record.media_files.some((m) => m.id === of && m.media_type === "document"));
}

function documentName(doc, docs) {
  return doc.media.label || (docs.length > 1 ? t("pages.documentN", { n: docs.indexOf(doc) + 1 }) : t("pages.document"));
}

/** The page lists of every document into `container`; `open(n)` shows images[n]; `shown` is the one in view. */
export function renderPages(container, record, shown, open) {
  const docs = documents(record);
  clear(container).hidden = !docs.length;
  for (const doc of docs) {
    if (!doc.pages.length) continue;
    const name = documentName(doc, docs);
    const at = doc.pages.findIndex(([n]) => n === shown);
    const step = (by) => open(doc.pages[Math.min(Math.max(at + by, 0), doc.pages.length - 1)][0]);
    container.append(h("nav", { class: "pages", "aria-label": t("pages.listOf", { name }) },
      h("h3", {}, name, " ", h("span", { class: "hint" }, t("pages.count", { n: formatNumber(doc.pages.length),
        format: doc.media.format }))),
      h("div", { class: "row" },
        h("button", { type: "button", class: "secondary", disabled: at <= 0, onclick: () => step(-1) }, t("pages.previous")),
        h("button", { type: "button", class: "secondary", disabled: at < 0 || at >= doc.pages.length - 1,
          onclick: () => step(at < 0 ? 0 : 1) }, t("pages.next"))),
      h("ol", { class: "page-list" }, doc.pages.map(([n, image]) => h("li", {},
        h("button", { type: "button", class: "secondary", "data-n": String(n), "aria-pressed": String(n === shown),
          "aria-label": t("pages.pageOf", { page: image.page, name }), onclick: () => open(n) },
          String(image.page ?? n + 1)))))));
  }
}

/** The text of images[n] beside the viewer when it is a document's page; hidden otherwise. */
export function renderPageText(record, n) {
  const box = byId("page-text");
  const image = record.images[n];
  const isPage = Boolean(image?.of_media) && viewable(record, n);
  byId("viewer-layout").classList.toggle("with-text", isPage);
  clear(box).hidden = !isPage;
  if (!isPage) return;
  const ocr = image.text_source === "ocr";
  box.append(h("h3", { id: "page-text-heading" }, t("pages.textOf", { page: image.page ?? n + 1 }),
    ocr ? [" ", h("span", { class: "badge ai" }, t("ai.badge"))] : null),
  h("p", { class: "hint" }, t(ocr ? "pages.fromOcr" : image.text ? "pages.fromLayer" : "pages.noText")),
  image.text ? h("div", { class: "page-text-body", tabindex: "0", role: "region",
    "aria-labelledby": "page-text-heading" }, image.text) : null);
}
