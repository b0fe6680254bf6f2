import { defineConfig } from "tsup";

export default defineConfig({
  entry: { index: "src/index.ts", cli: "src/cli.ts" },
  format: ["esm"],
  target: "node20",
  platform: "node",
  dts: { entry: { index: "src/index.ts" } },
  clean: true,
  sourcemap: false,
  splitting: true,
  // The bench's anchors are devDependencies, loaded lazily and skipped when absent: bundling them
  // would break the CommonJS ones (write-file-atomic) and ship them to every user.
  // The AWS SDK and vega are optional peer dependencies: imported at run time from the user's
  // node_modules when installed (src/optional-package.ts), never bundled.
  external: ["write-file-atomic", "hash-wasm", "@chainsafe/as-sha256", "@aws-sdk/client-s3", "@aws-sdk/lib-storage", "vega", "vega-lite"],
});
