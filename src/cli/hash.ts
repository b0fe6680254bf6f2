// `ckpt hash <file>…`: CRC-32 and SHA-256 of files, streamed through the kernel.
import { crc32, createSha256, toHex } from "../hash.ts";
import { readFully } from "../fs-util.ts";
import type { Command } from "./command.ts";
import { need } from "./flags.ts";
import { byteProgress, NO_PROGRESS } from "./progress.ts";

export const hashCommand: Command = {
  name: "hash",
  usage: "hash <file>… [--json]",
  summary: "print CRC-32 and SHA-256 of files (the WASM kernel, streamed)",
  options: {},
  exits: "0 hashed, 2 usage error, 3 I/O error",
  async run(ctx) {
    const files = need(ctx, 1, "<file>");
    const results = [];
    const buf = new Uint8Array(1 << 20);
    const bar = byteProgress(ctx, "hash");
    // The total is every file's size up front (only when a bar is drawn): one bar for the run.
    let total = 0;
    if (bar !== NO_PROGRESS) { for (const path of files) total += (await ctx.fs.stat(path))?.size ?? 0; }
    let hashed = 0;
    try {
      for (const path of files) {
        const h = await ctx.fs.open(path);
        try {
          const sha = createSha256();
          let crc = 0;
          let pos = 0;
          for (;;) {
            const n = await readFully(h, buf, pos);
            if (n === 0) break;
            const part = buf.subarray(0, n);
            crc = crc32(part, crc);
            sha.update(part);
            pos += n;
            bar.update(hashed += n, Math.max(total, hashed));
          }
          results.push({ path, bytes: pos, crc32: crc.toString(16).padStart(8, "0"), sha256: toHex(sha.digest()) });
        } finally {
          await h.close();
        }
      }
    } finally {
      bar.stop();
    }
    if (ctx.json) ctx.out(JSON.stringify({ runtime: ctx.runtime, files: results }));
    else for (const r of results) ctx.out(`${r.crc32}  ${r.sha256}  ${r.bytes}  ${r.path}  (${ctx.runtime})`);
    return 0;
  },
};
