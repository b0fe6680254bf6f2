// CLI commands on single files: inspect (structure and checksums) and corrupt (fault injection).
import { CORRUPT_BITS_SHOWN, CORRUPT_MODES, corruptFile, parseCorruptMode } from "../corrupt.ts";
import { FsError, UsageError } from "../errors.ts";
import { toHex } from "../hash.ts";
import type { Command } from "./command.ts";
import { escapeText as esc } from "./escape.ts";
import { intFlag, need } from "./flags.ts";
import { INSPECT_CHUNKS, verifyFile } from "./verify-file.ts";

export const inspectCommand: Command = {
  name: "inspect",
  usage: "inspect <checkpoint file> [--json]",
  summary: "show a checkpoint file's header, metadata, chunk table and checksums (exit 1 if malformed)",
  help:
    `The chunk table lists the first ${INSPECT_CHUNKS} chunks; chunkCount, badChunks and chunksOmitted count them all.`,
  options: {},
  exits: "0 valid, 1 malformed or damaged, 2 usage error, 3 I/O error",
  async run(ctx) {
    const [path] = need(ctx, 1, "<checkpoint file>");
    const st = await ctx.fs.stat(path!);
    if (!st) throw new FsError("ENOENT", "inspect", path!);
    if (!st.isFile) throw new UsageError(`${path} is not a file`);
    const r = await verifyFile(ctx.fs, path!, INSPECT_CHUNKS);
    const s = r.scan!;
    const stats = r.chunkStats!;
    const doc = {
      path,
      ok: r.ok,
      kind: r.kind,
      fileSize: r.fileSize,
      header: s.header ?? null,
      metadata: s.meta ?? null,
      chunks: (r.chunks ?? []).map((c) => ({
        index: c.index,
        offset: c.offset,
        length: c.length,
        type: c.type,
        crc32: c.crc.toString(16).padStart(8, "0"),
        ok: c.ok,
      })),
      chunkCount: stats.total,
      badChunks: stats.bad,
      chunksOmitted: stats.total - (r.chunks?.length ?? 0),
      sha256: s.fileSha256 ? toHex(s.fileSha256) : null,
      members: r.members ?? null,
      memberCount: r.memberCount ?? null,
      damage: r.damage,
    };
    if (ctx.json) ctx.out(JSON.stringify(doc));
    else {
      ctx.out(`${path}: ${r.kind} file, ${r.fileSize} bytes, ${r.ok ? "valid" : "DAMAGED"}`);
      if (s.header) {
        const h = s.header;
        ctx.out(
          `header: version ${h.version}, chunk size ${h.chunkSize}, payload ${h.payloadLength} bytes in ${h.chunkCount} chunks, metadata ${h.metaLength} bytes, created ${
            new Date(h.createdAt).toISOString()
          }`,
        );
      }
      for (const [k, v] of Object.entries(s.meta ?? {})) ctx.out(`meta ${esc(k)} = ${esc(String(v))}`);
      for (const m of r.members ?? []) {
        ctx.out(
          m.inline
            ? `member ${esc(m.name)} inline: ${m.payloadSize} bytes, sha256 ${m.sha256}`
            : `member ${esc(m.name)} -> ${esc(m.file)}: ${m.payloadSize} bytes, ${m.blocks} blocks, sha256 ${m.sha256}`,
        );
      }
      const moreMembers = (r.memberCount ?? 0) - (r.members?.length ?? 0);
      if (moreMembers > 0) ctx.out(`… ${moreMembers} more members not listed (${r.memberCount} in all)`);
      for (const c of doc.chunks) {
        ctx.out(
          `chunk ${String(c.index).padStart(4)} @${c.offset} +${c.length} type ${c.type} crc32 ${c.crc32} ${
            c.ok ? "ok" : "BAD"
          }`,
        );
      }
      if (doc.chunksOmitted > 0) {
        ctx.out(`… ${doc.chunksOmitted} more chunks not listed (${doc.chunkCount} in all, ${doc.badChunks} bad)`);
      }
      if (doc.sha256) {
        ctx.out(
          `${
            (s.header?.version ?? 1) >= 2
              ? "sha256 tree root (docs/FORMAT.md)"
              : "sha256 (all bytes before the trailer)"
          } ${doc.sha256}`,
        );
      }
      for (const d of r.damage) ctx.out(`damage: ${d.kind} at byte ${d.offset}: ${esc(d.message)}`);
    }
    return r.ok ? 0 : 1;
  },
};

export const corruptCommand: Command = {
  name: "corrupt",
  usage: `corrupt <file> --mode ${CORRUPT_MODES.join("|")} [--seed N] [--offset O] [--length L] [--json]`,
  summary: "damage a file deterministically (fault injection for experiments) and print what was done",
  help:
    "bitflip flips one bit in each of L bytes (default 1) from O; zerorange zeroes L bytes from O;\ntruncate cuts the file to O bytes (or drops L bytes from its end). Unset values come from the seed.",
  options: {
    mode: { type: "string", arg: "M", help: `${CORRUPT_MODES.join(", ")} (required)` },
    seed: { type: "string", arg: "N", help: "seed for every value not given (default: random, printed)" },
    offset: { type: "string", arg: "O", help: "where the damage starts (truncate: the new size)" },
    length: { type: "string", arg: "L", help: "how many bytes to damage (truncate: how many to drop from the end)" },
  },
  exits: "0 damaged as printed, 2 usage error, 3 I/O error",
  async run(ctx) {
    const [path] = need(ctx, 1, "<file>");
    if (ctx.values.mode === undefined) throw new UsageError("--mode is required");
    const mode = parseCorruptMode(ctx.values.mode as string);
    const r = await corruptFile(ctx.fs, path!, mode, {
      seed: intFlag(ctx.values, "seed"),
      offset: intFlag(ctx.values, "offset"),
      length: intFlag(ctx.values, "length", 1),
    });
    // One bit per damaged byte would make `--length 90000000` print 180 MB: the first
    // CORRUPT_BITS_SHOWN are listed, the rest counted (the seed reproduces them all).
    const bits = r.bits ? Array.from(r.bits.subarray(0, CORRUPT_BITS_SHOWN)) : undefined;
    const bitsOmitted = r.bits ? r.bits.length - bits!.length : undefined;
    if (ctx.json) ctx.out(JSON.stringify({ ...r, bits, bitsOmitted }));
    else if (mode === "truncate") {
      ctx.out(`truncated ${path} from ${r.sizeBefore} to ${r.sizeAfter} bytes (seed ${r.seed})`);
    } else {ctx.out(
        `${mode}: ${r.length} byte(s) at offset ${r.offset} of ${path}, ${r.bytesChanged} changed (seed ${r.seed}${
          bits ? `, bits ${bits.join(",")}${bitsOmitted ? ` … and ${bitsOmitted} more` : ""}` : ""
        })`,
      );}
    return 0;
  },
};
