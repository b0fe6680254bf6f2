// Sequential reader over one segment file with a refillable window (shared by the scanner, the
// torn-tail rule and the sequence floor). Lengths come from the file and are bounded by its size.
import type { FileHandle } from "../fs.ts";
import { readFully } from "../fs-util.ts";

const WINDOW = 1 << 20;

export const u32 = (b: Uint8Array, i: number) =>
  (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;

export class Window {
  buf = new Uint8Array(0);
  start = 0; // file offset of buf[0]
  constructor(private readonly h: FileHandle, readonly size: number) {}
  /** Makes bytes [off, off+len) available (len bounded by the file); returns false past EOF. */
  async ensure(off: number, len: number): Promise<boolean> {
    if (off + len > this.size) return false;
    if (this.has(off, len)) return true;
    const want = Math.min(Math.max(len, WINDOW), this.size - off);
    if (this.buf.length < want) this.buf = new Uint8Array(want);
    const view = this.buf.subarray(0, want);
    await readFully(this.h, view, off);
    this.buf = view;
    this.start = off;
    return true;
  }
  /** Whether bytes [off, off+len) are in the window now. */
  has(off: number, len: number): boolean {
    return off >= this.start && off + len <= this.start + this.buf.length;
  }
  /** Bytes [off, off+len) (len at most 1 MiB, inside the file), valid until the next ensure. */
  async bytes(off: number, len: number): Promise<Uint8Array> {
    if (!(await this.ensure(off, len))) {
      throw new RangeError(`bytes ${off}+${len} are past the end of a ${this.size}-byte file`);
    }
    return this.buf.subarray(off - this.start, off - this.start + len);
  }
}
