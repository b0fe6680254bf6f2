// The shapes every benchmark suite returns to the orchestrator (`ckpt bench`), which runs each
// suite in a child process of each runtime and merges the results. Values are what one run
// measured; only ratios between rows of the same run mean anything on a shared machine.

/** One measured number: e.g. suite "protocols", case "atomic_dirsync 4 KiB", impl "ckptkit save", metric "p50". */
export interface Row {
  suite: string;
  case: string;
  impl: string;
  runtime: string;
  metric: string;
  value: number;
  unit: string;
  /** Input size in bytes, where the case has one. */
  size?: number;
}

/** Every latency sample of one (case, impl, runtime), in milliseconds, for CDF charts. */
export interface LatencySeries {
  suite: string;
  case: string;
  impl: string;
  runtime: string;
  ms: number[];
}

/** One primitive of a traced operation, relative to the operation's start. */
export interface Span {
  runtime: string;
  /** What was traced, e.g. "atomic_dirsync save 1 MiB". */
  case: string;
  /** The primitive: open, write, fsync, fdatasync, rename, dirsync, close, compute, ... */
  op: string;
  /** The file or directory it touched (basename), "" where none. */
  path: string;
  startMs: number;
  durMs: number;
}

export interface SuiteResult {
  rows: Row[];
  latencies?: LatencySeries[];
  spans?: Span[];
}
