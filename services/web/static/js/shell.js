// What every page shares: the language, the header's "signed in as", and shared renderings of assets.
import { session } from "./api.js";
import { byId, clear, h, highlighted } from "./dom.js";
import { initLang, institutionName, lang, licenceName, pick, t } from "./i18n.js";
import { iiifPicture, picture, sizedPicture } from "./images.js";

export function initPage(titleKey) {
  initLang();
  const update = () => {
    document.title = `${t(titleKey)} · 文渊 Wenyuan`;
    const me = session.me;
    const holder = me?.institution ? institutionName(me.institution).text : me?.kind;
    clear(byId("who")).append(me ? t("who.signedIn", { name: me.name, institution: holder }) : "");
  };
  update();
  document.addEventListener("langchange", update);
  document.addEventListener("signin", update);
}

/** The title of a record in the interface's language, with the language it is written in. */
export function recordTitle(record) {
  const title = pick(record.title_zh, record.title_en);
  return title.text ? title : { text: record.object_id, lang: "" };
}

/** The credit line to give when reusing a record, in the interface's language, as museums write theirs (the Art
 * Institute of Chicago's, Europeana's): title, creator, date, the holder by name with its number, the licence. */
export function creditLine(record, licence) {
  const zh = lang() === "zh";
  const title = recordTitle(record).text;
  const holder = institutionName(record.institution).text;
  const terms = licenceName(licence.code, licence.label).text + (licence.uri ? ` (${licence.uri})` : "");
  const parts = [zh ? `《${title}》` : title, record.creator, record.period || record.date,
    zh ? `${holder}藏，${record.object_id}` : `${holder}, ${record.object_id}`].filter(Boolean);
  return zh ? `${parts.join("，")}。${terms}` : `${parts.join(". ")}. ${terms}`;
}

export function licenceBadge(licence) {
  return h("span", { class: `badge ${licence.reusable ? "open" : "closed"}`,
    title: licenceName(licence.code, licence.label).text },
    licence.reusable ? t("licence.reusable", { code: licence.code }) : licence.code);
}

/** The text of a highlight fragment without its <em> marks, squeezed, for comparing with a title. */
function plain(text) {
  return String(text || "").replace(/<\/?em>/g, "").replace(/[\s\p{P}]+/gu, " ").trim().toLowerCase();
}

/** The first matching fragment of a description or the OCR text that is not the title again: never a title
 * field, and no fragment the title holds or that holds the title (a description beginning with it, say). */
export function snippetOf(highlight, titles) {
  const names = titles.map(plain).filter(Boolean);
  return ["description_zh", "description_en", "ai.ocr_text"]
    .flatMap((field) => highlight[field] || [])
    .find((fragment) => {
      const text = plain(fragment);
      return text && !names.some((name) => text.includes(name) || name.includes(text));
    }) || null;
}

/** A result card: thumbnail (when the tier includes one), title, holder and period, licence badge. */
export function assetCard(hit, { highlight = {} } = {}) {
  const record = hit.record;
  const title = recordTitle(record);
  const href = `/assets/${encodeURIComponent(hit.asset_id)}`;
  const image = record.images?.[0];
  // The IIIF service makes the picture; records indexed before images had ids are only reached by the
  // thumbnail link (a delivery: a redirect to the stored file).
  const thumb = !(hit.thumbnail && image) ? h("span", { class: "noimage" }, t("card.noImage"))
    : image.id && image.width && image.height ? sizedPicture(image, 400, title.text, hit.thumbnail)
    : image.id ? picture(iiifPicture(image), title.text, hit.thumbnail) : picture(hit.thumbnail, title.text);
  const snippet = snippetOf(highlight, [record.title_zh, record.title_en]);
  const heading = h("a", { href, lang: title.lang || null }, title.text);
  const period = record.period || record.date;
  return h("li", { class: "card" },
    h("a", { class: "thumb", href, tabindex: "-1", "aria-hidden": "true" }, thumb),
    h("div", { class: "body" },
      h("h3", {}, heading),
      h("p", { class: "meta" }, [institutionName(record.institution).text, period].filter(Boolean).join(" · ")),
      snippet ? h("p", { class: "meta snippet" }, highlighted(snippet)) : null,
      licenceBadge(hit.licence)));
}
