// The page for an object the visitor may not see (the server answers 404 with it). A signed-in visitor's key is
// in this tab, not in the page's request: ask the API with it, and if the object is theirs to see, show its page.
import { api, session } from "./api.js";
import { byId } from "./dom.js";
import { initPage } from "./shell.js";

initPage("notfound.title");

async function retryWithKey() {
  if (!session.key) return;
  const id = decodeURIComponent(location.pathname.split("/").pop());
  const note = byId("notfound-signed-in");
  note.hidden = false;
  try {
    await api(`/v1/assets/${encodeURIComponent(id)}`);
    location.replace(`${location.pathname}?signed-in=1`);
  } catch {
    note.hidden = true; // not theirs either: the page says all there is
  }
}

retryWithKey();
