// Progress bars for long work, drawn on stderr only when it is a terminal, so --json output,
// pipes and --quiet stay clean. Backed by cli-progress (redraw, throttling, terminal width).
// Counts (bench, crashtest, explore) use progress/progressReporter; bytes (save, verify,
// restore, hash, cat to a file) use byteProgress, which prints human units and a rate.
import cliProgress from "cli-progress";
import type { CommandContext } from "./command.ts";

export interface Progress {
  tick(n?: number): void;
  stop(): void;
}

const NONE: Progress = { tick() {}, stop() {} };

export function progress(enabled: boolean, label: string, total: number): Progress {
  if (!enabled || total <= 0) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta}s`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let value = 0;
  return {
    tick(n = 1) {
      value += n;
      bar.update(value);
    },
    stop() {
      bar.stop();
    },
  };
}

/**
 * A progress callback for work whose total is learned from the first report:
 * `update(done, total)` draws (on a terminal only); `stop()` clears the bar.
 */
export function progressReporter(
  enabled: boolean,
  label: string,
): { update(done: number, total: number): void; stop(): void } {
  let bar: Progress | undefined;
  let shown = 0;
  return {
    update(done, total) {
      bar ??= progress(enabled, label, total);
      bar.tick(done - shown);
      shown = done;
    },
    stop() {
      bar?.stop();
    },
  };
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** 1536 → "1.5 KiB", 3 × 2^30 → "3.0 GiB": three significant digits at most, binary units. */
export function humanBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${Math.max(0, Math.round(n || 0))} B`;
  let u = 0;
  while (n >= 1024 && u < UNITS.length - 1) {
    n /= 1024;
    u++;
  }
  return `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ${UNITS[u]}`;
}

export interface ByteProgress {
  /** `done` of `total` bytes (absolute, as the library's onProgress reports them). A new total redraws against it. */
  update(done: number, total: number): void;
  /** Clears the bar (call in `finally`). */
  stop(): void;
}

/** What byteProgress returns when nothing is drawn (callers may skip work that only feeds a bar). */
export const NO_PROGRESS: ByteProgress = { update() {}, stop() {} };

/**
 * Byte progress for one command: "save [████░░░░] 42% | 1.2 GiB / 2.9 GiB | 310 MiB/s | eta 5s".
 * Drawn only when stderr is a terminal (ctx.stderrIsTTY is false under --quiet) and not with
 * --json; `writesStdout` commands (cat) draw only when stdout is not the same terminal.
 */
export function byteProgress(
  ctx: Pick<CommandContext, "stderrIsTTY" | "stdoutIsTTY" | "json" | "quiet">,
  label: string,
  opts: { writesStdout?: boolean } = {},
): ByteProgress {
  if (!ctx.stderrIsTTY || ctx.json || ctx.quiet || (opts.writesStdout && ctx.stdoutIsTTY)) return NO_PROGRESS;
  let bar: cliProgress.SingleBar | undefined;
  let shownTotal = -1;
  const start = Date.now();
  const rate = (done: number) => {
    const s = (Date.now() - start) / 1000;
    return s < 0.2 ? "…" : `${humanBytes(done / s)}/s`;
  };
  return {
    update(done, total) {
      if (total <= 0) return; // a source of unknown size: nothing honest to draw
      if (!bar) {
        bar = new cliProgress.SingleBar({
          format: `${label} [{bar}] {percentage}% | {value} / {total} | {rate} | eta {eta_formatted}`,
          formatValue: (v, _o, type) => (type === "value" || type === "total" ? humanBytes(Number(v)) : String(v)),
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        }, cliProgress.Presets.shades_classic);
        bar.start(total, 0, { rate: "…" });
      } else if (total !== shownTotal) bar.setTotal(total);
      shownTotal = total;
      bar.update(Math.min(done, total), { rate: rate(done) });
    },
    stop() {
      bar?.stop();
    },
  };
}
