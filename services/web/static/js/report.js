// A batch's report in the console: one line per item (row, status, errors), the CSV, and the review of the AI
// labels of its items — each reviewed object with its thumbnail and title, its labels decided one by one, all at
// once for the object, or every suggested label of the batch at once (after saying how many, and of which
// objects). Keyboard shortcuts of the review are in labels.js and listed on the page.
import { api, fetchBlob, showError } from "./api.js";
import { byId, clear, h, saveBlob } from "./dom.js";
import { formatNumber, t } from "./i18n.js";
import { sizedPicture } from "./images.js";
import { canDecide, decideLabel, renderLabels } from "./labels.js";
import { recordTitle } from "./shell.js";
import { pool } from "./upload.js";

const COUNTS = ["received", "valid", "rejected", "stored", "indexed"];
const REPORT_ROWS = 500;
let report = null;
let pending = null; // the batch's suggested labels, counted and waiting for the curator's confirmation
const open = new Set(); // the objects whose review is open: open again when the report is drawn again

export async function showReport(batchId) {
  const panel = byId("report-panel");
  panel.hidden = false;
  byId("report-batch").textContent = batchId;
  showError(byId("report-error"), null);
  clear(byId("report").tBodies[0]);
  report = null;
  open.clear();
  cancelAll();
  byId("report-summary").textContent = t("report.loading");
  try {
    report = await api(`/v1/batches/${encodeURIComponent(batchId)}/report`);
  } catch (error) {
    byId("report-summary").textContent = "";
    showError(byId("report-error"), error);
    return;
  }
  renderReport();
  panel.focus();
}

function reviewed(items) {
  return items.slice(0, REPORT_ROWS).filter((item) => item.asset_id && item.status === "indexed");
}

export function renderReport() {
  if (!report) return;
  const { batch, items } = report;
  byId("report-summary").textContent = t("report.summary", { state: t(`state.${batch.state}`),
    ...Object.fromEntries(COUNTS.map((c) => [c, formatNumber(batch.counts[c])])) })
    + (items.length > REPORT_ROWS ? ` ${t("report.firstRows", { n: formatNumber(REPORT_ROWS) })}` : "");
  byId("review-tools").hidden = !reviewed(items).length;
  const body = clear(byId("report").tBodies[0]);
  for (const item of items.slice(0, REPORT_ROWS)) {
    const labelsCell = h("td", { "data-review": item.asset_id || "" });
    if (item.asset_id && item.status === "indexed") {
      // The visible text, then who it is for: the button's name begins with what it shows (WCAG 2.5.3).
      labelsCell.append(h("button", { type: "button", class: "secondary", onclick: () => reviewLabels(item.asset_id, labelsCell) },
        t("report.review"), h("span", { class: "visually-hidden" }, t("report.reviewWhich", { object: item.object_id || item.asset_id }))));
    }
    body.append(h("tr", { "data-status": item.status },
      h("td", { class: "num" }, item.row ?? "–"),
      h("td", {}, item.asset_id && item.status === "indexed"
        ? h("a", { href: `/assets/${encodeURIComponent(item.asset_id)}` }, item.object_id || item.asset_id)
        : item.object_id || (item.paths || []).join(", ")),
      h("td", { class: item.status === "indexed" ? "state-succeeded" : item.errors?.length ? "state-failed" : "" },
        t(`item.${item.status}`)),
      h("td", {}, item.errors?.length ? h("ul", {}, item.errors.map((e) =>
        h("li", {}, e.field ? h("code", {}, e.field) : null, e.field ? ": " : null, e.reason, " ",
          h("span", { class: "hint" }, `(${e.code})`)))) : ""),
      labelsCell));
    if (open.has(item.asset_id)) reviewLabels(item.asset_id, labelsCell, { focus: false });
  }
}

/** The object a review is of: its thumbnail (when the tier gives one) and its title, linked to its page. */
function objectHeader(asset) {
  const title = recordTitle(asset.record);
  const image = asset.record.images.find((im) => !im.of_media) || asset.record.images[0];
  const thumb = image?.id && asset.media.some((m) => m.tier === "thumbnail") ? sizedPicture(image, 96, title.text) : null;
  return h("div", { class: "review-object" }, thumb,
    h("a", { href: `/assets/${encodeURIComponent(asset.asset_id)}`, lang: title.lang || null }, title.text));
}

async function reviewLabels(assetId, cell, { focus = true } = {}) {
  open.add(assetId);
  clear(cell).append(t("report.loading"));
  try {
    const asset = await api(`/v1/assets/${encodeURIComponent(assetId)}`);
    const labels = h("div");
    clear(cell).append(objectHeader(asset), labels);
    renderLabels(labels, assetId, asset.ai?.labels || [], { decide: canDecide(asset.record.institution) });
    if (focus) labels.querySelector("li[data-label]")?.focus();
  } catch (error) {
    showError(clear(cell), error);
  }
}

function cancelAll() {
  pending = null;
  byId("accept-all-confirm").hidden = true;
  byId("accept-all").hidden = false;
}

/** First step of "accept all": read the batch's objects and say how many suggested labels of how many objects. */
async function countSuggested() {
  const status = byId("review-status");
  showError(byId("report-error"), null);
  status.textContent = t("review.counting");
  const found = [];
  try {
    await pool(reviewed(report.items), 4, async (item) => {
      const asset = await api(`/v1/assets/${encodeURIComponent(item.asset_id)}`);
      const labels = (asset.ai?.labels || []).filter((l) => l.status === "suggested");
      if (labels.length && canDecide(asset.record.institution)) found.push({ item, labels });
    });
  } catch (error) {
    status.textContent = "";
    showError(byId("report-error"), error);
    return;
  }
  const n = found.reduce((sum, f) => sum + f.labels.length, 0);
  if (!n) {
    status.textContent = t("review.nothing");
    return;
  }
  pending = found;
  status.textContent = "";
  byId("accept-all").hidden = true;
  byId("accept-all-question").textContent = t("review.confirm", { n: formatNumber(n), objects: formatNumber(found.length) });
  byId("accept-all-confirm").hidden = false;
  byId("accept-all-yes").focus();
}

async function acceptAll() {
  const chosen = pending;
  cancelAll();
  if (!chosen) return;
  const status = byId("review-status");
  let done = 0;
  try {
    await pool(chosen, 2, async ({ labels, item }) => {
      for (const label of labels) await decideLabel(item.asset_id, label.id, "accepted");
      done += labels.length;
      status.textContent = t("review.accepting", { n: formatNumber(done) });
    });
  } catch (error) {
    showError(byId("report-error"), error);
  }
  status.textContent = t("review.accepted", { n: formatNumber(done), objects: formatNumber(chosen.length) });
  for (const { item } of chosen) {
    const cell = byId("report").querySelector(`td[data-review="${CSS.escape(item.asset_id)}"]`);
    if (cell && open.has(item.asset_id)) reviewLabels(item.asset_id, cell, { focus: false });
  }
}

async function downloadCsv() {
  const batchId = report?.batch.batch_id;
  if (!batchId) return;
  showError(byId("report-error"), null);
  try {
    saveBlob(await fetchBlob(`/v1/batches/${encodeURIComponent(batchId)}/report?format=csv`), `${batchId}-report.csv`);
  } catch (error) {
    showError(byId("report-error"), error);
  }
}

export function wireReport() {
  byId("report-csv").addEventListener("click", downloadCsv);
  byId("accept-all").addEventListener("click", countSuggested);
  byId("accept-all-yes").addEventListener("click", acceptAll);
  byId("accept-all-no").addEventListener("click", () => {
    cancelAll();
    byId("accept-all").focus();
  });
}

export function closeReport() {
  report = null;
  open.clear();
  cancelAll();
  byId("report-panel").hidden = true;
}
