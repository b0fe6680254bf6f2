// Deterministic fault injection (`ckpt corrupt` and the corruption experiments share this code).
//   bitflip    flip one bit in each of `length` bytes (default 1) from `offset`
//   zerorange  overwrite `length` bytes (default 1..64, seeded) from `offset` with zeros
//   truncate   cut the file to `offset` bytes, or remove `length` bytes from its end
// Unset offsets and lengths are drawn from the seed, so the same seed damages the same bytes.
import { UsageError } from "./errors.ts";
import type { DurableFs } from "./fs.ts";
import { readFully } from "./fs-util.ts";
import { randInt, rng } from "./rng.ts";

export const CORRUPT_MODES = ["bitflip", "zerorange", "truncate"] as const;
export type CorruptMode = (typeof CORRUPT_MODES)[number];

/** Bits `ckpt corrupt` lists for a bitflip (the first ones, in byte order; the rest are counted). */
export const CORRUPT_BITS_SHOWN = 64;

export interface CorruptOptions {
  seed?: number;
  offset?: number;
  length?: number;
}

export interface CorruptPlan {
  mode: CorruptMode;
  seed: number;
  offset: number;
  length: number;
  /** bitflip: the bit (0..7) flipped in each byte (one byte each: --length may be the file's size). */
  bits?: Uint8Array;
  sizeBefore: number;
  sizeAfter: number;
}

export function parseCorruptMode(m: string): CorruptMode {
  if ((CORRUPT_MODES as readonly string[]).includes(m)) return m as CorruptMode;
  throw new UsageError(`--mode must be one of ${CORRUPT_MODES.join(", ")}, got '${m}'`);
}

export function planCorruption(size: number, mode: CorruptMode, o: CorruptOptions = {}): CorruptPlan {
  const seed = o.seed ?? 1;
  const next = rng(seed);
  if (mode === "truncate") {
    if (size === 0) throw new UsageError("cannot truncate an empty file");
    let to: number;
    if (o.offset !== undefined) to = o.offset;
    else if (o.length !== undefined) to = size - o.length;
    else to = randInt(next, 0, size);
    if (to < 0 || to >= size) {
      throw new UsageError(`truncate must leave 0..${size - 1} bytes of ${size}, asked for ${to}`);
    }
    return { mode, seed, offset: to, length: size - to, sizeBefore: size, sizeAfter: to };
  }
  if (size === 0) throw new UsageError(`cannot ${mode} an empty file`);
  const length = o.length ?? (mode === "bitflip" ? 1 : randInt(next, 1, 65));
  if (length < 1) throw new UsageError("--length must be at least 1");
  const offset = o.offset ?? randInt(next, 0, Math.max(1, size - length + 1));
  if (offset >= size) throw new UsageError(`--offset ${offset} is past the end of the ${size}-byte file`);
  const len = Math.min(length, size - offset);
  const plan: CorruptPlan = { mode, seed, offset, length: len, sizeBefore: size, sizeAfter: size };
  if (mode === "bitflip") {
    plan.bits = new Uint8Array(len);
    for (let i = 0; i < len; i++) plan.bits[i] = randInt(next, 0, 8);
  }
  return plan;
}

/** Applies a plan to bytes in memory (returns the damaged copy). */
export function applyCorruption(data: Uint8Array, plan: CorruptPlan): Uint8Array {
  if (plan.mode === "truncate") return data.slice(0, plan.sizeAfter);
  const out = data.slice();
  for (let i = 0; i < plan.length; i++) {
    out[plan.offset + i] = plan.mode === "bitflip" ? out[plan.offset + i]! ^ (1 << plan.bits![i]!) : 0;
  }
  return out;
}

const PIECE = 1024 * 1024;

export interface CorruptReport extends CorruptPlan {
  path: string;
  bytesChanged: number;
}

/** Damages a file in place. Touches only the planned range (no whole-file rewrite). */
export async function corruptFile(
  fs: DurableFs,
  path: string,
  mode: CorruptMode,
  o: CorruptOptions = {},
): Promise<CorruptReport> {
  const h = await fs.open(path, { write: true });
  try {
    const plan = planCorruption(await h.size(), mode, o);
    let changed = plan.length;
    if (mode === "truncate") await h.truncate(plan.sizeAfter);
    else {
      // In pieces: memory stays at one piece whatever --length is.
      changed = 0;
      const buf = new Uint8Array(Math.min(plan.length, PIECE));
      for (let at = 0; at < plan.length; at += PIECE) {
        const n = Math.min(PIECE, plan.length - at);
        const piece = buf.subarray(0, n);
        await readFully(h, piece, plan.offset + at);
        for (let i = 0; i < n; i++) {
          const b = piece[i]!;
          piece[i] = mode === "bitflip" ? b ^ (1 << plan.bits![at + i]!) : 0;
          if (piece[i] !== b) changed++;
        }
        await h.write(piece, plan.offset + at);
      }
    }
    await h.sync();
    return { ...plan, path, bytesChanged: changed };
  } finally {
    await h.close();
  }
}
