// Jobs: each job's last runs, a trigger per job, and the progress of a pass that outlives the trigger's wait.
import { admin } from "./api.js";
import { $, el, fillTable, time } from "./ui.js";

let onError = () => {};
let following = null;

export function setUpJobs(handleError) {
  onError = handleError;
  for (const button of document.querySelectorAll("[data-trigger]")) {
    button.addEventListener("click", () => trigger(button));
  }
}

export async function showJobs() {
  try {
    const { body } = await admin("/jobs");
    $("jobs-list").replaceChildren(...body.jobs.map((job) => {
      const table = el("table");
      fillTable(table, [
        { label: "Run", value: (r) => r.run_id },
        { label: "Trigger", value: (r) => r.trigger },
        { label: "Started", value: (r) => time(r.started_at) },
        { label: "Status", value: (r) => r.status },
        { label: "Outcome", value: (r) => r.outcome },
        { label: "Counts", value: (r) => counts(r.counts) },
      ], job.last_runs, job.last_runs.length ? null : "No run kept yet.");
      return el("article", { class: "panel", "data-job": job.name },
        el("h3", { text: `${job.name}${job.running ? " (running)" : ""}` }),
        el("p", { class: "muted", text: `Every ${job.interval_seconds} s${job.enabled ? "" : " (disabled here)"}; last run ${time(job.last_run_at)}, next ${time(job.next_run_at)}${job.lease_holder ? `, lock held by ${job.lease_holder}` : ""}.` }),
        el("div", { class: "scroll" }, table));
    }));
  } catch (error) {
    onError(error);
  }
}

async function trigger(button) {
  const name = button.textContent.replace(/^Run /, "");
  button.disabled = true;
  $("job-progress").textContent = `Running ${name}…`;
  try {
    const { status, body } = await admin("/" + button.dataset.trigger, { method: "POST" });
    if (status === 202 && body.run_id) {
      await follow(body.run_id);
    } else if (status === 202) {
      $("job-progress").textContent = `${name} is already running on ${body.lease_holder ?? "another instance"}.`;
    } else {
      $("job-progress").textContent = `${name} finished: ${counts(body)}.`;
    }
  } catch (error) {
    $("job-progress").textContent = "";
    onError(error);
  } finally {
    button.disabled = false;
    await showJobs();
  }
}

/** Polls the run's record every second until it finishes (or the operator leaves the view). */
async function follow(runId) {
  const me = (following = runId);
  while (following === me) {
    const { body } = await admin(`/jobs/runs/${encodeURIComponent(runId)}`);
    $("job-progress").textContent = `${body.job} ${body.run_id}: ${body.status}${body.outcome ? ` (${body.outcome})` : ""}, ${counts(body.counts)}.`;
    if (body.status !== "running") return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

export function stopFollowing() {
  following = null;
}

function counts(values) {
  return Object.entries(values || {})
    .filter(([k, v]) => typeof v === "number" && k !== "duration_ms")
    .map(([k, v]) => `${k} ${v}`).join(", ") || "—";
}
