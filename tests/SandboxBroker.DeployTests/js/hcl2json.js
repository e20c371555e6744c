// Parses every .tf and .tfvars file under a directory with @cdktn/hcl2json (offline, WebAssembly) and prints
// one JSON object: { "<path relative to the directory>": <parsed file>, ... }. Exit 2 on a parse error.
// Usage: NODE_PATH=tools/node_modules node hcl2json.js <dir>
"use strict";
const fs = require("fs");
const path = require("path");
const { parse } = require("@cdktn/hcl2json");

function walk(dir, out) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".")) continue; // .terraform, editor files
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (/\.(tf|tfvars)$/.test(entry.name)) out.push(full);
  }
  return out;
}

(async () => {
  const root = process.argv[2];
  const result = {};
  for (const file of walk(root, []).sort()) {
    const rel = path.relative(root, file).split(path.sep).join("/");
    try {
      result[rel] = await parse(rel, fs.readFileSync(file, "utf8"));
    } catch (e) {
      console.error(`${rel}: ${e && e.message ? e.message : e}`);
      process.exit(2);
    }
  }
  process.stdout.write(JSON.stringify(result));
})();
