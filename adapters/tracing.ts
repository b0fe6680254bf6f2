// Tracing: a DurableFs that wraps any other one and records every primitive it passes on (name,
// basename of the path, start and duration in ms), so a benchmark can show where the time of a
// save goes. Results and errors are the inner fs's own, unchanged; a failed call is recorded
// too, with its errno. The clock is injectable so tests need not depend on real time.
import type { DurableFs, FileHandle, FileStat, OpenOptions, StatOptions } from "../src/fs.ts";
import { basename } from "../src/path.ts";

export type TraceOp =
  | "open"
  | "read"
  | "write"
  | "sync"
  | "datasync"
  | "truncate"
  | "size"
  | "close"
  | "rename"
  | "unlink"
  | "readdir"
  | "mkdir"
  | "rmdir"
  | "syncDir"
  | "stat"
  | "chmod"
  | "link";

export interface TraceEvent {
  op: TraceOp;
  /** Basename of the path touched; a rename is "from -> to". */
  path: string;
  /** Milliseconds from the tracer's origin (creation or the last reset()). */
  startMs: number;
  durMs: number;
  /** The errno (or message) of a call that threw. */
  error?: string;
}

export interface TracingFs extends DurableFs {
  readonly inner: DurableFs;
  readonly events: TraceEvent[];
  /** The clock's reading that startMs counts from. */
  readonly origin: number;
  /** Forgets the events so far and restarts the clock's origin at now. */
  reset(): void;
}

type Clock = () => number;

class Tracer {
  events: TraceEvent[] = [];
  origin: number;
  constructor(readonly clock: Clock) {
    this.origin = clock();
  }

  async run<T>(op: TraceOp, path: string, call: () => Promise<T>): Promise<T> {
    const start = this.clock();
    const ev: TraceEvent = { op, path, startMs: start - this.origin, durMs: 0 };
    // Pushed at the call, not at its end, so the events are in call order.
    this.events.push(ev);
    try {
      return await call();
    } catch (err) {
      ev.error = (err as { errno?: string } | null | undefined)?.errno ?? String(err);
      throw err;
    } finally {
      ev.durMs = this.clock() - start;
    }
  }
}

class TracedHandle implements FileHandle {
  private readonly name: string;
  constructor(private readonly h: FileHandle, private readonly t: Tracer) {
    this.name = basename(h.path);
  }
  get path(): string {
    return this.h.path;
  }
  read(buf: Uint8Array, position: number): Promise<number> {
    return this.t.run("read", this.name, () => this.h.read(buf, position));
  }
  write(data: Uint8Array, position: number): Promise<void> {
    return this.t.run("write", this.name, () => this.h.write(data, position));
  }
  sync(): Promise<void> {
    return this.t.run("sync", this.name, () => this.h.sync());
  }
  datasync(): Promise<void> {
    return this.t.run("datasync", this.name, () => this.h.datasync());
  }
  truncate(length: number): Promise<void> {
    return this.t.run("truncate", this.name, () => this.h.truncate(length));
  }
  size(): Promise<number> {
    return this.t.run("size", this.name, () => this.h.size());
  }
  close(): Promise<void> {
    return this.t.run("close", this.name, () => this.h.close());
  }
}

export function tracingFs(inner: DurableFs, clock: Clock = () => performance.now()): TracingFs {
  const t = new Tracer(clock);
  const b = basename;
  return {
    inner,
    get events() {
      return t.events;
    },
    get origin() {
      return t.origin;
    },
    reset() {
      t.events = [];
      t.origin = t.clock();
    },
    name: `tracing:${inner.name}`,
    get capabilities() {
      return inner.capabilities;
    },
    async open(path: string, options?: OpenOptions) {
      return new TracedHandle(await t.run("open", b(path), () => inner.open(path, options)), t);
    },
    rename: (from, to) => t.run("rename", `${b(from)} -> ${b(to)}`, () => inner.rename(from, to)),
    unlink: (path) => t.run("unlink", b(path), () => inner.unlink(path)),
    readdir: (path) => t.run("readdir", b(path), () => inner.readdir(path)),
    mkdir: (path, mode) => t.run("mkdir", b(path), () => inner.mkdir(path, mode)),
    rmdir: (path) => t.run("rmdir", b(path), () => inner.rmdir(path)),
    syncDir: (path) => t.run("syncDir", b(path), () => inner.syncDir(path)),
    stat: (path, options?: StatOptions): Promise<FileStat | null> =>
      t.run("stat", b(path), () => inner.stat(path, options)),
    chmod: (path, mode) => t.run("chmod", b(path), () => inner.chmod(path, mode)),
    pid: () => inner.pid(),
    hostname: () => inner.hostname(),
    processAlive: (pid) => inner.processAlive(pid),
    link: (existing, newPath) => t.run("link", `${b(existing)} -> ${b(newPath)}`, () => inner.link(existing, newPath)),
    processIdentity: () => inner.processIdentity(),
    processState: (pid, start) => inner.processState(pid, start),
    dropUnfinishedWrites: inner.dropUnfinishedWrites && ((dir, ours) => inner.dropUnfinishedWrites!(dir, ours)),
  };
}
