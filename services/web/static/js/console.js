// The museum console: sign in with an institution key, upload a batch folder with per-file progress,
// follow the ingestion to its end stage by stage (batch-progress.js), list the institution's batches, read a
// batch's report and review the AI labels of its items (report.js).
import { api, query, session, showError } from "./api.js";
import { byId, clear, formatBytes, h } from "./dom.js";
import { formatDate, formatNumber, institutionName, t } from "./i18n.js";
import { DONE, progressText, stages } from "./batch-progress.js";
import { closeReport, renderReport, showReport, wireReport } from "./report.js";
import { initPage } from "./shell.js";
import { batchOf, filesOfDrop, filesOfInput, pool, send } from "./upload.js";

const COUNTS = ["received", "valid", "rejected", "stored", "indexed"];
let pending = null; // the batch chosen, not yet sent
let batches = [];
let nextBatches = null;
let following = null; // id of the batch being followed

function signedIn() {
  const me = session.me;
  byId("signin-panel").hidden = Boolean(me);
  byId("session-panel").hidden = !me;
  byId("batches-panel").hidden = !me;
  byId("upload-panel").hidden = !me || !(me.scopes || []).includes("upload");
  if (me) {
    byId("session-who").textContent = t("session.who", { name: me.name,
      institution: institutionName(me.institution).text, role: t(`role.${me.role}`) });
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
  closeReport();
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
    byId("batch-progress").replaceChildren(stages(batch) || "");
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
      h("td", { class: `state-${b.state}` }, t(`state.${b.state}`), b.error ? h("div", { class: "hint" }, b.error) : null,
        stages(b)),
      ...COUNTS.map((c) => h("td", { class: "num" }, formatNumber(b.counts[c]))),
      h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => showReport(b.batch_id),
        "aria-label": t("batches.showReportOf", { id: b.batch_id }) }, t("batches.showReport")))));
  }
  byId("more-batches").hidden = !nextBatches;
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
  wireReport();
  byId("more-batches").addEventListener("click", () => loadBatches({ more: true }));
  document.addEventListener("langchange", () => {
    signedIn();
    renderBatches();
    renderReport();
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
