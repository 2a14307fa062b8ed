// What a person needs to reuse an asset, right under the viewer: the licence, the credit line (and a button that
// copies it), a link to share the page, the IIIF manifest — linked as the IIIF drag-and-drop convention has it
// (`<a href="MANIFEST?manifest=MANIFEST">` around the IIIF logo: dropped on a IIIF viewer, the viewer reads the
// `manifest` parameter) — and the same manifest opened in this site's Mirador for side-by-side comparison.
import { byId, clear, h, safeHref } from "./dom.js";
import { api } from "./api.js";
import { licenceName, t } from "./i18n.js";
import { creditLine, licenceBadge } from "./shell.js";

const LOGO = new URL("../img/iiif-logo.svg", import.meta.url).href;

/** The absolute URL of the asset's IIIF Presentation 3 manifest, on this origin. */
export function manifestUrl(assetId) {
  return `${location.origin}/iiif/3/${encodeURIComponent(assetId)}/manifest`;
}

/** The address of this page to share: the asset's page, without anything the reader added to it. */
export function shareUrl(assetId) {
  return `${location.origin}/assets/${encodeURIComponent(assetId)}`;
}

export function renderReuse(asset) {
  const licence = asset.licence;
  const name = licenceName(licence.code, licence.label).text;
  clear(byId("licence")).append(licenceBadge(licence), " ",
    safeHref(licence.uri) ? h("a", { href: safeHref(licence.uri), rel: "license" }, name) : name);
  byId("access").textContent = t("access.tier", { tier: t(`tier.${asset.access.tier}`), basis: asset.access.basis });
  byId("attribution").textContent = creditLine(asset.record, licence);
  const manifest = manifestUrl(asset.asset_id);
  const iiif = byId("iiif-manifest");
  iiif.href = `${manifest}?manifest=${encodeURIComponent(manifest)}`;
  iiif.title = t("iiif.drag");
  if (!iiif.querySelector("img")) {
    iiif.prepend(h("img", { src: LOGO, alt: "", width: 26, height: 24, draggable: "true" }));
  }
  byId("open-mirador").href = `/viewer?manifest=${encodeURIComponent(manifest)}`;
}

/** After a switch of language: the access basis is the server's words, so ask for it again in the new language. */
export async function resayReuse(asset) {
  try {
    asset.access = (await api(`/v1/assets/${encodeURIComponent(asset.asset_id)}`)).access;
  } catch {
    return; // the basis stays in the language it came in
  }
  renderReuse(asset);
}

/** Copy `text`; where the clipboard is refused, select it on the page for Ctrl+C instead (`shown`: the element
 * that shows it, else the status shows it). */
async function copy(text, shown, done) {
  const status = byId("copy-status");
  try {
    await navigator.clipboard.writeText(text);
    status.textContent = t(done);
  } catch {
    const node = shown || h("code", {}, text);
    status.replaceChildren(t("licence.selected"), " ", shown ? "" : node);
    const range = document.createRange();
    range.selectNodeContents(node);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
  }
}

export function wireReuse(current) {
  byId("copy-attribution").addEventListener("click", () => {
    const asset = current();
    if (asset) copy(creditLine(asset.record, asset.licence), byId("attribution"), "licence.copied");
  });
  byId("copy-link").addEventListener("click", () => {
    const asset = current();
    if (asset) copy(shareUrl(asset.asset_id), null, "share.copied");
  });
}
