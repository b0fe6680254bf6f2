// `ckpt log append|replay|truncate|repair` over the write-ahead log (src/wal/).
import { FsError, UsageError } from "../errors.ts";
import { readFile } from "../fs-util.ts";
import { MAX_RECORD_PAYLOAD } from "../wal/format.ts";
import { openLog, replayLog } from "../wal/log.ts";
import { repairLog } from "../wal/repair.ts";
import type { Command, CommandContext } from "./command.ts";
import { escapeList, escapeText as esc } from "./escape.ts";
import { intFlag, need } from "./flags.ts";
import { didYouMean } from "./suggest.ts";

async function mustExist(ctx: CommandContext, dir: string): Promise<void> {
  const st = await ctx.fs.stat(dir);
  if (!st) throw new FsError("ENOENT", "open log", dir);
  if (!st.isDirectory) throw new FsError("ENOTDIR", "open log", dir);
}

const SUBCOMMANDS = ["append", "replay", "truncate", "repair"];

export const logCommand: Command = {
  name: "log",
  usage:
    "log append <log> <data-file or -> | log replay <log> [--salvage] | log truncate <log> --before SEQ | log repair <log>",
  summary: "the write-ahead log: durable appends with group commit, replay with a recovery report",
  help: [
    "append    adds one record (a file's bytes, or standard input with -) and prints its sequence",
    "          once it is durable; opening moves a torn tail into a side file; damage (mid-log, or a",
    "          complete last record whose CRC fails) refuses (exit 1) and names `log repair`",
    "replay    reads without modifying: recovered, discarded, lastSequence, truncatedBytes, damage",
    "          (always exit 0); --salvage continues past damage",
    "truncate  removes whole segments whose records all precede SEQ",
    "repair    keeps damaged bytes in a side file, truncates at the last good record, and continues",
    "          above every sequence they may hold",
    "<log> is a local directory (not s3://)",
  ].join("\n"),
  options: {
    salvage: { type: "boolean", help: "replay: continue past damage" },
    before: { type: "string", arg: "SEQ", help: "truncate: remove segments whose records all precede SEQ" },
  },
  exits:
    "0 done (replay: whether or not it found damage), 1 append refused on a damaged log, 2 usage error, 3 I/O error",
  async run(ctx) {
    const [sub, dir, arg] = need(ctx, 2, "a subcommand (append, replay, truncate, repair) and <log>");
    // The log appends in place and fsyncs; an object store can do neither.
    const remote = ctx.positionals.slice(1).find((p) => /^s3:\/\//i.test(p));
    if (remote !== undefined) {
      throw new UsageError(
        `log ${sub} works on a local directory only, not an s3:// path (${remote}): keep the log on a local disk and save checkpoints to S3`,
      );
    }
    switch (sub) {
      case "append": {
        if (arg === undefined) throw new UsageError("log append needs <data-file or ->");
        const data = arg === "-"
          ? await ctx.readStdin(MAX_RECORD_PAYLOAD)
          : await readFile(ctx.fs, arg, MAX_RECORD_PAYLOAD);
        // One record per process: a new segment is not preallocated (writing and fsyncing its
        // zeros would cost more than the record). Segments the library preallocated are still
        // appended to in place.
        const log = await openLog(dir!, { fs: ctx.fs, preallocate: false, onWarning: (m) => ctx.note(esc(m)) });
        try {
          const sequence = await log.append(data);
          const r = log.recovery;
          if (ctx.json) {
            ctx.out(
              JSON.stringify({
                sequence,
                bytes: data.length,
                log: dir,
                truncatedBytes: r.truncatedBytes,
                cutBytes: r.cutBytes,
                sideFile: r.sideFile,
              }),
            );
          } else {ctx.out(
              `appended record ${sequence} (${data.length} bytes)${
                r.sideFile ? `; first moved a torn tail of ${r.cutBytes} bytes into ${r.sideFile}` : ""
              }`,
            );}
        } finally {
          await log.close();
        }
        return 0;
      }
      case "replay": {
        await mustExist(ctx, dir!);
        const r = await replayLog(dir!, { fs: ctx.fs, salvage: ctx.values.salvage === true });
        const damage = r.damage
          ? { sequence: r.damage.sequence, offset: r.damage.offset, reason: r.damage.reason, segment: r.damage.segment }
          : null;
        if (ctx.json) {
          ctx.out(
            JSON.stringify({
              recovered: r.recovered,
              discarded: r.discarded,
              lastSequence: r.lastSequence,
              nextSequence: r.nextSequence,
              truncatedBytes: r.truncatedBytes,
              damage,
              damagedRanges: r.damagedRanges,
              segments: r.segments.length,
            }),
          );
        } else {
          ctx.out(
            `recovered ${r.recovered} records (last sequence ${r.lastSequence}), discarded ${r.discarded}, torn tail ${r.truncatedBytes} bytes`,
          );
          if (damage) {
            ctx.out(
              `damage at ${esc(damage.segment)} byte ${damage.offset}, sequence ${damage.sequence}: ${
                esc(damage.reason)
              }`,
            );
          }
        }
        return 0;
      }
      case "truncate": {
        const before = intFlag(ctx.values, "before", 1);
        if (before === undefined) throw new UsageError("log truncate needs --before SEQ");
        await mustExist(ctx, dir!);
        const log = await openLog(dir!, { fs: ctx.fs, create: false });
        try {
          const r = await log.truncate({ before });
          if (ctx.json) ctx.out(JSON.stringify({ before, removed: r.removed }));
          else {ctx.out(
              r.removed.length ? `removed ${escapeList(r.removed)}` : "no whole segment precedes that sequence",
            );}
        } finally {
          await log.close();
        }
        return 0;
      }
      case "repair": {
        await mustExist(ctx, dir!);
        const r = await repairLog(dir!, { fs: ctx.fs });
        if (ctx.json) ctx.out(JSON.stringify(r));
        else if (r.repaired) {
          ctx.out(
            `moved ${r.cutBytes} damaged bytes into ${
              escapeList(r.sideFiles)
            }; log ends at sequence ${r.lastSequence}, the next append takes ${r.nextSequence}`,
          );
        } else {ctx.out(
            `no damage${
              r.sideFile ? `; moved a torn tail of ${r.cutBytes} bytes into ${esc(r.sideFile)}` : ""
            }; log ends at sequence ${r.lastSequence}`,
          );}
        return 0;
      }
      default:
        throw new UsageError(
          `unknown log subcommand '${sub}'${
            didYouMean(sub!, SUBCOMMANDS) || " (expected append, replay, truncate or repair)"
          }`,
        );
    }
  },
};
