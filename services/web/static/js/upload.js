// Sending a batch folder from the browser as `wenyuan upload` does (services/uploader.py): the gateway
// hands out presigned URLs, and each file goes straight to the staging bucket with a PUT (or, from the
// multipart threshold on, one PUT per part and a completion through the gateway). Progress comes from
// the XHR upload events of those PUTs. Unlike the CLI, the browser does not resume: each drop is a batch.
import { api, ApiError } from "./api.js";
import { t } from "./i18n.js";

const MANIFEST = /\.(csv|jsonl)$/i;

async function walk(entry, prefix, out) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    out.push({ file, path: prefix + entry.name });
  } else if (entry.isDirectory) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (!batch.length) break;
      for (const child of batch) await walk(child, `${prefix}${entry.name}/`, out);
    }
  }
}

/** The files of a drop, with paths relative to what was dropped (folders are walked). */
export async function filesOfDrop(dataTransfer) {
  const entries = [...dataTransfer.items].map((item) => item.webkitGetAsEntry?.()).filter(Boolean);
  if (!entries.length) return filesOfInput(dataTransfer.files);
  const out = [];
  for (const entry of entries) await walk(entry, "", out);
  return out;
}

/** The files of an <input type=file webkitdirectory> (or of a drop without folder entries). */
export function filesOfInput(files) {
  return [...files].map((file) => ({ file, path: file.webkitRelativePath || file.name }));
}

/** The batch in a selection: the folder's own name dropped, hidden files left out, exactly one manifest. */
export function batchOf(selection) {
  let items = selection.map(({ file, path }) => ({ file, path: path.replace(/^\/+/, "") }));
  const roots = new Set(items.map((i) => i.path.split("/")[0]));
  if (roots.size === 1 && items.every((i) => i.path.includes("/"))) {
    items = items.map((i) => ({ ...i, path: i.path.slice(i.path.indexOf("/") + 1) }));
  }
  items = items.filter((i) => !i.path.split("/").some((part) => part.startsWith(".")));
  const manifests = items.filter((i) => !i.path.includes("/") && MANIFEST.test(i.path));
  if (manifests.length !== 1) {
    throw new Error(t("upload.needManifest", { found: manifests.map((m) => m.path).join(", ") || t("upload.noneFound") }));
  }
  const [manifest] = manifests;
  return { manifest, files: items.filter((i) => i !== manifest) };
}

function storageMessage(xhr) {
  const text = xhr.responseText || "";
  return /<Message>([^<]*)<\/Message>/.exec(text)?.[1] || text.slice(0, 200) || `HTTP ${xhr.status}`;
}

/** PUT `blob` to a presigned URL, reporting bytes sent; resolves to the ETag S3 gives it. */
export function put(url, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(blob.size);
        resolve((xhr.getResponseHeader("ETag") || "").replaceAll('"', ""));
      } else {
        reject(new ApiError(xhr.status, { title: t("upload.storageRefused"), detail: storageMessage(xhr) }));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, { title: t("error.network"),
      detail: t("upload.storageUnreachable") })));
    xhr.send(blob);
  });
}

/** Send one file to its upload target (a single PUT, or its parts and the completion). */
export async function send(batchId, target, file, onProgress) {
  if (target.url) return put(target.url, file, onProgress);
  const parts = [];
  let done = 0;
  for (const part of target.parts) {
    const start = (part.part_number - 1) * target.part_size;
    const chunk = file.slice(start, start + target.part_size);
    const etag = await put(part.url, chunk, (loaded) => onProgress(done + loaded));
    done += chunk.size;
    parts.push({ part_number: part.part_number, etag });
  }
  const result = await api(`/v1/batches/${encodeURIComponent(batchId)}/uploads/complete`,
    { method: "POST", json: { path: target.path, upload_id: target.upload_id, parts } });
  return result.etag;
}

/** Run `work` over `items`, at most `limit` at a time; rejects with the first failure after all settle. */
export async function pool(items, limit, work) {
  const queue = [...items];
  const errors = [];
  await Promise.all(Array.from({ length: Math.min(limit, queue.length) }, async () => {
    while (queue.length) {
      const item = queue.shift();
      try {
        await work(item);
      } catch (error) {
        errors.push(error);
      }
    }
  }));
  if (errors.length) throw errors[0];
}
