// The search page's filters as people know them from museum sites: facets of several values each (OR within a
// facet, AND across), a "show more" on long lists, chips of what is in use with "clear all", and a three-way
// reuse choice said in words. The API has no reuse classes: each is a list of the licence codes it holds
// (schemas/licences.py), sent as the `licence` filter (with the licence facet's own choice, their intersection).
import { h, clear } from "./dom.js";
import { conceptName, formatNumber, formatYear, institutionName, lang, licenceName, regionName, t, vocabulary }
  from "./i18n.js";

export const FACETS = ["category", "material", "institution", "region", "licence"];
export const SORTS = ["relevance", "-date", "date"]; // the API's sorts: it has no sort by title
const SHOWN = 5; // values of a facet shown before "show more"

export const REUSE = {
  free: ["CC0", "PDM"],
  conditions: ["CC-BY-4.0", "CC-BY-SA-4.0", "CC-BY-NC-4.0", "CC-BY-NC-SA-4.0", "CC-BY-ND-4.0", "CC-BY-NC-ND-4.0",
    "Apache-2.0", "NoC-CR", "NoC-NC", "NoC-OKLR", "NoC-US", "InC-EDU", "InC-NC"],
  ask: ["InC", "InC-OW-EU", "InC-RUU", "CNE", "UND", "NKC", "restricted:institution", "restricted:department",
    "restricted:granted", "restricted:embargoed"],
};
const NO_LICENCE = "none-of-these"; // a reuse class and licences chosen outside it: a filter nothing passes

/** The `licence` filter of a reuse class and the licence facet's values. */
export function licenceFilter(reuse, chosen) {
  if (!REUSE[reuse]) return chosen;
  if (!chosen.length) return REUSE[reuse];
  const both = chosen.filter((code) => REUSE[reuse].includes(code));
  return both.length ? both : [NO_LICENCE];
}

/** A facet value by its name in the interface's language (institutions, regions and licences by the names the
 * page carries; the API's buckets carry them as `label` too). */
export function facetLabel(name, value) {
  if (name === "category" || name === "material") return conceptName(value);
  if (name === "institution") return institutionName(value).text;
  if (name === "region") return regionName(value).text;
  if (name === "licence") return licenceName(value).text;
  return value;
}

export function periodName(id) {
  const period = vocabulary().periods.find((p) => p.id === id);
  return period ? (lang() === "zh" ? period.zh : period.en) : id;
}

/** The facets' checkboxes: each facet's counts (`facets`), its chosen values kept even without a count. */
export function renderFacets(box, facets, selected, expanded, onChange) {
  clear(box);
  if (!facets) return;
  for (const name of FACETS) {
    const buckets = (facets[name] || []).map((b) => [String(b.value), b.count]);
    const values = [...buckets, ...selected[name].filter((v) => !buckets.some(([b]) => b === v)).map((v) => [v, null])];
    if (!values.length) continue;
    const set = h("fieldset", { class: "facet" }, h("legend", {}, t(`facet.${name}`)));
    const open = expanded.has(name);
    values.forEach(([value, count], i) => {
      const id = `facet-${name}-${i}`;
      const checked = selected[name].includes(value);
      const input = h("input", { type: "checkbox", id, value, checked,
        onchange: (event) => onChange(name, value, event.target.checked) });
      set.append(h("label", { for: id, hidden: !open && i >= SHOWN && !checked }, input,
        h("span", {}, facetLabel(name, value), " ",
          count === null ? null : h("span", { class: "count" }, `(${formatNumber(count)})`))));
    });
    if (values.length > SHOWN) {
      const legend = t(`facet.${name}`);
      set.append(h("button", { type: "button", class: "link", "aria-expanded": String(open),
        onclick: () => {
          if (open) expanded.delete(name);
          else expanded.add(name);
          renderFacets(box, facets, selected, expanded, onChange);
          box.querySelector(`#facet-${name}-${open ? 0 : SHOWN}`)?.focus();
        } }, open ? t("facets.fewer", { name: legend })
        : t("facets.more", { n: formatNumber(values.length - SHOWN), name: legend })));
    }
    box.append(set);
  }
}

/** Chips of the filters in use, each removing itself, and "clear all"; nothing when none is in use. */
export function renderChips(box, state, { remove, clearAll }) {
  clear(box);
  const chips = [];
  for (const name of FACETS) {
    for (const value of state.selected[name]) {
      chips.push([`${t(`facet.${name}`)}: ${facetLabel(name, value)}`, () => remove({ facet: name, value })]);
    }
  }
  if (state.reuse) chips.push([t(`reuse.${state.reuse}`), () => remove({ reuse: true })]);
  if (state.reusable) chips.push([t("filters.reusable"), () => remove({ reusable: true })]);
  if (state.period) chips.push([`${t("filters.period")}: ${periodName(state.period)}`, () => remove({ years: true })]);
  else if (state.yearFrom !== "" || state.yearTo !== "") {
    chips.push([`${t("filters.period")}: ${formatYear(state.yearFrom === "" ? null : Number(state.yearFrom))} – ${
      formatYear(state.yearTo === "" ? null : Number(state.yearTo))}`, () => remove({ years: true })]);
  }
  box.hidden = !chips.length;
  if (!chips.length) return;
  box.append(h("span", { class: "chips-label" }, t("chips.label")),
    ...chips.map(([label, onclick]) => h("button", { type: "button", class: "chip",
      "aria-label": t("chips.remove", { name: label }), onclick }, label, h("span", { "aria-hidden": "true" }, " ×"))),
    h("button", { type: "button", class: "secondary", id: "clear-all", onclick: clearAll }, t("filters.clearAll")));
}
