// Small DOM helpers: every value goes in as text, never as HTML.
export const $ = (id) => document.getElementById(id);

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A table from column definitions {label, value(row), num?}. */
export function fillTable(table, columns, rows, caption) {
  table.replaceChildren(
    ...(caption ? [el("caption", { class: "muted", text: caption })] : []),
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.num ? "num" : null, text: c.label })))),
    el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((c) => {
      const value = c.value(row);
      return el("td", { class: c.num ? "num" : null }, value instanceof Node ? value : value ?? "—");
    })))),
  );
}

export function time(epochSeconds) {
  if (!epochSeconds) return "—";
  return new Date(epochSeconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** Shows an error (or, with info, a notice) in the page's alert region. */
export function showMessage(text, { info = false, detail = "" } = {}) {
  const box = $("message");
  box.classList.toggle("info", info);
  box.textContent = detail ? `${text} (${detail})` : text;
  box.hidden = false;
}

export function clearMessage() {
  $("message").hidden = true;
  $("message").textContent = "";
}

export function describe(error) {
  const parts = [error.code, error.requestId ? `request ${error.requestId}` : ""].filter(Boolean);
  return parts.join(", ");
}

/** A modal confirmation (native dialog: focus is trapped, Escape cancels). Resolves true on Confirm. */
export function confirmAction(title, text, confirmLabel = "Confirm") {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = confirmLabel;
  return new Promise((resolve) => {
    const finish = (answer) => {
      $("confirm-yes").removeEventListener("click", yes);
      $("confirm-no").removeEventListener("click", no);
      dialog.removeEventListener("cancel", no);
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const yes = () => finish(true);
    const no = () => finish(false);
    $("confirm-yes").addEventListener("click", yes);
    $("confirm-no").addEventListener("click", no);
    dialog.addEventListener("cancel", no);
    dialog.showModal();
    $("confirm-no").focus();
  });
}
