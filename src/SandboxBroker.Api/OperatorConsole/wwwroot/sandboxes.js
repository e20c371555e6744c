// Sandboxes: filters, cursor paging, one sandbox with its history, release and retry-deletion behind a confirmation.
import { admin } from "./api.js";
import { $, el, fillTable, time, confirmAction, showMessage } from "./ui.js";

let filters = {};
let pageCursor = null; // the cursor of the page shown (null: first page)
let nextCursor = null;
let pageNumber = 1;
let onError = () => {};
let latestLoad = 0; // answers arrive in any order: only the newest request may fill the table

export function setUpSandboxes(handleError) {
  onError = handleError;
  $("filter-form").addEventListener("submit", (event) => {
    event.preventDefault();
    filters = Object.fromEntries(new FormData(event.target).entries());
    pageNumber = 1;
    load(null);
  });
  $("next-page").addEventListener("click", () => { pageNumber++; load(nextCursor); });
  $("first-page").addEventListener("click", () => { pageNumber = 1; load(null); });
  $("release").addEventListener("click", () => act("release"));
  $("retry").addEventListener("click", () => act("retry-deletion"));
}

export function showSandboxes() {
  return load(pageCursor);
}

async function load(cursor) {
  const thisLoad = ++latestLoad;
  try {
    const { body } = await admin("/sandboxes", { params: { ...filters, limit: 25, cursor } });
    if (thisLoad !== latestLoad) return; // a newer search or page was asked for meanwhile: its answer wins
    pageCursor = cursor;
    nextCursor = body.cursor;
    fillTable($("sandbox-table"), [
      { label: "Sandbox", value: (s) => el("button", { type: "button", class: "secondary", "data-open": s.sandbox_id, "aria-label": `Open sandbox ${s.name} (${s.sandbox_id})`, text: s.name, onclick: () => open(s.sandbox_id) }) },
      { label: "Id", value: (s) => s.sandbox_id },
      { label: "Status", value: (s) => s.status },
      { label: "Requester", value: (s) => s.allocated_to_track },
      { label: "Lab", value: (s) => s.track_name },
      { label: "Allocated", value: (s) => time(s.allocated_at) },
      { label: "Expires", value: (s) => time(s.expires_at) },
    ], body.sandboxes, body.count === 0 ? "No sandbox matches these filters." : null);
    $("next-page").disabled = !body.cursor;
    $("first-page").disabled = cursor === null;
    $("page-info").textContent = `Page ${pageNumber}, ${body.count} shown${body.cursor ? ", more on the next page" : ""}.`;
  } catch (error) {
    if (thisLoad === latestLoad) onError(error);
  }
}

async function open(sandboxId) {
  try {
    const [sandbox, history] = await Promise.all([
      admin(`/sandboxes/${encodeURIComponent(sandboxId)}`).catch((e) => (e.status === 404 ? null : Promise.reject(e))),
      admin(`/sandboxes/${encodeURIComponent(sandboxId)}/history`),
    ]);
    render(sandbox?.body, history.body);
  } catch (error) {
    onError(error);
  }
}

function render(sandbox, history) {
  const panel = $("sandbox-detail");
  panel.dataset.sandboxId = history.sandbox_id;
  $("detail-title").textContent = `Sandbox ${sandbox?.name ?? history.sandbox_id}`;
  const fields = sandbox
    ? [["Id", sandbox.sandbox_id], ["Status", sandbox.status], ["External id", sandbox.external_id], ["Requester", sandbox.allocated_to_track],
       ["Lab", sandbox.track_name], ["Allocated", time(sandbox.allocated_at)], ["Expires", time(sandbox.expires_at)],
       ["Deletion requested", time(sandbox.deletion_requested_at)], ["Retries", sandbox.deletion_retry_count],
       ["Last error", sandbox.last_error], ["Next attempt", time(sandbox.next_attempt_at)], ["Last synced", time(sandbox.last_synced)]]
    : [["Id", history.sandbox_id], ["Status", history.status]];
  $("detail-fields").replaceChildren(...fields.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { "data-field": k, text: v ?? "—" })]));
  $("release").hidden = history.status !== "allocated";
  $("retry").hidden = history.status !== "deletion_failed";
  $("history").replaceChildren(...history.events.map((e) => el("li", { "data-to": e.to },
    el("span", { class: "what", text: e.from ? `${e.from} → ${e.to}` : `created ${e.to}` }), " ",
    el("time", { datetime: new Date(e.at * 1000).toISOString(), text: time(e.at) }),
    el("div", { class: "muted", text: [e.actor, e.reason, e.requester && `requester ${e.requester}`, e.track_name && `lab ${e.track_name}`,
      e.attempt && `attempt ${e.attempt}`, e.error && `error: ${e.error}`].filter(Boolean).join(" · ") }))));
  panel.hidden = false;
  panel.focus();
}

async function act(action) {
  const id = $("sandbox-detail").dataset.sandboxId;
  const words = action === "release"
    ? ["Release this sandbox?", `Sandbox ${id} goes to pending_deletion and will be deleted upstream. Its participant loses it.`, "Release"]
    : ["Retry its deletion?", `Sandbox ${id} goes back to pending_deletion; cleanup tries to delete it again.`, "Retry deletion"];
  if (!(await confirmAction(...words))) return;
  try {
    const { body } = await admin(`/sandboxes/${encodeURIComponent(id)}/${action}`, { method: "POST" });
    showMessage(`Sandbox ${id} is now ${body.status}.`, { info: true });
    await open(id);
    await load(pageCursor);
  } catch (error) {
    onError(error);
    await open(id); // show where it stands now, in the detail and in the list
    await load(pageCursor);
  }
}
