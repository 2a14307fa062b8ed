// The interface in Chinese and English. Elements carry data-i18n (text), data-i18n-placeholder and
// data-i18n-aria-label; translate() fills them in the current language. The server sends each page in the
// reader's language already (<html lang>, services/gateway/page_i18n.py): from the `wenyuan_lang` cookie set
// here when the reader switches (a preference, not a secret; also kept in localStorage), else from the
// browser's Accept-Language. A switch is announced with a "langchange" event.
import { MESSAGES } from "./messages.js";

const STORE = "wenyuan.lang";
const COOKIE = "wenyuan_lang";

export function lang() {
  return document.documentElement.lang.startsWith("zh") ? "zh" : "en";
}

function remember(code) {
  localStorage.setItem(STORE, code);
  document.cookie = `${COOKIE}=${code}; path=/; max-age=31536000; samesite=lax`;
}

function preferred() {
  const stored = localStorage.getItem(STORE);
  const cookie = document.cookie.split("; ").some((c) => c.startsWith(`${COOKIE}=`));
  if (!cookie && (stored === "zh" || stored === "en")) { // a choice made before the server knew of it
    remember(stored);
    return stored;
  }
  return lang(); // as the server rendered the page
}

/** The message `key` in the current language, with {name} placeholders filled from vars. */
export function t(key, vars = {}) {
  const text = MESSAGES[lang()][key] ?? MESSAGES.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] ?? "").toString());
}

export function translate(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria-label]")) {
    el.setAttribute("aria-label", t(el.dataset.i18nAriaLabel));
  }
}

function apply(code) {
  document.documentElement.lang = code === "zh" ? "zh-CN" : "en";
  translate();
  const toggle = document.getElementById("lang-toggle");
  if (toggle) {
    const other = code === "zh" ? "en" : "zh";
    toggle.textContent = MESSAGES[other]["lang.name"];
    toggle.lang = other === "zh" ? "zh-CN" : "en";
    toggle.setAttribute("aria-label", MESSAGES[other]["lang.switch"]);
  }
}

export function setLang(code) {
  remember(code);
  apply(code);
  document.dispatchEvent(new CustomEvent("langchange", { detail: code }));
}

export function initLang() {
  apply(preferred());
  document.getElementById("lang-toggle")?.addEventListener("click", () => setLang(lang() === "zh" ? "en" : "zh"));
}

/** The value of a zh/en pair in the current language (else the other), with the language it is in. */
export function pick(zh, en) {
  const [first, second] = lang() === "zh" ? [[zh, "zh"], [en, "en"]] : [[en, "en"], [zh, "zh"]];
  if (first[0]) return { text: first[0], lang: first[1] };
  if (second[0]) return { text: second[0], lang: second[1] };
  return { text: "", lang: lang() };
}

/** Names of taxonomy concepts and periods, from the vocabulary the page carries. */
let vocab;
export function vocabulary() {
  vocab ??= JSON.parse(document.getElementById("vocab").textContent);
  return vocab;
}

/** The names of institutions, departments, regions and licences the page carries ({zh, en} pairs by id). */
let names;
function orgNames() {
  names ??= JSON.parse(document.getElementById("names")?.textContent || "{}");
  return names;
}

function named(pair, fallback) {
  return pair ? pick(pair[0], pair[1]) : { text: fallback ?? "", lang: "" };
}

/** An institution's name in the interface's language ({text, lang}); its id when the page knows no name. */
export function institutionName(id) {
  return named(orgNames().institutions?.[id], id);
}

export function regionName(code) {
  return named(orgNames().regions?.[code], code);
}

/** A department, as a record's cell names it (its id, or its name in either language), of `institution`. */
export function departmentName(institution, cell) {
  return named(orgNames().departments?.[institution]?.[cell], cell);
}

export function licenceName(code, fallback) {
  return named(orgNames().licences?.[code], fallback ?? code);
}

export function conceptName(id) {
  const concept = vocabulary().concepts[id];
  return concept ? (lang() === "zh" ? concept[0] : concept[1]) : id;
}

export function formatNumber(n) {
  return new Intl.NumberFormat(lang() === "zh" ? "zh-CN" : "en").format(n);
}

export function formatDate(iso) {
  return new Intl.DateTimeFormat(lang() === "zh" ? "zh-CN" : "en-GB", { dateStyle: "medium", timeStyle: "short" })
    .format(new Date(iso));
}

/** A year for people: 1046 BCE / 公元前1046年. */
export function formatYear(year) {
  if (year === null || year === undefined) return "";
  if (lang() === "zh") return year < 0 ? `公元前${-year}年` : `${year}年`;
  return year < 0 ? `${-year} BCE` : `${year}`;
}
