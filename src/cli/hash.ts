// `ckpt hash <file>…`: CRC-32 and SHA-256 of files, streamed through the kernel.
import { createSha256, crc32, toHex } from "../hash.ts";
import { readFully } from "../fs-util.ts";
import type { Command } from "./command.ts";
import { need } from "./flags.ts";

export const hashCommand: Command = {
  name: "hash",
  usage: "hash <file>… [--json]",
  summary: "print CRC-32 and SHA-256 of files (the WASM kernel, streamed)",
  options: {},
  async run(ctx) {
    const files = need(ctx, 1, "<file>");
    const results = [];
    const buf = new Uint8Array(1 << 20);
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
        }
        results.push({ path, bytes: pos, crc32: crc.toString(16).padStart(8, "0"), sha256: toHex(sha.digest()) });
      } finally {
        await h.close();
      }
    }
    if (ctx.json) ctx.out(JSON.stringify({ runtime: ctx.runtime, files: results }));
    else for (const r of results) ctx.out(`${r.crc32}  ${r.sha256}  ${r.bytes}  ${r.path}  (${ctx.runtime})`);
    return 0;
  },
};
