// What the search page says when a search fails or finds nothing: a translated, friendly message made from the
// problem+json (its status and `field`), never the server's raw title ("Internal Server Error") or a dump of
// validation errors; and for an empty answer, suggestions of what to try instead.
import { h, clear } from "./dom.js";
import { formatNumber, formatYear, t } from "./i18n.js";

/** The message key (and its values) of a search's failure. */
export function problemMessage(error, context = {}) {
  const problem = error?.problem || {};
  const status = error?.status ?? -1;
  const fields = [problem.field, ...(problem.errors || []).map((e) => e.field || (e.loc || []).join("."))]
    .filter(Boolean).map((f) => String(f).replace(/^query\./, ""));
  if (status === 0) return { key: "problem.network" };
  if (status === 429) return { key: "problem.busy", vars: { s: problem.retry_after_s || 60 } };
  if (status === 413) return { key: "problem.imageLarge" };
  if (status === 415) return { key: "problem.imageUnreadable" };
  if (status === 503 && fields.includes("file")) return { key: "problem.imageOff" };
  if (status === 400 || status === 422) {
    if (fields.some((f) => f.startsWith("year"))) {
      const from = Number.parseInt(context.yearFrom, 10);
      const to = Number.parseInt(context.yearTo, 10);
      return Number.isNaN(from) || Number.isNaN(to) || from <= to ? { key: "problem.years" }
        : { key: "problem.yearsReversed", vars: { from: formatYear(from), to: formatYear(to) } };
    }
    if (fields.includes("q")) {
      const long = problem.max || /characters long/.test(problem.detail || "");
      return long ? { key: "problem.queryLong", vars: { n: formatNumber(problem.max || 500),
        length: formatNumber((context.q || "").length) } } : { key: "problem.queryNoWords" };
    }
    if (fields.includes("cursor")) return { key: "problem.cursor" };
    if (fields.includes("file")) return { key: "problem.imageUnreadable" };
    return { key: "problem.invalid" };
  }
  if (status === 401 || status === 403) return { key: "problem.forbidden" };
  return { key: "problem.server" };
}

/** Show (or, with no error, clear) a search's failure in `container`, as an alert in the interface's language. */
export function showSearchError(container, error, context = {}) {
  clear(container);
  if (!error) return;
  const { key, vars } = problemMessage(error, context);
  container.append(h("div", { class: "alert", role: "alert" },
    h("strong", {}, t("problem.heading")),
    h("p", {}, t(key, vars))));
}

/** "Nothing found" with what to try: fewer filters (a button clears them), the other language, the spelling. */
export function renderNone(container, show, { q, filters, image, onClear }) {
  clear(container);
  container.hidden = !show;
  if (!show) return;
  const tips = [];
  if (filters) {
    tips.push(h("li", {}, t("none.fewerFilters"), " ",
      h("button", { type: "button", class: "secondary", id: "none-clear", onclick: onClear }, t("filters.clearAll"))));
  }
  if (q) {
    tips.push(h("li", {}, t(/[\u3400-\u9fff]/.test(q) ? "none.tryEnglish" : "none.tryChinese")));
    tips.push(h("li", {}, t("none.spelling")));
  }
  if (image) tips.push(h("li", {}, t("none.otherPicture")));
  container.append(h("h3", {}, q ? t("none.headingFor", { q: q.length > 80 ? `${q.slice(0, 80)}…` : q })
    : t("none.heading")), tips.length ? h("ul", {}, tips) : null);
}
