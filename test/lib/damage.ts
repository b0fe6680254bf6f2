// Tiny damage helpers (LevelDB's IncrementByte / ShrinkSize), shared so that no test re-inlines
// its own byte flip. Each damages exactly what it says and nothing else.
import type { MemoryFs } from "../../adapters/memory.ts";
import type { DurableFs } from "../../src/fs.ts";

/** A copy of `bytes` with byte `at` XORed with `mask` (one bit by default: 0x10). */
export function flipped(bytes: Uint8Array, at: number, mask = 0x10): Uint8Array {
  if (at < 0 || at >= bytes.length) throw new RangeError(`flip at ${at}: outside 0..${bytes.length - 1}`);
  const out = bytes.slice();
  out[at]! ^= mask;
  return out;
}

/** Flips byte `at` of a file on the memory simulator in place (no operation is recorded). */
export function flipInMemory(fs: MemoryFs, path: string, at: number, mask = 0x10): void {
  const b = fs.peek(path);
  if (!b) throw new Error(`flip: no file ${path}`);
  fs.poke(path, flipped(b, at, mask));
}

/** Flips byte `at` of a file through any DurableFs (read, XOR, write back, fsync). */
export async function flipInFile(fs: DurableFs, path: string, at: number, mask = 0x10): Promise<void> {
  const h = await fs.open(path, { write: true });
  try {
    const b = new Uint8Array(1);
    if ((await h.read(b, at)) !== 1) throw new RangeError(`flip at ${at}: past the end of ${path}`);
    b[0]! ^= mask;
    await h.write(b, at);
    await h.sync();
  } finally {
    await h.close();
  }
}
