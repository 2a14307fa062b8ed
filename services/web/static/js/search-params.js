// The search page's state as the API's parameters and as the page's address (search.js keeps the state).
import { FACETS, licenceFilter } from "./search-filters.js";

/** The API's filters; `without` leaves one facet's own choice out (for that facet's counts). */
export function filters(state, without = null) {
  const selected = { ...state.selected, ...(without ? { [without]: [] } : {}) };
  return { reusable: state.reusable || undefined, year_from: state.yearFrom, year_to: state.yearTo, ...selected,
    licence: licenceFilter(state.reuse, selected.licence) };
}

export function hasFilters(state) {
  return state.reusable || Boolean(state.reuse) || state.yearFrom !== "" || state.yearTo !== ""
    || FACETS.some((f) => state.selected[f].length);
}

/** The page's address: the search as the reader chose it (a dynasty by its id, the reuse class by name). */
export function addressParams(state) {
  return { q: state.q, reusable: state.reusable || undefined, reuse: state.reuse, period: state.period,
    year_from: state.period ? null : state.yearFrom, year_to: state.period ? null : state.yearTo, ...state.selected,
    sort: state.sort === "relevance" ? null : state.sort };
}

/** Parameters of the text search; with neither words nor filters, a browse of everything with a picture. */
export function searchParams(state, without = null) {
  const sorted = state.sort !== "relevance";
  // The API sorts keyword matches only (hybrid and semantic pages are ranked): a date order asks for those.
  const params = { q: state.q, ...filters(state, without), sort: sorted ? state.sort : null,
    mode: sorted && state.q ? "keyword" : null };
  const given = Object.entries(params).some(([name, value]) => !["q", "sort", "mode"].includes(name)
    && value !== undefined && value !== "" && !(Array.isArray(value) && !value.length));
  if (!state.q && !given) params.has_image = true;
  return params;
}

