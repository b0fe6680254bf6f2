import { defineConfig } from "tsup";
import { resolve } from "node:path";
import type { Plugin } from "esbuild";

/**
 * The browser build swaps the three modules that reach node: (the runtime detection, whose Node,
 * Deno and Bun adapters use node:fs, and the node:worker_threads hash worker and v2 leaf pool) for
 * their browser versions; everything else is the same source. test/browser.test.ts scans the output for node:.
 */
const browserSwaps: Plugin = {
  name: "ckptkit-browser-swaps",
  setup(build) {
    const swaps: Record<string, string> = {
      "adapters/detect.ts": "adapters/detect-browser.ts",
      "src/wasm/hash-worker.ts": "src/wasm/hash-worker-browser.ts",
      "src/wasm/leaf-pool.ts": "src/wasm/leaf-pool-browser.ts",
    };
    build.onResolve({ filter: /(detect|hash-worker|leaf-pool)\.ts$/ }, (args) => {
      const abs = resolve(args.resolveDir, args.path);
      for (const [from, to] of Object.entries(swaps)) if (abs === resolve(from)) return { path: resolve(to) };
      return undefined;
    });
  },
};

export default defineConfig([
  {
    entry: { index: "src/index.ts", cli: "src/cli.ts" },
    format: ["esm"],
    target: "node20",
    platform: "node",
    dts: { entry: { index: "src/index.ts" } },
    // Everything but the browser build, which the second config writes at the same time.
    clean: ["**/*", "!browser.js", "!browser.d.ts"],
    sourcemap: false,
    splitting: true,
    // The bench's anchors are devDependencies, loaded lazily and skipped when absent: bundling them
    // would break the CommonJS ones (write-file-atomic) and ship them to every user.
    // The AWS SDK and vega are optional peer dependencies: imported at run time from the user's
    // node_modules when installed (src/optional-package.ts), never bundled.
    external: ["write-file-atomic", "hash-wasm", "@chainsafe/as-sha256", "@aws-sdk/client-s3", "@aws-sdk/lib-storage", "vega", "vega-lite"],
  },
  {
    // dist/browser.js: one ESM file for bundlers and <script type=module>, no node: imports.
    entry: { browser: "src/browser.ts" },
    format: ["esm"],
    target: "es2022",
    platform: "browser",
    dts: { entry: { browser: "src/browser.ts" } },
    clean: false,
    sourcemap: false,
    splitting: false,
    esbuildPlugins: [browserSwaps],
  },
]);
