// SHA-256 (FIPS 180-4), streaming. The state is a 112-byte record owned by the caller, so any
// number of hashers can interleave: the host copies it into STATE, calls update/final, and
// copies it back out.
//
//   state layout: h[8] u32 @0 | total byte length u64 @32 | buffered count u32 @40 |
//                 pad u32 @44 | buffered block 64 B @48        (SHA_STATE_SIZE = 112)
import { SHA_K, SHA_W } from "./layout";

export const SHA_STATE_SIZE: usize = 112;

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

export function sha256Setup(): void {
  for (let i = 0; i < 64; i++) store<u32>(SHA_K + (<usize>i << 2), unchecked(K[i]));
}

export function sha256Init(st: usize): void {
  store<u32>(st, 0x6a09e667, 0);
  store<u32>(st, 0xbb67ae85, 4);
  store<u32>(st, 0x3c6ef372, 8);
  store<u32>(st, 0xa54ff53a, 12);
  store<u32>(st, 0x510e527f, 16);
  store<u32>(st, 0x9b05688c, 20);
  store<u32>(st, 0x1f83d9ab, 24);
  store<u32>(st, 0x5be0cd19, 28);
  store<u64>(st, 0, 32);
  store<u32>(st, 0, 40);
}

/** Compresses `blocks` consecutive 64-byte blocks at `p` into the state at `st`. */
function compress(st: usize, p: usize, blocks: usize): void {
  let h0 = load<u32>(st, 0), h1 = load<u32>(st, 4), h2 = load<u32>(st, 8), h3 = load<u32>(st, 12);
  let h4 = load<u32>(st, 16), h5 = load<u32>(st, 20), h6 = load<u32>(st, 24), h7 = load<u32>(st, 28);
  for (let blk: usize = 0; blk < blocks; blk++) {
    const q = p + (blk << 6);
    for (let i: usize = 0; i < 16; i++) store<u32>(SHA_W + (i << 2), bswap<u32>(load<u32>(q + (i << 2))));
    for (let i: usize = 16; i < 64; i++) {
      const w15 = load<u32>(SHA_W + ((i - 15) << 2));
      const w2 = load<u32>(SHA_W + ((i - 2) << 2));
      const s0 = rotr<u32>(w15, 7) ^ rotr<u32>(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr<u32>(w2, 17) ^ rotr<u32>(w2, 19) ^ (w2 >>> 10);
      store<u32>(SHA_W + (i << 2), load<u32>(SHA_W + ((i - 16) << 2)) + s0 + load<u32>(SHA_W + ((i - 7) << 2)) + s1);
    }
    let a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7;
    for (let i: usize = 0; i < 64; i++) {
      const S1 = rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = h + S1 + ch + load<u32>(SHA_K + (i << 2)) + load<u32>(SHA_W + (i << 2));
      const S0 = rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = S0 + maj;
      h = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h0 += a; h1 += b; h2 += c; h3 += d; h4 += e; h5 += f; h6 += g; h7 += h;
  }
  store<u32>(st, h0, 0); store<u32>(st, h1, 4); store<u32>(st, h2, 8); store<u32>(st, h3, 12);
  store<u32>(st, h4, 16); store<u32>(st, h5, 20); store<u32>(st, h6, 24); store<u32>(st, h7, 28);
}

export function sha256Update(st: usize, ptr: usize, len: usize): void {
  const buf = st + 48;
  let buffered = <usize>load<u32>(st, 40);
  store<u64>(st, load<u64>(st, 32) + <u64>len, 32);
  let p = ptr;
  let n = len;
  if (buffered > 0) {
    const take = min<usize>(64 - buffered, n);
    memory.copy(buf + buffered, p, take);
    buffered += take; p += take; n -= take;
    if (buffered < 64) { store<u32>(st, <u32>buffered, 40); return; }
    compress(st, buf, 1);
    buffered = 0;
  }
  const whole = n >>> 6;
  if (whole > 0) { compress(st, p, whole); p += whole << 6; n -= whole << 6; }
  if (n > 0) memory.copy(buf, p, n);
  store<u32>(st, <u32>n, 40);
}

/** Pads, compresses and writes the 32-byte big-endian digest to `out`. */
export function sha256Final(st: usize, out: usize): void {
  const buf = st + 48;
  let buffered = <usize>load<u32>(st, 40);
  const bits = load<u64>(st, 32) << 3;
  store<u8>(buf + buffered, 0x80);
  buffered++;
  if (buffered > 56) {
    memory.fill(buf + buffered, 0, 64 - buffered);
    compress(st, buf, 1);
    buffered = 0;
  }
  memory.fill(buf + buffered, 0, 56 - buffered);
  store<u64>(buf, bswap<u64>(bits), 56);
  compress(st, buf, 1);
  for (let i: usize = 0; i < 8; i++) store<u32>(out + (i << 2), bswap<u32>(load<u32>(st + (i << 2))));
}

/** One-shot SHA-256 of `len` bytes at `p` into `out`, using the state record at `st`. */
export function sha256Once(st: usize, p: usize, len: usize, out: usize): void {
  sha256Init(st);
  sha256Update(st, p, len);
  sha256Final(st, out);
}
