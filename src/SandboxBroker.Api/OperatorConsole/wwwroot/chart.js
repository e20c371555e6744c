// Per-minute activity as an inline SVG bar chart (three bars per minute); no library, nothing inline but attributes.
import { el } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";
const SERIES = [["allocations", "Allocations"], ["releases", "Releases"], ["deletions", "Deletions"]];

function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

export function drawActivity(container, perMinute) {
  const width = 600, height = 160, left = 28, bottom = 18, top = 6;
  const max = Math.max(1, ...perMinute.flatMap((m) => SERIES.map(([key]) => m[key])));
  const slot = (width - left) / Math.max(1, perMinute.length);
  const bar = Math.max(1, slot / 3 - 0.5);
  const scale = (v) => ((height - bottom - top) * v) / max;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "chart-title chart-desc" });
  const total = (key) => perMinute.reduce((sum, m) => sum + m[key], 0);
  const title = svg("title", { id: "chart-title" });
  title.textContent = "Allocations, releases and deletions per minute";
  const desc = svg("desc", { id: "chart-desc" });
  desc.textContent = SERIES.map(([key, label]) => `${label}: ${total(key)}`).join(", ") + ` over ${perMinute.length} minutes.`;
  root.append(title, desc);
  root.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width, y2: height - bottom }));
  const maxLabel = svg("text", { x: 0, y: top + 8 });
  maxLabel.textContent = String(max);
  root.append(maxLabel);
  perMinute.forEach((minute, i) => {
    SERIES.forEach(([key], s) => {
      const h = scale(minute[key]);
      if (h > 0) {
        root.append(svg("rect", { class: key, x: left + i * slot + s * (bar + 0.5), y: height - bottom - h, width: bar, height: h }));
      }
    });
    if (i % 15 === 0 || i === perMinute.length - 1) {
      const last = i === perMinute.length - 1;
      const label = svg("text", { x: last ? width : left + i * slot, y: height - 4, "text-anchor": last ? "end" : "start" });
      label.textContent = new Date(minute.minute * 1000).toISOString().slice(11, 16);
      root.append(label);
    }
  });
  const legend = el("ul", { class: "legend" },
    SERIES.map(([key, label]) => el("li", {}, el("span", { class: key, "aria-hidden": "true" }), `${label} ${total(key)}`)));
  container.replaceChildren(root, legend);
}
