// The layers of ckptkit, lowest first: a module imports only from its own layer or one listed
// before it. Used by .dependency-cruiser.cjs (the rules) and scripts/architecture.mjs (the picture).
const LAYERS = [
  // The core's foundation: errors, the DurableFs interface, paths, pacing, the one runtime module.
  ["base", "^src/(errors|fs|fs-arg|fs-util|path|env|runtime|abort|pace|pull|rng|lanes|optional-package)[.]ts$"],
  // The WASM kernel and the hashing built on it.
  ["kernel", "^src/(wasm/|hash[.]ts$|hash-stream[.]ts$)"],
  // Bytes on disk: the container format, the write protocols, the writer lock, argument checks.
  ["format", "^src/(format/|lock/|protocol[.]ts$|check-args[.]ts$)"],
  // The store (checkpoints) and the write-ahead log: siblings, neither imports the other.
  ["store+log", "^src/(store|wal)/"],
  // Durable state: snapshots (the store) plus changes (the log).
  ["state", "^src/state/"],
  // Runtime adapters (node, deno, bun, memory, faulty, tracing, s3): implement DurableFs.
  ["adapters", "^adapters/"],
  // The library's opening calls with `fs` defaulted to the runtime's adapter (src/open.ts).
  ["defaults", "^src/open[.]ts$"],
  // Crash and corruption tooling (the power-loss simulator's explorer, the experiments).
  ["tools", "^src/(crash/|explore/|corrupt[.]ts$)"],
  // The benchmark suites, report and charts: above the library, below the CLI.
  ["bench", "^bench/"],
  // Entry points: they pick the adapter and pass `fs` down.
  ["entry", "^src/(index|cli|browser|browser-rpc)[.]ts$|^src/cli/"],
];
// The library core (base to state): no node:* module, no package, no runtime global but in src/runtime.ts.
const CORE =
  "^src/(errors|fs|fs-arg|fs-util|path|env|runtime|abort|pace|pull|rng|lanes|optional-package|hash|hash-stream|protocol|check-args)[.]ts$|^src/(wasm|format|lock|store|wal|state)/";

module.exports = { LAYERS, CORE };
