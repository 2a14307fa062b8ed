// Building DOM without innerHTML: every string from a record or an answer becomes a text node, so museum
// text (or anything else) is never parsed as HTML.

/** h("a", {href, class: "x", "aria-label": "…", onclick: fn}, "text", child…) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "text") {
      el.textContent = String(value);
    } else if (name in el && typeof value !== "string") {
      el[name] = value; // properties such as value, checked, max
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export const byId = (id) => document.getElementById(id);

/** A link target from data (a licence URI, say) only if it is http(s): never javascript: or data:. */
export function safeHref(url) {
  return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
}

/** A search highlight ("… <em>bronze</em> …") as text with <mark> elements; nothing else is interpreted. */
export function highlighted(fragment) {
  const out = document.createDocumentFragment();
  fragment.split(/(<em>.*?<\/em>)/s).forEach((part) => {
    const match = /^<em>(.*)<\/em>$/s.exec(part);
    out.append(match ? h("mark", {}, match[1]) : document.createTextNode(part));
  });
  return out;
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Offer `blob` to the reader as a download named `name`. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
