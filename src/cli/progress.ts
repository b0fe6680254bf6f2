// Progress bars for long work (verify, restore, bench, crashtest), drawn on stderr only when it
// is a terminal, so --json output and pipes stay clean. Backed by cli-progress.
import cliProgress from "cli-progress";

export interface Progress {
  tick(n?: number): void;
  stop(): void;
}

const NONE: Progress = { tick() {}, stop() {} };

export function progress(enabled: boolean, label: string, total: number): Progress {
  if (!enabled || total <= 0) return NONE;
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta}s`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
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
export function progressReporter(enabled: boolean, label: string): { update(done: number, total: number): void; stop(): void } {
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
