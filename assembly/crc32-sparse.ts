// CRC-32 by reduction modulo a sparse multiple of the polynomial (the idea of Russell's
// "Chorba", arXiv 2412.16398; this derivation and code are our own).
//
// The CRC is the message's remainder modulo P. For any multiple Q = P·A, (M mod Q) mod P =
// M mod P, and a Q with few terms makes "mod Q" cheap. Here
//
//     Q(z) = z^300 + z^155 + z^117 + z^89 + 1,   P(x) divides Q(x^(2^j)) for every j ≥ 0
//
// (found by a meet-in-the-middle search over x^(128e) mod P; once P | Q(x^128), squaring, an
// automorphism over GF(2), gives every other power of two, so one Q serves 16-byte vector
// units and 8-byte word units alike; test/hash.test.ts re-derives it).
//
// Units are 16 bytes. Unit i of an m-unit message is the coefficient of z^(m-1-i); the
// reflected bit order stays inside a unit, so adding units is a plain 128-bit XOR. Removing
// the leading unit U adds U to the units 145, 183, 211 and 300 further on (300 - e for each
// lower term z^e of Q). Going front to back, unit i's value once everything before it has
// been removed is
//
//     U_i = in_i ^ U_(i-145) ^ U_(i-183) ^ U_(i-211) ^ U_(i-300)
//
// four loads and four XORs per 16 bytes and no table, against 16 table lookups for the
// slicing loop. After the first m - 300 units are removed, the last 300 (4800 bytes) hold
// M mod Q; slicing-by-16 finishes them from a zero register. The caller's register is folded
// into the first four bytes beforehand (a raw register r over M equals register 0 over M with
// r XORed into its first 32 bits), so the removed, now-zero units contribute nothing.
//
// The input is never written: the U_i go to a ring (SPARSE_RING) holding the last 300 plus
// RING_UNITS more; q points at U_(i-300)'s slot, so every read is q plus a positive constant
// (the engine folds it into the load), and when q reaches the ring's end the newest 300 slots
// are copied back to the start.
import { SPARSE_RING, SPARSE_RING_UNITS, SPARSE_TAIL } from "./layout";
import { crc32Raw } from "./crc32";

/** Degree of Q in units; also the number of units left for the slicing loop. */
export const SPARSE_DEGREE: usize = 300;
/**
 * Below this the slicing loop alone is faster: the 4800-byte remainder dominates. Measured
 * crossover 6–8 KiB in V8 and JavaScriptCore (at 8 KiB: 1.2–1.4× the slicing loop).
 */
export const SPARSE_MIN: usize = 8 * 1024;

const D: usize = SPARSE_DEGREE;
const O300: usize = 0; // U_(i-300) relative to q
const O211: usize = (D - 211) << 4;
const O183: usize = (D - 183) << 4;
const O145: usize = (D - 145) << 4;
const ONEW: usize = D << 4; // U_i itself

// @ts-ignore: decorator
@inline function unitV(p: usize, q: usize): v128 {
  return v128.xor(
    v128.xor(v128.load(p), v128.load(q, O300)),
    v128.xor(v128.load(q, O211), v128.xor(v128.load(q, O183), v128.load(q, O145))),
  );
}

// @ts-ignore: decorator
@inline function unitLo(p: usize, q: usize): u64 {
  return load<u64>(p) ^ load<u64>(q, O300) ^ load<u64>(q, O211) ^ load<u64>(q, O183) ^ load<u64>(q, O145);
}

// @ts-ignore: decorator
@inline function unitHi(p: usize, q: usize): u64 {
  return load<u64>(p, 8) ^ load<u64>(q, O300 + 8) ^ load<u64>(q, O211 + 8) ^ load<u64>(q, O183 + 8) ^ load<u64>(q, O145 + 8);
}

/** Removes n units starting at p, writing each U_i at q + 300 units; returns nothing (p, q advance by n). */
// @ts-ignore: decorator
@inline function removeUnits(p: usize, q: usize, n: usize): void {
  const end = p + (n << 4);
  if (ASC_FEATURE_SIMD) {
    while (p + 64 <= end) {
      v128.store(q, unitV(p, q), ONEW);
      v128.store(q + 16, unitV(p + 16, q + 16), ONEW);
      v128.store(q + 32, unitV(p + 32, q + 32), ONEW);
      v128.store(q + 48, unitV(p + 48, q + 48), ONEW);
      p += 64; q += 64;
    }
    while (p < end) { v128.store(q, unitV(p, q), ONEW); p += 16; q += 16; }
  } else {
    while (p + 32 <= end) {
      const a = unitLo(p, q), b = unitHi(p, q);
      const c = unitLo(p + 16, q + 16), d = unitHi(p + 16, q + 16);
      store<u64>(q, a, ONEW); store<u64>(q, b, ONEW + 8);
      store<u64>(q + 16, c, ONEW); store<u64>(q + 16, d, ONEW + 8);
      p += 32; q += 32;
    }
    while (p < end) {
      const a = unitLo(p, q), b = unitHi(p, q);
      store<u64>(q, a, ONEW); store<u64>(q, b, ONEW + 8);
      p += 16; q += 16;
    }
  }
}

/** The raw-register contract of crc32Raw; len must be ≥ SPARSE_MIN (callers check). */
export function crc32SparseRaw(crc: u32, ptr: usize, len: usize): u32 {
  const m = len >> 4;
  const ringEnd = SPARSE_RING + (SPARSE_RING_UNITS << 4);
  memory.fill(SPARSE_RING, 0, D << 4); // U_(-300) .. U_(-1) are zero
  // Unit 0 carries the folded register; nothing precedes it.
  store<u64>(SPARSE_RING, load<u64>(ptr) ^ <u64>crc, ONEW);
  store<u64>(SPARSE_RING, load<u64>(ptr, 8), ONEW + 8);
  let p = ptr + 16;
  let q = SPARSE_RING + 16;
  let left = m - D - 1; // units still to remove
  while (left > 0) {
    let n = (ringEnd - q) >> 4;
    if (n > left) n = left;
    removeUnits(p, q, n);
    p += n << 4; q += n << 4; left -= n;
    if (q == ringEnd) { memory.copy(SPARSE_RING, ringEnd, D << 4); q = SPARSE_RING; }
  }
  // The last 300 units: their value is in_j plus what removed units added; later removed-unit
  // reads must see zero for them, so their ring slots get zero and the values go to SPARSE_TAIL.
  for (let j: usize = 0; j < D; j++) {
    if (ASC_FEATURE_SIMD) {
      v128.store(SPARSE_TAIL + (j << 4), unitV(p, q));
      v128.store(q, i64x2.splat(0), ONEW);
    } else {
      store<u64>(SPARSE_TAIL + (j << 4), unitLo(p, q));
      store<u64>(SPARSE_TAIL + (j << 4), unitHi(p, q), 8);
      store<u64>(q, 0, ONEW); store<u64>(q, 0, ONEW + 8);
    }
    p += 16; q += 16;
    if (q == ringEnd) { memory.copy(SPARSE_RING, ringEnd, D << 4); q = SPARSE_RING; }
  }
  const r = crc32Raw(0, SPARSE_TAIL, D << 4);
  return crc32Raw(r, p, len & 15);
}

/** Same contract as crc32Update. */
export function crc32Sparse(seed: u32, ptr: usize, len: usize): u32 {
  return len < SPARSE_MIN ? ~crc32Raw(~seed, ptr, len) : ~crc32SparseRaw(~seed, ptr, len);
}
