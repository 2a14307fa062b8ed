// The gateway's JSON API from the browser: the caller's key, requests, and problem+json made readable.
//
// The key is kept in sessionStorage: it lives as long as this tab and is gone when the tab closes, so a
// staff key left on a shared museum workstation does not outlive the session, and it is never written
// into a URL. Every request of a signed-in page sends it as `Authorization: Bearer …`.
import { h, clear } from "./dom.js";
import { lang, t } from "./i18n.js";

const KEY = "wenyuan.key";
const ME = "wenyuan.me";

export const session = {
  get key() {
    return sessionStorage.getItem(KEY);
  },
  get me() {
    const raw = sessionStorage.getItem(ME);
    return raw ? JSON.parse(raw) : null;
  },
  signIn(key, me) {
    sessionStorage.setItem(KEY, key);
    sessionStorage.setItem(ME, JSON.stringify(me));
  },
  signOut() {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ME);
  },
};

export function authHeaders(key = session.key) {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** The request headers of every call: the key, and the interface's language for the server's own words. */
function headersOf(key) {
  return { "Accept-Language": lang() === "zh" ? "zh-CN, zh;q=0.9, en;q=0.5" : "en", ...authHeaders(key) };
}

/** A refusal or failure of the API, carrying its problem+json body (RFC 9457). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function problemOf(resp) {
  const type = resp.headers.get("content-type") || "";
  let problem;
  if (type.includes("json")) {
    try {
      problem = await resp.json();
    } catch {
      problem = null;
    }
  }
  if (!problem || typeof problem !== "object") {
    const text = type.includes("json") ? "" : (await resp.text().catch(() => "")).slice(0, 300);
    problem = { title: resp.statusText || `HTTP ${resp.status}`, detail: text, status: resp.status };
  }
  if (resp.status === 429 && resp.headers.get("retry-after")) problem.retry_after_s ??= resp.headers.get("retry-after");
  const error = new ApiError(resp.status, problem);
  error.lang = (resp.headers.get("content-language") || "en").startsWith("zh") ? "zh" : "en";
  return error;
}

export function networkError(error) {
  return new ApiError(0, { title: t("error.network"), detail: String(error?.message || error) });
}

/** fetch() a gateway path with the key; JSON in and out; throws ApiError on any error answer. */
export async function api(path, { method = "GET", json, body, key, signal } = {}) {
  const headers = { Accept: "application/json, application/problem+json", ...headersOf(key) };
  const init = { method, headers, signal };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    headers["Content-Type"] = "application/json";
  } else if (body !== undefined) {
    init.body = body;
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw networkError(error);
  }
  if (!resp.ok) throw await problemOf(resp);
  return resp.status === 204 ? null : resp.json();
}

/** A file the gateway serves (following its redirect to storage), as a Blob; ApiError when refused. */
export async function fetchBlob(path) {
  let resp;
  try {
    resp = await fetch(path, { headers: headersOf() });
  } catch (error) {
    throw networkError(error);
  }
  if (!resp.ok) throw await problemOf(resp);
  return resp.blob();
}

/** Query string of a {name: value | [values]} object, repeating names for lists, leaving out empties. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      if (v !== undefined && v !== null && v !== "" && v !== false) search.append(name, String(v));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** A readable message of an error: what failed, why, and what would allow it. Shown in role=alert. */
export function showError(container, error) {
  clear(container);
  if (!error) return;
  const problem = error.problem || { title: t("error.unexpected"), detail: String(error.message || error) };
  const items = [];
  for (const who of problem.would_allow || []) items.push(t("error.wouldAllow", { who }));
  for (const e of problem.errors || []) {
    const field = Array.isArray(e.loc) ? e.loc.join(".") : e.field;
    items.push(field ? `${field}: ${e.reason || e.msg}` : e.reason || e.msg);
  }
  if (problem.retry_after_s) items.push(t("error.retry", { s: problem.retry_after_s }));
  const heading = error.status === 401 ? t("error.badKey") : error.status === 403 ? t("error.forbidden")
    : error.status === 404 ? t("error.notFound") : problem.title;
  container.append(h("div", { class: "alert", role: "alert" },
    h("strong", {}, heading),
    problem.detail ? h("p", { lang: error.lang || "en" }, problem.detail) : null,
    items.length ? h("ul", {}, items.map((item) => h("li", {}, item))) : null));
}
