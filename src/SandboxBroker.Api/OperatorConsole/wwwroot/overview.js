// Overview: counts by state (GET /admin/stats), activity and breakdowns (GET /admin/activity), jobs, the CSP circuit.
import { admin, readiness } from "./api.js";
import { $, el, fillTable, time, duration } from "./ui.js";
import { drawActivity } from "./chart.js";

const STATES = [
  ["total", "Total"], ["available", "Available"], ["allocated", "Allocated"], ["pending_deletion", "Pending deletion"],
  ["deletion_failed", "Deletion failed"], ["stale", "Stale"], ["deleted", "Deleted (tombstones)"],
];

const GROUP_COLUMNS = (label) => [
  { label, value: (g) => g.key },
  { label: "Total", value: (g) => g.total, num: true },
  { label: "Available", value: (g) => g.available, num: true },
  { label: "Allocated", value: (g) => g.allocated, num: true },
  { label: "Pending", value: (g) => g.pending_deletion, num: true },
  { label: "Failed", value: (g) => g.deletion_failed, num: true },
  { label: "Stale", value: (g) => g.stale, num: true },
];

export async function refreshOverview() {
  const [stats, activity, jobs, ready] = await Promise.all([
    admin("/stats"), admin("/activity", { params: { minutes: 60 } }), admin("/jobs"), readiness(),
  ]);
  renderStates(stats.body);
  drawActivity($("activity-chart"), activity.body.per_minute);
  const t = activity.body.totals;
  $("activity-totals").textContent = `Last ${activity.body.minutes} min: ${t.allocations} allocations, ${t.releases} releases, ${t.deletions} deletions.`;
  renderHealth(activity.body, ready);
  fillTable($("by-prefix"), GROUP_COLUMNS("Prefix"), activity.body.by_prefix);
  fillTable($("by-lab"), GROUP_COLUMNS("Lab"), activity.body.by_lab);
  fillTable($("overview-jobs"), [
    { label: "Job", value: (j) => j.name },
    { label: "State", value: (j) => (j.running ? "running" : j.enabled ? "idle" : "disabled") },
    { label: "Last run", value: (j) => time(j.last_run_at) },
    { label: "Outcome", value: (j) => outcome(j.last_outcome) },
    { label: "Duration", value: (j) => (j.last_duration_ms === null ? "—" : `${j.last_duration_ms} ms`), num: true },
    { label: "Next run", value: (j) => time(j.next_run_at) },
    { label: "Recent runs", value: (j) => j.last_runs.slice(0, 5).map((r) => r.outcome || r.status).join(", ") || "—" },
  ], jobs.body.jobs);
  $("overview-updated").textContent = `Last update ${time(activity.body.until)}.`;
}

function renderStates(stats) {
  $("state-cards").replaceChildren(...STATES.map(([key, label]) =>
    el("div", { class: "card", "data-stat": key },
      el("span", { class: "value", text: String(stats[key] ?? 0) }),
      el("span", { class: "label", text: label }))));
}

function renderHealth(activity, ready) {
  const c = activity.cleanup, x = activity.exhaustion;
  const eta = x.eta_seconds === null ? (x.available === 0 ? "pool empty" : "not in sight (no allocations lately)") : `about ${duration(x.eta_seconds)}`;
  // The circuit is per replica (it guards this process's CSP calls); /readyz reports it only in live CSP mode.
  const circuit = ready === null ? "unknown (readiness not answered)" : ready.checks?.csp ?? "no live CSP calls here (simulated CSP)";
  const rows = [
    ["Cleanup backlog", `${c.pending_deletion} pending deletion, ${c.deletion_failed} failed`],
    ["Oldest pending deletion", c.oldest_pending_age_seconds === null ? "none" : `${duration(c.oldest_pending_age_seconds)} (since ${time(c.oldest_pending_since)})`],
    ["CSP circuit", circuit],
    ["Allocation rate", `${x.allocations_per_minute} per minute (last ${x.window_minutes} min)`],
    ["Pool exhausted in", eta],
  ];
  $("health-list").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
}

function outcome(value) {
  if (!value) return "—";
  return el("span", { class: value === "success" ? "state-ok" : "state-bad", text: value });
}
