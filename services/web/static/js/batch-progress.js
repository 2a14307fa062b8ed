// A running batch's progress by stage, from its record's `progress` (services/ingest/progress.py): of the rows
// validated, how many are stored, enriched and indexed — a bar and a count each — with the time so far and the
// time left at the pace so far (none while it is too early to say).
import { h } from "./dom.js";
import { formatNumber, t } from "./i18n.js";

const STAGES = ["stored", "enriched", "indexed"];
export const DONE = new Set(["succeeded", "failed"]);

export function duration(seconds) {
  const s = Math.round(seconds);
  return s < 90 ? t("time.s", { s }) : t("time.min", { m: Math.floor(s / 60), s: s % 60 });
}

/** Whether the batch is under way with something to show: rows validated, not yet ended. */
export function running(batch) {
  return Boolean(batch.progress?.validated) && !DONE.has(batch.state);
}

/** One line of it, for the status that follows a batch. */
export function progressText(batch) {
  if (!running(batch)) return "";
  const p = batch.progress;
  const eta = p.eta_s ? t("batch.eta", { eta: duration(p.eta_s) }) : "";
  return t("batch.progress", { validated: formatNumber(p.validated), stored: formatNumber(p.stored),
    enriched: formatNumber(p.enriched), indexed: formatNumber(p.indexed), elapsed: duration(p.elapsed_s || 0), eta });
}

/** The stages as bars with counts, elapsed and ETA; null when the batch is not under way. */
export function stages(batch) {
  if (!running(batch)) return null;
  const p = batch.progress;
  const of = formatNumber(p.validated);
  return h("div", { class: "stages", "data-batch": batch.batch_id },
    h("dl", {}, STAGES.flatMap((stage) => {
      const name = t(`stage.${stage}`);
      return [h("dt", {}, name), h("dd", {},
        h("progress", { max: p.validated, value: Math.min(p[stage], p.validated),
          "aria-label": t("stage.of", { stage: name, n: formatNumber(p[stage]), of }) }),
        h("span", { class: "num", "data-stage": stage }, t("stage.count", { n: formatNumber(p[stage]), of })))];
    })),
    h("p", { class: "hint", "data-eta": p.eta_s ?? "" }, t("stage.time", { elapsed: duration(p.elapsed_s || 0) }),
      p.eta_s ? ` · ${t("stage.eta", { eta: duration(p.eta_s) })}` : ` · ${t("stage.etaUnknown")}`));
}
