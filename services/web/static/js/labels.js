// AI labels, shown as machine suggestions with their confidence and model, and a curator's accept/reject
// (PATCH /v1/assets/{id}/labels/{label}). Used by the asset page and the console's batch report.
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

/** A list of labels into `container`; with `decide`, buttons that send the curator's decision. */
export function renderLabels(container, assetId, labels, { decide = false } = {}) {
  clear(container);
  if (!labels.length) {
    container.append(h("p", { class: "hint" }, t("ai.none")));
    return;
  }
  const status = h("p", { class: "status", role: "status" });
  const error = h("div");
  const list = h("ul", { class: "labels" }, labels.map((label) => {
    const name = conceptName(label.id);
    const item = h("li", { "data-label": label.id },
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
        item.append(h("button", {
          type: "button", class: "secondary", disabled: label.status === choice,
          "aria-label": t(choice === "accepted" ? "ai.acceptName" : "ai.rejectName", { name }),
          onclick: async () => {
            showError(error, null);
            status.textContent = t("ai.saving");
            try {
              const result = await api(`/v1/assets/${encodeURIComponent(assetId)}/labels/${encodeURIComponent(label.id)}`,
                { method: "PATCH", json: { status: choice } });
              renderLabels(container, assetId, result.ai_labels, { decide });
              container.querySelector("[role=status]").textContent = t(`ai.saved.${choice}`, { name });
            } catch (e) {
              status.textContent = "";
              showError(error, e);
            }
          },
        }, t(choice === "accepted" ? "ai.accept" : "ai.reject")));
      }
    }
    return item;
  }));
  container.append(list, status, error);
}
