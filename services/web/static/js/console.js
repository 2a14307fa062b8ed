// The museum console: sign in with an institution key, upload a batch folder with per-file progress,
// follow the ingestion to its end, list the institution's batches, read a batch's report and decide the
// AI labels of its items.
import { api, fetchBlob, query, session, showError } from "./api.js";
import { byId, clear, formatBytes, h, saveBlob } from "./dom.js";
import { formatDate, formatNumber, t } from "./i18n.js";
import { canDecide, renderLabels } from "./labels.js";
import { initPage } from "./shell.js";
import { batchOf, filesOfDrop, filesOfInput, pool, send } from "./upload.js";

const COUNTS = ["received", "valid", "rejected", "stored", "indexed"];
const DONE = new Set(["succeeded", "failed"]);
const REPORT_ROWS = 500;
let pending = null; // the batch chosen, not yet sent
let batches = [];
let nextBatches = null;
let following = null; // id of the batch being followed
let report = null;

function signedIn() {
  const me = session.me;
  byId("signin-panel").hidden = Boolean(me);
  byId("session-panel").hidden = !me;
  byId("batches-panel").hidden = !me;
  byId("upload-panel").hidden = !me || !(me.scopes || []).includes("upload");
  if (me) {
    byId("session-who").textContent = t("session.who", { name: me.name, institution: me.institution,
      role: t(`role.${me.role}`) });
  }
  document.dispatchEvent(new CustomEvent("signin"));
}

async function signIn(key) {
  showError(byId("signin-error"), null);
  let me;
  try {
    me = await api("/v1/me", { key });
  } catch (error) {
    showError(byId("signin-error"), error);
    return;
  }
  if (me.kind !== "staff" || !me.institution) {
    showError(byId("signin-error"), { problem: { title: t("signin.notStaff"), detail: t("signin.notStaffDetail") } });
    return;
  }
  session.signIn(key, me);
  byId("api-key").value = "";
  signedIn();
  loadBatches();
}

function signOut() {
  session.signOut();
  batches = [];
  clear(byId("batches").tBodies[0]);
  byId("report-panel").hidden = true;
  signedIn();
  byId("api-key").focus();
}

// Choosing and sending a batch

function choose(selection) {
  showError(byId("upload-error"), null);
  byId("selection").hidden = true;
  try {
    pending = batchOf(selection);
  } catch (error) {
    pending = null;
    showError(byId("upload-error"), { problem: { title: t("upload.notABatch"), detail: error.message } });
    return;
  }
  const total = [pending.manifest, ...pending.files].reduce((sum, f) => sum + f.file.size, 0);
  byId("selection-summary").textContent = t("upload.summary", { manifest: pending.manifest.path,
    n: formatNumber(pending.files.length), size: formatBytes(total) });
  byId("selection").hidden = false;
  renderFiles([pending.manifest, ...pending.files]);
  byId("start-upload").focus();
}

function renderFiles(items) {
  const body = clear(byId("files").tBodies[0]);
  byId("files").hidden = false;
  for (const item of items) {
    item.bar = h("progress", { max: item.file.size || 1, value: 0, "aria-label": t("upload.progressOf", { path: item.path }) });
    item.state = h("span", {}, t("upload.waiting"));
    item.row = h("tr", { "data-path": item.path }, h("td", {}, item.path), h("td", { class: "num" }, formatBytes(item.file.size)),
      h("td", {}, item.bar), h("td", {}, item.state));
    body.append(item.row);
  }
}

function progress(item, loaded) {
  item.bar.value = Math.min(loaded, item.file.size) || (item.file.size === 0 ? 1 : 0);
  const pct = item.file.size ? Math.floor((100 * loaded) / item.file.size) : 100;
  item.state.textContent = t("upload.sending", { p: formatNumber(pct) });
}

async function startUpload() {
  if (!pending) return;
  const chosen = pending;
  pending = null;
  byId("selection").hidden = true;
  showError(byId("upload-error"), null);
  const status = byId("upload-status");
  const all = [chosen.manifest, ...chosen.files];
  status.textContent = t("upload.creating");
  try {
    const uploads = await api("/v1/batches", { method: "POST", json: {
      manifest: { name: chosen.manifest.path, size: chosen.manifest.file.size },
      files: chosen.files.map((f) => ({ path: f.path, size: f.file.size })) } });
    const batchId = uploads.batch.batch_id;
    const targets = [uploads.manifest, ...uploads.files];
    status.textContent = t("upload.sendingBatch", { id: batchId, n: formatNumber(all.length) });
    await pool(all.map((item, i) => [item, targets[i]]), 3, async ([item, target]) => {
      item.state.textContent = t("upload.sending", { p: "0" });
      try {
        await send(batchId, target, item.file, (loaded) => progress(item, loaded));
        item.bar.value = item.bar.max;
        item.state.textContent = t("upload.sent");
        item.row.dataset.state = "sent";
      } catch (error) {
        item.state.textContent = t("upload.fileFailed", { reason: error.message });
        item.row.dataset.state = "failed";
        throw error;
      }
    });
    status.textContent = t("upload.submitting", { id: batchId });
    await api(`/v1/batches/${encodeURIComponent(batchId)}/submit`, { method: "POST" });
    await loadBatches();
    follow(batchId);
  } catch (error) {
    status.textContent = "";
    showError(byId("upload-error"), error);
  }
}

// Following a batch, and the list of batches

function duration(seconds) {
  const s = Math.round(seconds);
  return s < 90 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

// Per-stage progress of a running batch (its record's `progress`): counts per stage, elapsed and ETA.
function progressText(batch) {
  const p = batch.progress;
  if (!p || !p.validated || DONE.has(batch.state)) return "";
  const eta = p.eta_s ? t("batch.eta", { eta: duration(p.eta_s) }) : "";
  return t("batch.progress", { validated: formatNumber(p.validated), stored: formatNumber(p.stored),
    enriched: formatNumber(p.enriched), indexed: formatNumber(p.indexed), elapsed: duration(p.elapsed_s || 0), eta });
}

async function follow(batchId) {
  following = batchId;
  const status = byId("upload-status");
  while (following === batchId) {
    let batch;
    try {
      batch = await api(`/v1/batches/${encodeURIComponent(batchId)}`);
    } catch (error) {
      showError(byId("upload-error"), error);
      return;
    }
    status.textContent = t("batch.following", { id: batchId, state: t(`state.${batch.state}`),
      progress: progressText(batch),
      indexed: formatNumber(batch.counts.indexed), rejected: formatNumber(batch.counts.rejected) });
    status.dataset.state = batch.state;
    replaceBatch(batch);
    if (DONE.has(batch.state)) {
      following = null;
      await showReport(batchId);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function replaceBatch(batch) {
  const i = batches.findIndex((b) => b.batch_id === batch.batch_id);
  if (i >= 0) batches[i] = batch;
  else batches.unshift(batch);
  renderBatches();
}

async function loadBatches({ more = false } = {}) {
  showError(byId("batches-error"), null);
  try {
    const page = await api(`/v1/batches${query({ limit: 20, before: more ? nextBatches : null })}`);
    batches = more ? [...batches, ...page.batches] : page.batches;
    nextBatches = page.next;
  } catch (error) {
    showError(byId("batches-error"), error);
    if (error.status === 401) signOut();
    return;
  }
  renderBatches();
}

function renderBatches() {
  const body = clear(byId("batches").tBodies[0]);
  if (!batches.length) {
    body.append(h("tr", {}, h("td", { colspan: 9 }, t("batches.none"))));
  }
  for (const b of batches) {
    body.append(h("tr", { "data-batch": b.batch_id },
      h("td", {}, h("code", {}, b.batch_id), b.manifest_name ? h("div", { class: "hint" }, b.manifest_name) : null),
      h("td", {}, formatDate(b.created_at)),
      h("td", { class: `state-${b.state}` }, t(`state.${b.state}`), b.error ? h("div", { class: "hint" }, b.error) : null),
      ...COUNTS.map((c) => h("td", { class: "num" }, formatNumber(b.counts[c]))),
      h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => showReport(b.batch_id),
        "aria-label": t("batches.showReportOf", { id: b.batch_id }) }, t("batches.showReport")))));
  }
  byId("more-batches").hidden = !nextBatches;
}

// The report of a batch

async function showReport(batchId) {
  const panel = byId("report-panel");
  panel.hidden = false;
  byId("report-batch").textContent = batchId;
  showError(byId("report-error"), null);
  clear(byId("report").tBodies[0]);
  report = null;
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

function renderReport() {
  const { batch, items } = report;
  byId("report-summary").textContent = t("report.summary", { state: t(`state.${batch.state}`),
    ...Object.fromEntries(COUNTS.map((c) => [c, formatNumber(batch.counts[c])])) })
    + (items.length > REPORT_ROWS ? ` ${t("report.firstRows", { n: formatNumber(REPORT_ROWS) })}` : "");
  const body = clear(byId("report").tBodies[0]);
  for (const item of items.slice(0, REPORT_ROWS)) {
    const labelsCell = h("td");
    if (item.asset_id && item.status === "indexed") {
      labelsCell.append(h("button", { type: "button", class: "secondary",
        "aria-label": t("report.reviewOf", { object: item.object_id || item.asset_id }),
        onclick: () => reviewLabels(item.asset_id, labelsCell) }, t("report.review")));
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

async function reviewLabels(assetId, cell) {
  clear(cell).append(t("report.loading"));
  try {
    const asset = await api(`/v1/assets/${encodeURIComponent(assetId)}`);
    renderLabels(clear(cell), assetId, asset.ai?.labels || [], { decide: canDecide(asset.record.institution) });
  } catch (error) {
    showError(clear(cell), error);
  }
}

function wire() {
  byId("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const key = byId("api-key").value.trim();
    if (key) signIn(key);
  });
  byId("sign-out").addEventListener("click", signOut);
  byId("folder-input").addEventListener("change", (event) => choose(filesOfInput(event.target.files)));
  const drop = byId("folder-drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", async (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    choose(await filesOfDrop(event.dataTransfer));
  });
  byId("start-upload").addEventListener("click", startUpload);
  byId("refresh-batches").addEventListener("click", () => loadBatches());
  byId("report-csv").addEventListener("click", downloadCsv);
  byId("more-batches").addEventListener("click", () => loadBatches({ more: true }));
  document.addEventListener("langchange", () => {
    signedIn();
    renderBatches();
    if (report) renderReport();
  });
}

initPage("title.console");
wire();
signedIn();
if (session.key) {
  api("/v1/me").then((me) => {
    session.signIn(session.key, me);
    signedIn();
    loadBatches();
  }, (error) => {
    session.signOut();
    signedIn();
    showError(byId("signin-error"), error);
  });
}
