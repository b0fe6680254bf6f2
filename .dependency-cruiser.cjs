// The layer rules, enforced in CI (`npm run lint:layers`; docs/ARCHITECTURE.md draws them).
//
// A module may import only from its own layer or a layer listed BEFORE it, never one after it.
// The layers, lowest first, are in scripts/layers.cjs (scripts/architecture.mjs draws them too).
const { LAYERS, CORE } = require("./scripts/layers.cjs");

const upward = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `no-upward-from-${name}`,
  comment: `layer '${name}' imports only from itself or lower layers (${LAYERS.slice(0, i).map(([n]) => n).join(", ") || "none"})`,
  severity: "error",
  from: { path },
  to: { path: LAYERS.slice(i + 1).map(([, p]) => `(${p})`).join("|") },
}));

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "no import cycles: each layer and each folder reads in one direction",
      severity: "error",
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
    {
      name: "no-type-only-circular",
      comment:
        "a cycle closed by an `import type` does not affect load order, but a reader still cannot read the files in one direction: give the helper a narrow interface below both (src/store/store-context.ts)",
      severity: "error",
      from: {},
      to: { circular: true, via: { dependencyTypes: ["type-only"] } },
    },
    ...upward,
    {
      name: "store-and-log-are-siblings",
      comment: "the store and the log share the lock (src/lock/) and the format; neither imports the other",
      severity: "error",
      from: { path: "^src/(store|wal)/" },
      to: { path: "^src/(store|wal)/", pathNot: "^src/$1/" },
    },
    {
      name: "only-format-and-hash-touch-the-kernel",
      comment: "the kernel's memory layout (ioPtr, scratch slots) is the format and hash layers' business: the store, the log and the state never import src/wasm/",
      severity: "error",
      from: { path: "^src/(store|wal|state|lock)/" },
      to: { path: "^src/wasm/" },
    },
    {
      name: "adapters-see-only-the-base",
      comment: "an adapter implements DurableFs with the base layer's help (errors, path, env) and nothing else of the core",
      severity: "error",
      from: { path: "^adapters/" },
      to: { path: "^src/", pathNot: LAYERS[0][1] },
    },
    {
      name: "core-imports-no-runtime-module",
      comment: "the core imports no node:* (or bun:*) module: storage comes in as a DurableFs. One named exception: the hash workers " +
        "(v1's stream, v2's leaf pool) use node:worker_threads, the one worker API that Node, Deno and Bun share (docs/ENGINE.md)",
      severity: "error",
      from: { path: CORE, pathNot: "^src/wasm/(hash-worker|leaf-pool)[.]ts$" },
      to: { dependencyTypes: ["core"] },
    },
    {
      name: "core-imports-no-package",
      comment: "the core has no npm dependency (optional packages such as the AWS SDK load in adapters/, behind optional-package.ts)",
      severity: "error",
      from: { path: CORE },
      to: { dependencyTypes: ["npm", "npm-dev", "npm-optional", "npm-peer", "npm-no-pkg", "npm-unknown"] },
    },
    {
      name: "library-entry-reaches-no-cli-or-bench",
      comment: "what `import \"ckptkit\"` loads holds no CLI, no bench and no chart library",
      severity: "error",
      from: { path: "^src/(index|open)[.]ts$" },
      to: { path: "^src/cli[./]|^bench/|node_modules/(vega|vega-lite)/", reachable: true },
    },
    {
      name: "every-module-in-a-layer",
      comment: "a new file under src/, adapters/ or bench/ must match one layer in .dependency-cruiser.cjs",
      severity: "error",
      from: { path: "^(src|adapters|bench)/", pathNot: LAYERS.map(([, p]) => `(${p})`).join("|") },
      to: {},
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^src/wasm/kernel-bytes[.]generated[.]ts$" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".js", ".mjs", ".cjs", ".d.ts"] },
    reporterOptions: {
      archi: { collapsePattern: "^(src/(cli|store|wal|state|format|wasm|lock|crash|explore)|adapters|bench)/" },
    },
  },
};
