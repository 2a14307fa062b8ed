// The search page: words (Chinese or English) or a picture, filters and facets, results page by page
// through the API's cursor as the reader scrolls. The search is in the address (?q=…&category=…), so
// the back button and shared links work; the key never is.
import { api, ApiError, query } from "./api.js";
import { byId, clear, h } from "./dom.js";
import { formatNumber, formatYear, lang, t, vocabulary } from "./i18n.js";
import { assetCard, initPage } from "./shell.js";
import { FACETS, REUSE, SORTS, renderChips, renderFacets } from "./search-filters.js";
import * as params from "./search-params.js";
import { forgetPicture, regionFile, showPicture, wireCrop } from "./search-crop.js";
import { renderNone, showSearchError } from "./search-problems.js";

const filters = (without = null) => params.filters(state, without);
const hasFilters = () => params.hasFilters(state);
const addressParams = () => params.addressParams(state);
const searchParams = (without = null) => params.searchParams(state, without);

const PAGE = 24;
const MAX_QUERY = 500; // the API's default WENYUAN_SEARCH__MAX_QUERY_CHARS; a longer answer's 422 is shown too
const state = {
  q: "", reusable: false, yearFrom: "", yearTo: "", size: PAGE, sort: "relevance", period: "", reuse: "",
  expanded: new Set(),
  selected: Object.fromEntries(FACETS.map((f) => [f, []])),
  image: null, imageUrl: null, hits: [], total: 0, next: null, facets: null, loading: false, generation: 0,
};
const scroller = "IntersectionObserver" in window
  ? new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && loadMore(), { rootMargin: "400px" })
  : null;

/** Observe the end of the results afresh: the observer reports again if it is still in view (a short page). */
function watchEnd() {
  if (!scroller) return;
  scroller.unobserve(byId("sentinel"));
  if (state.next) scroller.observe(byId("sentinel"));
}

function readAddress() {
  const p = new URLSearchParams(location.search);
  state.q = p.get("q") || "";
  state.reusable = p.get("reusable") === "true";
  state.yearFrom = p.get("year_from") || "";
  state.yearTo = p.get("year_to") || "";
  state.size = Math.min(100, Math.max(1, Number.parseInt(p.get("size"), 10) || PAGE));
  for (const f of FACETS) state.selected[f] = p.getAll(f);
  state.sort = SORTS.includes(p.get("sort")) ? p.get("sort") : "relevance";
  state.reuse = REUSE[p.get("reuse")] ? p.get("reuse") : "";
  const period = vocabulary().periods.find((x) => x.id === p.get("period"));
  state.period = period ? period.id : "";
  if (period && state.yearFrom === "" && state.yearTo === "") {
    state.yearFrom = String(period.start ?? "");
    state.yearTo = String(period.end ?? "");
  }
  byId("q").value = state.q;
  byId("sort").value = state.sort;
  byId("period-preset").value = state.period;
  for (const radio of document.querySelectorAll("input[name=reuse]")) radio.checked = radio.value === state.reuse;
  byId("year-from").value = state.yearFrom;
  byId("year-to").value = state.yearTo;
}

/** A facet with values chosen counts the others as if it had none chosen (one more request each, in parallel:
 * the API counts facets over the filtered hits only), so choosing a value keeps the rest of the list. */
async function facetsKeepingOthers(facets) {
  const chosen = FACETS.filter((f) => state.selected[f].length);
  const pages = await Promise.all(chosen.map((f) => api(`/v1/search${query({ ...searchParams(f), size: 1 })}`)));
  const out = { ...facets };
  chosen.forEach((f, i) => {
    out[f] = pages[i].facets?.[f] || out[f];
  });
  return out;
}

async function runSearch({ push = false } = {}) {
  if (state.image) return runImageSearch();
  const size = state.size === PAGE ? null : state.size;
  const address = `/${query({ ...addressParams(), size })}`;
  if (address !== location.pathname + location.search) history[push ? "pushState" : "replaceState"](null, "", address);
  const generation = ++state.generation;
  state.loading = true;
  byId("status").textContent = t("results.searching");
  showSearchError(byId("error"), null);
  try {
    checkQuery();
    const [page, others] = await Promise.all([api(`/v1/search${query({ ...searchParams(), size: state.size })}`),
      facetsKeepingOthers({})]);
    if (generation !== state.generation) return;
    Object.assign(state, { hits: page.hits, total: page.total, next: page.next, failed: false,
      facets: page.facets && { ...page.facets, ...others } });
  } catch (error) {
    if (generation !== state.generation) return;
    failed(error);
  } finally {
    if (generation === state.generation) state.loading = false;
  }
  render();
}

/** What the page can tell before asking: the API's 422s for these, said the same way (search-messages.js). */
function checkQuery() {
  const from = Number.parseInt(state.yearFrom, 10);
  const to = Number.parseInt(state.yearTo, 10);
  if (!Number.isNaN(from) && !Number.isNaN(to) && from > to) {
    throw new ApiError(422, { field: "year_to", local: true });
  }
  if (state.q.length > MAX_QUERY) throw new ApiError(422, { field: "q", max: MAX_QUERY, local: true });
}

/** A failed search shows nothing of the last one: no cards, no counts, no facets, no cursor. */
function failed(error) {
  Object.assign(state, { hits: [], total: 0, next: null, facets: null, failed: true });
  showSearchError(byId("error"), error, { q: state.q, yearFrom: state.yearFrom, yearTo: state.yearTo });
}

async function loadMore() {
  if (!state.next || state.loading || state.image) return;
  const generation = state.generation;
  state.loading = true;
  byId("more").disabled = true;
  try {
    const page = await api(`/v1/search${query({ ...searchParams(), size: state.size, cursor: state.next })}`);
    if (generation !== state.generation) return;
    state.hits.push(...page.hits);
    state.next = page.next;
    byId("results").append(...page.hits.map((hit) => assetCard(hit, { highlight: hit.highlight })));
  } catch (error) {
    showSearchError(byId("error"), error);
    state.next = null;
  } finally {
    state.loading = false;
    byId("more").disabled = false;
    renderStatus();
    watchEnd();
  }
}

async function runImageSearch() {
  const generation = ++state.generation;
  state.loading = true;
  byId("status").textContent = t("results.searching");
  showSearchError(byId("error"), null);
  const form = new FormData();
  try {
    form.append("file", await regionFile());
    const page = await api(`/v1/search/image${query({ ...filters(), size: 48 })}`, { method: "POST", body: form });
    if (generation !== state.generation) return;
    Object.assign(state, { hits: page.hits, total: page.hits.length, next: null, facets: null, failed: false });
  } catch (error) {
    if (generation !== state.generation) return;
    failed(error);
  } finally {
    if (generation === state.generation) state.loading = false;
  }
  render();
}

/** Search with a picture: the typed words go (the picture is the question now), the picture is shown. */
async function useImage(file) {
  if (!file) return;
  if (state.imageUrl) URL.revokeObjectURL(state.imageUrl);
  state.image = file;
  state.imageUrl = URL.createObjectURL(file);
  state.q = "";
  byId("q").value = "";
  const address = `/${query({ ...addressParams(), q: null, size: null })}`;
  if (address !== location.pathname + location.search) history.replaceState(null, "", address);
  const preview = byId("query-image-preview");
  preview.src = state.imageUrl;
  preview.alt = t("search.yourPicture", { name: file.name });
  byId("query-image").hidden = false;
  try {
    await showPicture(file);
  } catch {
    showSearchError(byId("error"), new ApiError(415, { field: "file" }));
    return;
  }
  runImageSearch();
}

function clearImage() {
  if (state.imageUrl) URL.revokeObjectURL(state.imageUrl);
  forgetPicture();
  Object.assign(state, { image: null, imageUrl: null });
  byId("query-image").hidden = true;
  byId("image-file").value = "";
  runSearch();
}

function chooseFacet(name, value, checked) {
  const chosen = state.selected[name];
  state.selected[name] = checked ? [...chosen, value] : chosen.filter((v) => v !== value);
  runSearch({ push: true });
}

function removeFilter({ facet, value, reuse, reusable, years }) {
  if (facet) state.selected[facet] = state.selected[facet].filter((v) => v !== value);
  if (reuse) state.reuse = "";
  if (reusable) state.reusable = false;
  if (years) Object.assign(state, { period: "", yearFrom: "", yearTo: "" });
  syncControls();
  runSearch({ push: true });
}

/** The filter controls showing the state (after a chip or "clear all" changed it). */
function syncControls() {
  byId("year-from").value = state.yearFrom;
  byId("year-to").value = state.yearTo;
  byId("period-preset").value = state.period;
  for (const radio of document.querySelectorAll("input[name=reuse]")) radio.checked = radio.value === state.reuse;
}

function renderStatus() {
  let text;
  if (state.loading) text = t("results.searching");
  else if (state.failed) text = t("results.failed");
  else if (!state.hits.length) text = t("results.none");
  else if (state.image) text = t("results.image", { n: formatNumber(state.hits.length) });
  else if (!state.q && !hasFilters()) text = t("results.browse", { n: formatNumber(state.total) });
  else text = t("results.count", { n: formatNumber(state.total), shown: formatNumber(state.hits.length) });
  byId("status").textContent = text;
  byId("more").hidden = !state.next;
}

function clearFilters() {
  Object.assign(state, { reusable: false, reuse: "", period: "", yearFrom: "", yearTo: "" });
  for (const f of FACETS) state.selected[f] = [];
  syncControls();
  runSearch({ push: true });
}

function render() {
  renderStatus();
  renderFacets(byId("facets"), state.facets, state.selected, state.expanded, chooseFacet);
  renderChips(byId("chips"), state, { remove: removeFilter, clearAll: clearFilters });
  byId("show-results").textContent = t("filters.showN", { n: formatNumber(state.failed ? 0 : state.total) });
  renderNone(byId("none"), !state.loading && !state.failed && !state.hits.length,
    { q: state.q, filters: hasFilters(), image: Boolean(state.image), onClear: clearFilters });
  byId("results").replaceChildren(...state.hits.map((hit) => assetCard(hit, { highlight: hit.highlight || {} })));
  watchEnd();
}

function renderPeriods() {
  const select = byId("period-preset");
  const current = select.value;
  const options = vocabulary().periods.map((p) => h("option", { value: p.id },
    `${lang() === "zh" ? p.zh : p.en} (${formatYear(p.start)} – ${formatYear(p.end)})`));
  select.replaceChildren(h("option", { value: "" }, t("filters.anyPeriod")), ...options);
  select.value = current;
}

function wire() {
  byId("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.q = byId("q").value.trim();
    if (state.image) clearImage();
    else runSearch({ push: true });
  });
  for (const radio of document.querySelectorAll("input[name=reuse]")) {
    radio.addEventListener("change", () => {
      state.reuse = radio.value;
      runSearch({ push: true });
    });
  }
  byId("sort").addEventListener("change", (event) => {
    state.sort = event.target.value;
    runSearch({ push: true });
  });
  byId("show-results").addEventListener("click", () => {
    byId("filters").open = false;
    byId("results-heading").focus();
    byId("results-heading").scrollIntoView();
  });
  const applyYears = () => {
    state.yearFrom = byId("year-from").value;
    state.yearTo = byId("year-to").value;
    const period = vocabulary().periods.find((p) => p.id === byId("period-preset").value);
    const same = period && String(period.start ?? "") === state.yearFrom && String(period.end ?? "") === state.yearTo;
    state.period = same ? period.id : "";
    if (!same) byId("period-preset").value = "";
    runSearch({ push: true });
  };
  byId("apply-years").addEventListener("click", applyYears);
  for (const id of ["year-from", "year-to"]) {
    byId(id).addEventListener("keydown", (event) => {
      if (event.key === "Enter") applyYears();
    });
  }
  byId("period-preset").addEventListener("change", (event) => {
    const period = vocabulary().periods.find((p) => p.id === event.target.value);
    byId("year-from").value = period ? period.start : "";
    byId("year-to").value = period && period.end !== null ? period.end : "";
    applyYears();
  });
  byId("image-file").addEventListener("change", (event) => useImage(event.target.files[0]));
  byId("clear-image").addEventListener("click", clearImage);
  wireCrop(() => state.image && runImageSearch());
  const drop = byId("image-drop");
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    useImage(event.dataTransfer.files[0]);
  });
  byId("more").addEventListener("click", loadMore);
  window.addEventListener("popstate", () => {
    readAddress();
    runSearch();
  });
  document.addEventListener("langchange", () => {
    renderPeriods();
    render();
  });
}

initPage("title.search");
if (matchMedia("(max-width: 47.99rem)").matches) byId("filters").open = false; // results first on a phone
renderPeriods();
readAddress();
wire();
runSearch();
