// The comparison page: Mirador (npm `mirador`, pinned in services/web/package-lock.json, its UMD bundle served
// from this origin, never a CDN) with one window per `manifest` parameter — /viewer?manifest=A&manifest=B shows
// A and B side by side. Only this site's manifests are opened: the page's policy lets it fetch from this origin
// alone, and a signed-in reader's key goes with every request Mirador makes here (manifests and image tiles),
// so what it shows is what the reader may see.
import { authHeaders, session } from "./api.js";
import { byId, h } from "./dom.js";
import { lang, t } from "./i18n.js";
import { initPage } from "./shell.js";

const LANGUAGES = { zh: "zh-CN", en: "en" };

function ours(url) {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

/** The manifests asked for, as absolute URLs: [this site's, the others left out]. */
export function requested(search = location.search) {
  const all = new URLSearchParams(search).getAll("manifest").filter(Boolean);
  return [all.filter(ours).map((u) => new URL(u, location.href).href), all.filter((u) => !ours(u))];
}

function withKey(url, options) {
  return ours(url) && session.key ? { ...options, headers: { ...(options?.headers || {}), ...authHeaders() } } : options;
}

function start() {
  const [manifests, foreign] = requested();
  const error = byId("viewer-error");
  if (foreign.length) error.append(h("p", { class: "hint" }, t("mirador.foreign", { urls: foreign.join(", ") })));
  if (!manifests.length) error.append(h("p", { class: "hint" }, t("mirador.none")));
  if (!window.Mirador) {
    error.append(h("p", { class: "alert", role: "alert" }, t("mirador.failed")));
    return;
  }
  const viewer = window.Mirador.viewer({
    id: "mirador",
    language: LANGUAGES[lang()],
    windows: manifests.map((manifestId) => ({ manifestId })),
    catalog: manifests.map((manifestId) => ({ manifestId })),
    workspace: { type: "mosaic" },
    requests: { preprocessors: [withKey] },
    osdConfig: { loadTilesWithAjax: Boolean(session.key), ajaxHeaders: authHeaders(), crossOriginPolicy: "Anonymous" },
  });
  // Mirador draws its workspace as a <main>, inside the page's own: it is made a named region instead, so the
  // page keeps one main landmark (axe: landmark-no-duplicate-main, landmark-main-is-top-level).
  const box = byId("mirador");
  const demote = () => {
    for (const main of box.querySelectorAll("main:not([role])")) main.setAttribute("role", "region");
  };
  new MutationObserver(demote).observe(box, { childList: true, subtree: true });
  demote();
  document.addEventListener("langchange", () => {
    viewer.store.dispatch(window.Mirador.actions.updateConfig({ language: LANGUAGES[lang()] }));
  });
}

initPage("mirador.title");
start();
