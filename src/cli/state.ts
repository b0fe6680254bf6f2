// `ckpt state inspect DIR`: a durable-state directory (openState: <dir>/snap + <dir>/wal) seen
// read-only — snapshots with their last sequence, the log's range, and what recovery would do.
import { UsageError } from "../errors.ts";
import { inspectState } from "../state/inspect.ts";
import type { Command } from "./command.ts";
import { need } from "./flags.ts";

export const stateCommand: Command = {
  name: "state",
  usage: "state inspect <dir> [--json]",
  summary: "durable state (snapshots + log): snapshots, log range, and what recovery would do",
  help: [
    "inspect   read-only: each snapshot's step, status (verified), last sequence and marker; the",
    "          log's first/last sequence and segments; the snapshot recovery would load and how",
    "          many records it would replay (exit 1 when recovery is impossible)",
  ].join("\n"),
  options: {},
  exits: "0 recovery possible, 1 recovery impossible, 2 usage error, 3 I/O error",
  async run(ctx) {
    const [sub, dir] = need(ctx, 2, "a subcommand (inspect) and <dir>");
    if (sub !== "inspect") throw new UsageError(`unknown state subcommand '${sub}' (expected inspect)`);
    const r = await inspectState(dir!, { fs: ctx.fs });
    if (ctx.json) {
      ctx.out(JSON.stringify(r));
      return r.recovery.possible ? 0 : 1;
    }
    ctx.out(`snapshots (${r.snapshots.length}):`);
    for (const s of r.snapshots) {
      ctx.out(
        `  step ${s.step}  ${s.status}  last sequence ${s.lastSequence ?? "?"}  marker ${s.markSequence ?? "?"}${
          s.markerInLog ? "" : " (not in log)"
        }  ${s.bytes} bytes`,
      );
    }
    const l = r.log;
    ctx.out(
      `log: ${l.segments} segment${l.segments === 1 ? "" : "s"}, sequences ${
        l.firstSequence ?? "-"
      }..${l.lastSequence}, ${l.dataRecords} changes, ${l.markers} markers${
        l.tornTailBytes ? `, torn tail ${l.tornTailBytes} bytes` : ""
      }`,
    );
    if (l.damage) {
      ctx.out(
        `log damage at ${l.damage.segment} byte ${l.damage.offset}, sequence ${l.damage.sequence}: ${l.damage.reason}`,
      );
    }
    const rec = r.recovery;
    for (const s of rec.skipped) ctx.out(`recovery skips step ${s.step}: ${s.reason}`);
    if (!rec.possible) ctx.out(`recovery: impossible: ${rec.reason}`);
    else {ctx.out(
        `recovery: ${
          rec.step === null ? "initial value" : `snapshot step ${rec.step}`
        }, then replay ${rec.replay} change${rec.replay === 1 ? "" : "s"}`,
      );}
    return rec.possible ? 0 : 1;
  },
};
