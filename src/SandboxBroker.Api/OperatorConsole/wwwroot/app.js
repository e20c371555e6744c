// The console's shell: sign-in, hash routing between the views, the 5 s overview refresh, and error display.
import { token, ApiError } from "./api.js";
import { $, showMessage, clearMessage, describe } from "./ui.js";
import { refreshOverview } from "./overview.js";
import { setUpSandboxes, showSandboxes } from "./sandboxes.js";
import { setUpRepairs } from "./repairs.js";
import { setUpJobs, showJobs, stopFollowing } from "./jobs.js";

const VIEWS = ["overview", "sandboxes", "repairs", "jobs"];
const REFRESH_MS = 5000;
let timer = null;

function handleError(error) {
  if (!(error instanceof ApiError)) {
    console.warn(error); // a bug in the console itself: still say something rather than show a blank page
    showMessage("Something went wrong in the console. Reload the page.");
    return;
  }
  if (error.kind === "auth" || error.kind === "forbidden") {
    signOut();
  }
  showMessage(error.message, { detail: describe(error) });
}

function signOut() {
  token.clear();
  clearInterval(timer);
  timer = null;
  stopFollowing();
  route();
}

async function refresh() {
  try {
    await refreshOverview();
    if (!$("message").classList.contains("info")) clearMessage();
  } catch (error) {
    handleError(error);
  }
}

function route() {
  const signedIn = Boolean(token.get());
  const wanted = location.hash.slice(1);
  const view = signedIn ? (VIEWS.includes(wanted) ? wanted : "overview") : "signin";
  for (const section of document.querySelectorAll(".view")) {
    section.hidden = section.id !== "view-" + view;
  }
  $("nav").hidden = !signedIn;
  $("sign-out").hidden = !signedIn;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.view === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  clearInterval(timer);
  timer = null;
  if (view === "overview") {
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
  } else if (view === "sandboxes") {
    showSandboxes();
  } else if (view === "jobs") {
    showJobs();
  } else {
    stopFollowing();
  }
  if (view === "signin") $("token").focus();
}

$("signin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const value = $("token").value.trim();
  if (!value) return;
  token.set(value);
  $("token").value = "";
  clearMessage();
  if (location.hash !== "#overview") location.hash = "#overview";
  else route();
});
$("sign-out").addEventListener("click", () => { clearMessage(); signOut(); });
window.addEventListener("hashchange", () => { clearMessage(); route(); $("main").focus(); });

setUpSandboxes(handleError);
setUpRepairs(handleError);
setUpJobs(handleError);
route();
