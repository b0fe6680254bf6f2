#!/usr/bin/env node
// dependency-cruiser sees imports, not globals: this finds the core files that name a runtime's
// globals (`Deno`, `Bun`, `process`) in code. The core's one runtime module is src/runtime.ts
// (detectRuntime, env); everything else asks it. Comments and strings are skipped.
// Usage: node scripts/check-runtime-globals.mjs   (exit 1 and a list when a core file names one)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const { CORE } = createRequire(import.meta.url)("./layers.cjs");
const ALLOWED = new Set(["src/runtime.ts"]);
const GLOBALS = /\b(Deno|Bun)\b|\b(process)\.(?:env|argv|platform|versions|version|pid|exit|on|execPath|cwd)\b/;

function* files(dir) {
  for (const name of readdirSync(join(root, dir))) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) yield* files(rel);
    else if (rel.endsWith(".ts") && !rel.endsWith(".generated.ts")) yield rel;
  }
}

/** The source with comments and string/template literal contents blanked (line numbers kept). */
function codeOnly(src) {
  return src
    .replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, " "))
    .replace(/\/\/[^\n]*/g, "")
    .replace(/(["'`])(?:\\.|(?!\1)[^\\\n])*\1/g, (m) => m[0] + " ".repeat(m.length - 2) + m[0]);
}

const core = [...files("src")].filter((f) => new RegExp(CORE).test(f));
const hits = [];
for (const f of core) {
  if (ALLOWED.has(f)) continue;
  codeOnly(readFileSync(join(root, f), "utf8")).split("\n").forEach((line, i) => {
    const m = GLOBALS.exec(line);
    if (m) {
      hits.push(
        `${relative(root, join(root, f))}:${i + 1}: names the runtime global '${
          m[1] ?? m[2]
        }' (ask src/runtime.ts instead)`,
      );
    }
  });
}
if (hits.length > 0) {
  console.error(hits.join("\n"));
  process.exit(1);
}
console.log(`runtime globals: ${core.length} core files name none (only ${[...ALLOWED].join(", ")} may)`);
