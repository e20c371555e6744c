// Drives the operator console in the system's headless chromium (playwright-core from tools/node_modules) for one
// scenario, and prints one JSON line: {ok, failures, console_errors, foreign_requests, screenshots}. The xunit tests
// in this project start the broker and run one scenario per test.
//   node console-scenario.mjs <scenario>   with env BROKER_URL, ADMIN_TOKEN, TOOLS_DIR, CHROMIUM, SCREENSHOT_DIR
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.TOOLS_DIR, "package.json"));
const { chromium } = require("playwright-core");

const scenario = process.argv[2];
const broker = new URL(process.env.BROKER_URL);
const adminToken = process.env.ADMIN_TOKEN;
const shots = process.env.SCREENSHOT_DIR;
const failures = [];
const consoleErrors = [];
const foreignRequests = [];
const screenshots = [];
// Chromium reports every non-2xx fetch as a console error ("Failed to load resource"); the scenarios that provoke a
// 401 or a refused connection on purpose allow exactly those, nothing else.
const expectedLoadErrors = {
  "wrong-token": /Failed to load resource: the server responded with a status of 401/,
  "unreachable": /Failed to load resource: net::ERR_/,
  "changed-behind-the-page": /Failed to load resource: the server responded with a status of 40[49]/,
};

function check(condition, message) {
  if (!condition) failures.push(message);
}

async function adminApi(p, method = "GET") {
  const response = await fetch(new URL("/v1/admin" + p, broker), { method, headers: { Authorization: "Bearer " + adminToken } });
  return response.json();
}

async function signIn(page, tokenValue = adminToken) {
  await page.goto(new URL("/console/", broker).href);
  await page.getByLabel("Admin token").fill(tokenValue);
  await page.getByLabel("Admin token").press("Enter"); // keyboard only
}

async function shoot(page, name) {
  for (const [w, h] of [[1280, 800], [390, 844]]) {
    await page.setViewportSize({ width: w, height: h });
    await page.waitForTimeout(150);
    const file = path.join(shots, `console-${name}-${w}x${h}.png`);
    await page.screenshot({ path: file, fullPage: false });
    screenshots.push(file);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function statValue(page, key) {
  return Number(await page.locator(`[data-stat="${key}"] .value`).innerText());
}

const scenarios = {
  // Sign-in, and the overview's numbers equal GET /admin/stats; the activity chart and breakdowns are drawn.
  async overview(page) {
    await signIn(page);
    await page.locator('[data-stat="available"]').waitFor();
    await page.locator("#activity-chart svg").waitFor();
    await page.locator("#by-prefix tbody tr").first().waitFor();
    const stats = await adminApi("/stats");
    for (const key of ["total", "available", "allocated", "pending_deletion", "deletion_failed", "stale", "deleted"]) {
      check((await statValue(page, key)) === stats[key], `overview ${key} = ${await statValue(page, key)}, /stats says ${stats[key]}`);
    }
    const totals = await page.locator("#activity-totals").innerText();
    check(/[1-9]\d* allocations/.test(totals), `activity shows the allocations made: "${totals}"`);
    check((await page.locator("#by-lab").innerText()).includes("lab-101"), "by-lab lists lab-101");
    check(await page.evaluate(() => sessionStorage.length === 1 && document.cookie === "" && !location.href.includes("token")),
      "the token is in sessionStorage only (no cookie, not in the URL)");
    await shoot(page, "overview");
  },

  // Filter by requester finds the sandbox; its history shows the allocation and the participant's mark-for-deletion.
  async history(page) {
    await signIn(page);
    await page.getByRole("link", { name: "Sandboxes" }).click();
    await page.getByLabel("Requester").fill("student-alice");
    await page.getByRole("button", { name: "Search" }).click();
    const rows = page.locator("#sandbox-table tbody tr");
    await page.locator("#sandbox-table tbody tr", { hasText: "student-alice" }).waitFor();
    await page.locator("#sandbox-table tbody tr", { hasNotText: "student-alice" }).waitFor({ state: "detached" }).catch(() => {});
    check((await rows.count()) === 1, `requester filter finds exactly one sandbox, got ${await rows.count()}`);
    await rows.first().locator("button").focus();
    await page.keyboard.press("Enter");
    await page.locator("#history li").nth(1).waitFor();
    const steps = await page.locator("#history li").evaluateAll((items) => items.map((li) => li.dataset.to));
    check(steps.includes("allocated"), `history has the allocation: ${steps}`);
    check(steps.includes("pending_deletion"), `history has the mark-for-deletion: ${steps}`);
    check((await page.locator("#history").innerText()).includes("track:"), "history names the track token that acted");
    await shoot(page, "sandbox-history");
  },

  // Release behind a confirmation: Cancel changes nothing, Confirm moves the sandbox to pending_deletion.
  async release(page) {
    await signIn(page);
    await page.goto(new URL("/console/#sandboxes", broker).href);
    await page.getByLabel("Requester").fill("student-bob");
    await page.getByRole("button", { name: "Search" }).click();
    // The unfiltered first page may still be on screen: wait for the participant's row.
    await page.locator("#sandbox-table tbody tr", { hasText: "student-bob" }).locator("button").click();
    const release = page.getByRole("button", { name: "Release…" });
    await release.waitFor();
    const id = await page.locator("#sandbox-detail").getAttribute("data-sandbox-id");
    await release.click();
    await page.getByRole("dialog").waitFor();
    await page.keyboard.press("Escape");
    check((await adminApi(`/sandboxes/${id}`)).status === "allocated", "Escape cancels: still allocated");
    await release.click();
    await page.getByRole("dialog").getByRole("button", { name: "Release" }).click();
    await page.locator('#detail-fields [data-field="Status"]', { hasText: "pending_deletion" }).waitFor();
    check((await adminApi(`/sandboxes/${id}`)).status === "pending_deletion", "the store has it pending_deletion");
    check((await page.locator("#message").innerText()).includes("pending_deletion"), "the page says what happened");
    await shoot(page, "release-done");
  },

  // The sandbox changed behind the page: its participant released it and cleanup deleted it, then the operator clicks
  // Release. The broker's real answer (404, a tombstone) is shown in the page. A 409 INVALID_STATE cannot come from
  // this button on a real broker (it shows only for allocated sandboxes and a repeat release is a 200), so its display
  // is checked with the broker's problem body for that case answered by the browser's router.
  async "changed-behind-the-page"(page) {
    await signIn(page);
    await page.goto(new URL("/console/#sandboxes", broker).href);
    await page.getByLabel("Requester").fill("student-carol");
    await page.getByRole("button", { name: "Search" }).click();
    // The unfiltered first page may still be on screen: wait for the participant's row.
    await page.locator("#sandbox-table tbody tr", { hasText: "student-carol" }).locator("button").click();
    const release = page.getByRole("button", { name: "Release…" });
    await release.waitFor();
    const id = await page.locator("#sandbox-detail").getAttribute("data-sandbox-id");
    const track = { Authorization: "Bearer " + process.env.TRACK_TOKEN, "X-Instruqt-Sandbox-ID": "student-carol" };
    check((await fetch(new URL(`/v1/sandboxes/${id}/mark-for-deletion`, broker), { method: "POST", headers: track })).ok, "carol releases it");
    check((await adminApi("/cleanup", "POST")).deleted >= 1, "cleanup deletes it upstream");
    await release.click();
    await page.getByRole("dialog").getByRole("button", { name: "Release" }).click();
    await page.locator("#message", { hasText: "not found" }).waitFor();
    check((await page.locator("#message").innerText()).includes("SANDBOX_NOT_FOUND"), "the problem code is shown");
    await page.locator('#detail-fields [data-field="Status"]', { hasText: "deleted" }).waitFor(); // re-read after the error
    check(await release.isHidden(), "a deleted sandbox offers no Release");

    await page.route("**/release", (route) => route.fulfill({
      status: 409, contentType: "application/problem+json",
      body: JSON.stringify({ status: 409, title: "Conflict", detail: `Sandbox ${id} is available; release needs allocated.`, code: "INVALID_STATE", request_id: "r-409" }),
    }));
    await page.evaluate(() => { document.getElementById("release").hidden = false; });
    await release.click();
    await page.getByRole("dialog").getByRole("button", { name: "Release" }).click();
    await page.locator("#message", { hasText: "release needs allocated" }).waitFor();
    check((await page.locator("#message").innerText()).includes("INVALID_STATE, request r-409"), "code and request id are shown");
    await shoot(page, "release-conflict");
  },

  // A wrong token: the page says so and offers the sign-in again, never a blank screen.
  async "wrong-token"(page) {
    await signIn(page, "not-a-real-token-at-all");
    await page.locator("#message").waitFor({ state: "visible" });
    check((await page.locator("#message").innerText()).includes("token was refused"), "the refusal is explained");
    check(await page.getByLabel("Admin token").isVisible(), "the sign-in form is back");
    check(await page.evaluate(() => sessionStorage.length === 0), "the refused token is forgotten");
    await shoot(page, "wrong-token");
  },

  // The broker unreachable mid-session: the page says so instead of going blank.
  async unreachable(page) {
    await signIn(page);
    await page.locator('[data-stat="available"]').waitFor();
    await page.route("**/v1/admin/**", (route) => route.abort("connectionrefused"));
    await page.locator("#message", { hasText: "cannot be reached" }).waitFor({ timeout: 12000 });
    check(await page.locator('[data-stat="available"]').isVisible(), "the last numbers stay on screen");
  },

  // Repairs: the dry run previews, Cancel leaves everything as it was; the jobs view lists every job's runs.
  async "repairs-and-jobs"(page) {
    await signIn(page);
    await page.getByRole("link", { name: "Repairs" }).click();
    await page.getByLabel("Repair", { exact: true }).selectOption("bulk-stale");
    await page.getByRole("button", { name: "Preview (dry run)" }).click();
    await page.locator("#repair-preview-text", { hasText: "Dry run" }).waitFor();
    await shoot(page, "repairs");
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("link", { name: "Jobs" }).click();
    await page.locator('[data-job="sync"] tbody tr').first().waitFor();
    check((await page.locator("[data-job]").count()) >= 4, "every job is listed");
    await page.getByRole("button", { name: "Run expiry" }).click();
    await page.locator("#job-progress", { hasText: "expiry finished" }).waitFor();
    // The runs table refreshes after the progress line says finished: wait for the new row (a CI run counted too early).
    await page.locator('[data-job="expiry"] tbody tr').nth(1).waitFor({ timeout: 10000 }).catch(() => {});
    check((await page.locator('[data-job="expiry"] tbody tr').count()) >= 2, "the triggered run is listed under expiry");
    await shoot(page, "jobs");
  },
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM, headless: true, args: ["--no-sandbox"] });
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    if (expectedLoadErrors[scenario]?.test(message.text())) return;
    consoleErrors.push(message.text());
  });
  page.on("pageerror", (error) => consoleErrors.push("uncaught: " + error.message));
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin !== broker.origin && !url.protocol.startsWith("data")) foreignRequests.push(request.url());
  });
  if (!scenarios[scenario]) throw new Error(`no scenario ${scenario}`);
  await scenarios[scenario](page);
  check((await page.locator("main").innerText()).trim().length > 0, "the page is never blank");
} catch (error) {
  failures.push(`${scenario}: ${error.stack || error}`);
} finally {
  await browser.close();
}

const ok = failures.length === 0 && consoleErrors.length === 0 && foreignRequests.length === 0;
console.log(JSON.stringify({ ok, failures, console_errors: consoleErrors, foreign_requests: foreignRequests, screenshots }));
process.exit(ok ? 0 : 1);
