// Coalesces a member's encoded pieces into writes of about 1 MiB (one write syscall for a small
// member). Its own module so that the sized and the unsized member writers share it without
// importing each other.
import type { FileHandle } from "../fs.ts";
import type { FlushBehind } from "./flush-behind.ts";

const WRITE_BATCH = 1 << 20;

export class BatchedWriter {
  /** Allocated on the first flush that joins pieces, then reused (each write is awaited before the next put). */
  private batch: Uint8Array | undefined;
  private pieces: Uint8Array[] = [];
  private pending = 0;
  private pos = 0;
  /** `flush`: told of every write, so a large member is flushed while it is written. */
  constructor(private readonly h: FileHandle, private readonly flushBehind?: FlushBehind) {}
  async put(b: Uint8Array): Promise<void> {
    this.pieces.push(b);
    this.pending += b.length;
    if (this.pending >= WRITE_BATCH) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.pending === 0) return;
    let buf: Uint8Array;
    if (this.pieces.length === 1) buf = this.pieces[0]!;
    else {
      // Sized to what is pending (a small member allocates a few KiB, not a batch's worth).
      if (!this.batch || this.batch.length < this.pending) this.batch = new Uint8Array(this.pending);
      buf = this.batch.subarray(0, this.pending);
      let o = 0;
      for (const p of this.pieces) {
        buf.set(p, o);
        o += p.length;
      }
    }
    await this.h.write(buf, this.pos);
    this.flushBehind?.wrote(buf.length);
    this.pos += buf.length;
    this.pieces = [];
    this.pending = 0;
  }
}
