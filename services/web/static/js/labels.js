// AI labels, shown as machine suggestions with their confidence (the model folded away), and a curator's
// accept/reject (PATCH /v1/assets/{id}/labels/{label}). Used by the asset page and the console's batch report.
//
// With the decision buttons come keyboard shortcuts, active while the focus is in the list (so a letter typed
// elsewhere does nothing): j or ↓ the next label, k or ↑ the previous, a accept, r reject, Shift+A accept every
// suggested label of the object. The console's report lists them (console.html).
import { api, session, showError } from "./api.js";
import { clear, h } from "./dom.js";
import { conceptName, formatNumber, t } from "./i18n.js";

/** Whether the signed-in caller may decide labels of assets held by `institution`. */
export function canDecide(institution) {
  const me = session.me;
  return Boolean(me && me.institution === institution && (me.scopes || []).includes("curate"));
}

function percent(confidence) {
  return `${formatNumber(Math.round(confidence * 100))}%`;
}

/** The curator's decision on one label; the asset's labels as they are after it. */
export async function decideLabel(assetId, labelId, status) {
  const result = await api(`/v1/assets/${encodeURIComponent(assetId)}/labels/${encodeURIComponent(labelId)}`,
    { method: "PATCH", json: { status } });
  return result.ai_labels;
}

function labelItem(label, decide, act) {
  const name = conceptName(label.id);
  const item = h("li", { "data-label": label.id, "data-status": label.status, tabindex: decide ? "-1" : null },
    h("span", { class: "badge ai" }, t("ai.badge")),
    h("strong", {}, name),
    h("span", { class: "hint" }, t(`ai.kind.${label.kind}`)),
    h("meter", { min: 0, max: 1, value: label.confidence, "aria-label": t("ai.confidenceOf", { name }) }),
    h("span", {}, t("ai.confidence", { p: percent(label.confidence) })),
    // Which model said so matters to a curator checking it, less to a reader: folded away.
    h("details", { class: "model hint" }, h("summary", {}, t("ai.modelSummary")),
      t("ai.model", { model: label.model, method: label.method })),
    h("span", { class: `badge ${label.status === "accepted" ? "open" : label.status === "rejected" ? "closed" : "ai"}` },
      t(`ai.status.${label.status}`)));
  if (decide) {
    for (const choice of ["accepted", "rejected"]) {
      item.append(h("button", { type: "button", class: "secondary", disabled: label.status === choice,
        "data-choice": choice, "aria-label": t(choice === "accepted" ? "ai.acceptName" : "ai.rejectName", { name }),
        onclick: () => act([label], choice) }, t(choice === "accepted" ? "ai.accept" : "ai.reject")));
    }
  }
  return item;
}

/** A list of labels into `container`; with `decide`, buttons (and shortcuts) that send the curator's decision.
 * `onChange(labels)` hears of every decision saved. */
export function renderLabels(container, assetId, labels, { decide = false, onChange = null, focus = null } = {}) {
  clear(container);
  if (!labels.length) {
    container.append(h("p", { class: "hint" }, t("ai.none")));
    return;
  }
  const status = h("p", { class: "status", role: "status" });
  const error = h("div");
  const act = async (chosen, choice) => {
    showError(error, null);
    status.textContent = t("ai.saving");
    let now = labels;
    try {
      for (const label of chosen) now = await decideLabel(assetId, label.id, choice);
    } catch (e) {
      status.textContent = "";
      showError(error, e);
      return;
    }
    renderLabels(container, assetId, now, { decide, onChange, focus: chosen.at(-1).id });
    const names = chosen.map((l) => conceptName(l.id)).join(", ");
    container.querySelector("[role=status]").textContent = t(`ai.saved.${choice}`, { name: names });
    onChange?.(now);
  };
  const list = h("ul", { class: "labels" }, labels.map((label) => labelItem(label, decide, act)));
  const suggested = labels.filter((l) => l.status === "suggested");
  const all = decide && suggested.length > 1
    ? h("button", { type: "button", class: "secondary", "data-accept-all": "", onclick: () => act(suggested, "accepted") },
      t("ai.acceptAll", { n: formatNumber(suggested.length) }))
    : null;
  if (decide) list.addEventListener("keydown", (event) => shortcut(event, list, labels, act, suggested));
  container.append(...[list, all, status, error].filter(Boolean));
  if (focus) list.querySelector(`li[data-label="${CSS.escape(focus)}"]`)?.focus();
}

function shortcut(event, list, labels, act, suggested) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const item = event.target.closest("li[data-label]");
  if (!item) return;
  const items = [...list.querySelectorAll("li[data-label]")];
  const label = labels.find((l) => l.id === item.dataset.label);
  const move = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 }[event.key];
  if (move) {
    items[Math.min(items.length - 1, Math.max(0, items.indexOf(item) + move))].focus();
  } else if (event.key === "a" && label.status !== "accepted") {
    act([label], "accepted");
  } else if (event.key === "r" && label.status !== "rejected") {
    act([label], "rejected");
  } else if (event.key === "A" && suggested.length) {
    act(suggested, "accepted");
  } else {
    return;
  }
  event.preventDefault();
}
