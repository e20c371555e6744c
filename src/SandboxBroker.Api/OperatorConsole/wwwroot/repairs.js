// Repairs: a dry run shows how many sandboxes a bulk repair would touch; only Confirm then runs it.
import { admin } from "./api.js";
import { $ } from "./ui.js";

const REPAIRS = {
  retry: { path: "/retry-deletion", params: {}, count: (b) => b.retried, verb: "move back to pending_deletion" },
  "bulk-stale": { path: "/bulk-delete", params: { status: "stale" }, count: (b) => b.deleted, verb: "tombstone (stale)" },
  "bulk-failed": { path: "/bulk-delete", params: { status: "deletion_failed" }, count: (b) => b.deleted, verb: "tombstone (deletion_failed)" },
};

let pending = null;

export function setUpRepairs(onError) {
  $("repair-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = $("repair-action").value;
    const repair = REPAIRS[key];
    $("repair-result").textContent = "";
    try {
      const { body } = await admin(repair.path, { method: "POST", params: { ...repair.params, dry_run: "true" } });
      pending = key;
      const n = repair.count(body);
      $("repair-preview-text").textContent = `Dry run: ${n} sandbox${n === 1 ? "" : "es"} would ${repair.verb}. Nothing has changed yet.`;
      $("repair-confirm").disabled = n === 0;
      $("repair-preview").hidden = false;
      $(n === 0 ? "repair-cancel" : "repair-confirm").focus();
    } catch (error) {
      onError(error);
    }
  });
  $("repair-cancel").addEventListener("click", () => { pending = null; $("repair-preview").hidden = true; });
  $("repair-confirm").addEventListener("click", async () => {
    if (!pending) return;
    const repair = REPAIRS[pending];
    pending = null;
    $("repair-preview").hidden = true;
    try {
      const { body } = await admin(repair.path, { method: "POST", params: { ...repair.params, dry_run: "false" } });
      $("repair-result").textContent = `Done: ${repair.count(body)} sandboxes ${repair.verb.startsWith("move") ? "moved back to pending_deletion" : "tombstoned"} in ${body.duration_ms} ms.`;
    } catch (error) {
      onError(error);
    }
  });
}
