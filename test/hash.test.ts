// The kernel's CRC-32 and SHA-256 against independent implementations (node:crypto, zlib.crc32,
// WebCrypto, hash-wasm), for every variant: the scalar and SIMD builds, the slicing and the
// sparse-multiple CRC loops, and the 4-lane multi-buffer SHA-256. Edge sizes sit on the boundaries
// each loop has: the SHA block and padding (55/56/63/64/65), the slicing step (16), the sparse
// loop's threshold (8 KiB) and ring wrap (2048 + 300 units of 16 B), the I/O window (1 MiB), and
// several MiB.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as zlib from "node:zlib";
import { crc32 as hwCrc32, sha256 as hwSha256 } from "hash-wasm";
import {
  crc32,
  crc32With,
  createSha256,
  sha256,
  sha256Concat,
  Sha256Hasher,
  sha256Many,
  sha256With,
  toHex,
} from "../src/hash.ts";
import { type Kernel, kernel, loadKernel, parseKernelChoice, scalarRoundsHere, useKernel } from "../src/wasm/kernel.ts";
import { UsageError } from "../src/errors.ts";
import { randomBytes, rng, test } from "./kit.ts";

const enc = new TextEncoder();
const IO = kernel().io.length;
// assembly/crc32-sparse.ts: used from SPARSE_MIN bytes; its ring wraps every RING units and the
// last DEGREE units go to the slicing loop, so m = RING + DEGREE units ends removal on a wrap.
const SPARSE_MIN = 8 * 1024;
const DEGREE = 300;
const RING = 2048;
const WRAP = 16 * (RING + DEGREE);
const EDGE_SIZES = [
  0,
  1,
  3,
  15,
  16,
  17,
  55,
  56,
  57,
  63,
  64,
  65,
  119,
  120,
  127,
  128,
  129,
  511,
  512,
  513,
  4095,
  4096,
  4097,
  SPARSE_MIN - 1,
  SPARSE_MIN,
  SPARSE_MIN + 1,
  SPARSE_MIN + 15,
  SPARSE_MIN + 16,
  16 * RING - 1,
  16 * RING,
  16 * RING + 16,
  WRAP - 16,
  WRAP - 1,
  WRAP,
  WRAP + 1,
  WRAP + 16,
  16 * (2 * RING + DEGREE) + 5,
  65535,
  65536,
  65537,
  IO - 1,
  IO,
  IO + 1,
  2 * IO + 7,
  5 * 1024 * 1024 + 3,
];

const nodeSha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const zlibCrc = (b: Uint8Array) => (zlib as unknown as { crc32(b: Uint8Array, s?: number): number }).crc32(b) >>> 0;

/** Every build this engine runs (engines without SIMD run scalar only). */
const VARIANTS = ["scalar", "simd"] as const;
const builds: Kernel[] = VARIANTS.map((v) => loadKernel(v)).filter((k): k is Kernel => k !== undefined);

/** CRC through one export of one build, bytes copied into its window (seed chained across windows). */
function crcVia(k: Kernel, fn: "crc32" | "crc32Wide", b: Uint8Array, seed = 0): number {
  let c = seed;
  for (let off = 0; off === 0 || off < b.length; off += k.io.length) {
    const part = b.subarray(off, Math.min(off + k.io.length, b.length));
    k.io.set(part);
    c = k.exports[fn](c, k.ioPtr, part.length) >>> 0;
  }
  return c;
}

test("crc32 known answers", () => {
  assert.equal(crc32(enc.encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(enc.encode("The quick brown fox jumps over the lazy dog")), 0x414fa339);
  assert.equal(crc32(new Uint8Array(32)), 0x190a55ad);
  assert.equal(crc32(new Uint8Array(32).fill(0xff)), 0xff6cab0b);
});

test("sha256 NIST vectors", () => {
  assert.equal(toHex(sha256(enc.encode(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  assert.equal(toHex(sha256(enc.encode("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(
    toHex(sha256(enc.encode("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    toHex(
      sha256(
        enc.encode(
          "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        ),
      ),
    ),
    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
  );
  const million = new Uint8Array(1_000_000).fill(0x61);
  assert.equal(toHex(sha256(million)), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
});

test("crc32 and sha256 match zlib, node:crypto and hash-wasm on edge sizes", async () => {
  const next = rng(1);
  for (const n of EDGE_SIZES) {
    const b = randomBytes(n, next);
    assert.equal(crc32(b), zlibCrc(b), `crc32 size ${n}`);
    assert.equal(crc32(b).toString(16).padStart(8, "0"), await hwCrc32(b), `crc32 vs hash-wasm size ${n}`);
    assert.equal(toHex(sha256(b)), nodeSha(b), `sha256 size ${n}`);
    assert.equal(toHex(sha256(b)), await hwSha256(b), `sha256 vs hash-wasm size ${n}`);
  }
});

test("the sparse CRC's Q(z) = z^300 + z^155 + z^117 + z^89 + 1 is a multiple of P for z = x, x^64, x^128", () => {
  // Plain GF(2) arithmetic, independent of the kernel: x^n mod P by repeated multiplication by x
  // (P = 0x104C11DB7, normal bit order). A multiple of P is what makes the reduction exact.
  const mulx = (r: number) => ((r << 1) ^ (r & 0x80000000 ? 0x04c11db7 : 0)) >>> 0;
  const xpow = (n: number) => {
    let v = 1;
    for (let i = 0; i < n; i++) v = mulx(v);
    return v;
  };
  const terms = [300, 155, 117, 89, 0];
  for (const unitBits of [1, 64, 128]) {
    assert.equal(terms.reduce((acc, e) => acc ^ xpow(unitBits * e), 0), 0, `z = x^${unitBits}`);
  }
  // …and the check can fail: moving one term breaks divisibility.
  assert.notEqual([300, 155, 117, 88, 0].reduce((acc, e) => acc ^ xpow(128 * e), 0), 0);
});

test("every build's crc32 (slicing) and crc32Wide (sparse from 8 KiB) equal zlib on edge sizes and seeds", () => {
  assert.ok(builds.length >= 1);
  const next = rng(11);
  for (const k of builds) {
    for (const n of EDGE_SIZES) {
      const b = randomBytes(n, next);
      const want = zlibCrc(b);
      assert.equal(crcVia(k, "crc32", b), want, `${k.variant} crc32 size ${n}`);
      assert.equal(crcVia(k, "crc32Wide", b), want, `${k.variant} crc32Wide size ${n}`);
      assert.equal(crc32With(k, b), want, `${k.variant} crc32With size ${n}`);
    }
    // A nonzero seed is folded into the first unit: chain a prefix's CRC into a rest long enough
    // for the sparse loop, over random lengths around and past a ring wrap.
    for (let i = 0; i < 20; i++) {
      const a = randomBytes((next() * 100) | 0, next);
      const rest = randomBytes(SPARSE_MIN + ((next() * 3 * WRAP) | 0), next);
      const whole = new Uint8Array(a.length + rest.length);
      whole.set(a);
      whole.set(rest, a.length);
      assert.equal(crcVia(k, "crc32Wide", rest, zlibCrc(a)), zlibCrc(whole), `${k.variant} seeded, ${rest.length} B`);
    }
  }
});

test("every build's sha256 (one stream) equals node:crypto on edge sizes", () => {
  const next = rng(12);
  for (const k of builds) {
    for (const n of EDGE_SIZES.filter((s) => s > 0 && s <= k.io.length)) {
      const b = randomBytes(n, next);
      assert.equal(toHex(sha256Many(b, n, { kernel: k })), nodeSha(b), `${k.variant} size ${n}`);
    }
  }
});

test("the SIMD build's two one-stream round loops (vector schedule, scalar rounds) both equal node:crypto", () => {
  const k = builds.find((b) => b.variant === "simd");
  if (!k) return; // an engine without SIMD runs the scalar build only (covered above)
  const next = rng(14);
  try {
    for (const scalarRounds of [0, 1]) {
      k.exports.sha256ScalarRounds(scalarRounds);
      for (const n of [55, 56, 64, 65, 4096, 65537, k.io.length]) {
        const b = randomBytes(n, next);
        assert.equal(toHex(sha256With(k, b)), nodeSha(b), `scalarRounds=${scalarRounds} size ${n}`);
        // Split the input so the streaming path (buffered partial blocks) runs too.
        const h: Sha256Hasher = new Sha256Hasher(k);
        h.update(b.subarray(0, n >> 1)).update(b.subarray(n >> 1));
        assert.equal(toHex(h.digest()), nodeSha(b), `scalarRounds=${scalarRounds} split size ${n}`);
      }
    }
  } finally {
    k.exports.sha256ScalarRounds(scalarRoundsHere("simd") ? 1 : 0); // what loadKernel chose for this engine
  }
});

test("sha256Many: 4-lane SIMD and scalar digests equal node:crypto per block, any count and tail", () => {
  const next = rng(13);
  const blockSizes = [1, 31, 32, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 4095, 4096, 4097, 65536];
  for (const k of builds) {
    for (const bs of blockSizes) {
      for (const count of [1, 2, 3, 4, 5, 7, 8, 9, 13]) {
        const tail = (next() * 3) | 0 ? 0 : 1 + ((next() * (bs - 1)) | 0); // sometimes a short last block
        const b = randomBytes(bs * count + (tail < bs ? tail : 0), next);
        const got = sha256Many(b, bs, { kernel: k });
        const blocks = Math.ceil(b.length / bs);
        assert.equal(got.length, blocks * 32);
        for (let i = 0; i < blocks; i++) {
          assert.equal(
            toHex(got.subarray(i * 32, i * 32 + 32)),
            nodeSha(b.subarray(i * bs, (i + 1) * bs)),
            `${k.variant} block ${i} of ${blocks}, size ${bs}`,
          );
        }
      }
    }
  }
});

test("sha256Many across calls: more blocks than one window or the digest area holds", () => {
  const next = rng(14);
  for (const k of builds) {
    for (const [bs, n] of [[64, 2048 + 5], [4096, 300], [IO / 2 + 1, 3], [IO + 5, 2]] as const) {
      const b = randomBytes(bs * n, next);
      const got = sha256Many(b, bs, { kernel: k });
      for (const i of [0, 1, n - 2, n - 1, (n / 2) | 0]) {
        assert.equal(
          toHex(got.subarray(i * 32, i * 32 + 32)),
          nodeSha(b.subarray(i * bs, (i + 1) * bs)),
          `${k.variant} ${bs} B × ${n}, block ${i}`,
        );
      }
    }
    assert.throws(() => sha256Many(new Uint8Array(10), 0, { kernel: k }), RangeError);
  }
});

test("sha256 matches WebCrypto", async () => {
  const next = rng(2);
  for (const n of [0, 1, 55, 56, 64, 1000, 70_000]) {
    const b = randomBytes(n, next);
    const web = new Uint8Array(await crypto.subtle.digest("SHA-256", b as BufferSource));
    assert.deepEqual(sha256(b), web, `size ${n}`);
  }
});

test("1,000 random inputs agree with node:crypto and zlib", () => {
  const next = rng(3);
  for (let i = 0; i < 1000; i++) {
    const b = randomBytes((next() * 40000) | 0, next);
    assert.equal(crc32(b), zlibCrc(b));
    assert.equal(toHex(sha256(b)), nodeSha(b));
  }
});

test("streaming: random split points equal the one-shot result", () => {
  const next = rng(4);
  for (let i = 0; i < 200; i++) {
    const n = (next() * (i % 10 === 0 ? 3 * IO : 50000)) | 0;
    const b = randomBytes(n, next);
    const cuts = [0, ...Array.from({ length: 1 + ((next() * 5) | 0) }, () => (next() * n) | 0), n].sort((x, y) =>
      x - y
    );
    let c = 0;
    const h = createSha256();
    for (let j = 1; j < cuts.length; j++) {
      const part = b.subarray(cuts[j - 1], cuts[j]);
      c = crc32(part, c);
      h.update(part);
    }
    assert.equal(c, zlibCrc(b), `crc split ${cuts}`);
    assert.equal(toHex(h.digest()), nodeSha(b), `sha split ${cuts}`);
  }
});

test("hashers interleave with one-shot calls and sha256Many without sharing state", () => {
  const next = rng(5);
  const a = randomBytes(10_000, next);
  const b = randomBytes(7_777, next);
  const ha = createSha256();
  const hb = createSha256();
  for (let off = 0; off < 10_000; off += 333) {
    ha.update(a.subarray(off, off + 333));
    sha256(b.subarray(0, off % 500)); // takes the kernel's state slot in between
    if (off < b.length) hb.update(b.subarray(off, Math.min(off + 333, b.length)));
    sha256Many(a.subarray(0, 4 * 64), 64);
  }
  assert.equal(toHex(ha.digest()), nodeSha(a));
  assert.equal(toHex(hb.digest()), nodeSha(b));
});

test("updateInKernel hashes bytes placed in the window, interleaved with another hasher", () => {
  const next = rng(7);
  const k = kernel();
  const data = randomBytes(3 * 4096 + 17, next);
  const h = createSha256();
  const other = createSha256();
  for (let off = 0; off < data.length; off += 4096) {
    const part = data.subarray(off, Math.min(off + 4096, data.length));
    other.update(part);
    k.io.set(part);
    h.updateInKernel(k.ioPtr, part.length);
  }
  assert.equal(toHex(h.digest()), nodeSha(data));
  assert.equal(toHex(other.digest()), nodeSha(data));
});

test("bytes already in kernel memory are hashed where they lie, leaving the window as it was; sha256Concat equals the hash of the parts joined", () => {
  const next = rng(11);
  const k = kernel();
  for (const size of [0, 1, 55, 64, 4096, 4097, 70_000]) {
    const data = randomBytes(size, next);
    // Anywhere in kernel memory: the I/O window's middle, and the window's very start.
    for (const at of [0, 12_345]) {
      k.io.set(data, at);
      const view = k.io.subarray(at, at + size);
      assert.equal(toHex(sha256(view)), nodeSha(data), `${size} bytes at ${at}`);
      assert.equal(toHex(createSha256().update(view).digest()), nodeSha(data), `${size} bytes at ${at}, streamed`);
      assert.deepEqual(k.io.subarray(at, at + size), data, "the window is untouched");
    }
  }
  const parts = [enc.encode("CKPTROOT"), randomBytes(32, next), randomBytes(96, next)];
  const joined = new Uint8Array(136);
  joined.set(parts[0]!);
  joined.set(parts[1]!, 8);
  joined.set(parts[2]!, 40);
  assert.equal(toHex(sha256Concat(parts)), nodeSha(joined));
  // A part inside kernel memory (it would be overwritten by a copy into the window) and parts
  // larger than the window together take the streaming path, with the same result.
  k.io.set(parts[2]!, 0);
  assert.equal(toHex(sha256Concat([parts[0]!, parts[1]!, k.io.subarray(0, 96)])), nodeSha(joined));
  const big = randomBytes(IO + 5, next);
  const bigJoined = new Uint8Array(IO + 13);
  bigJoined.set(parts[0]!);
  bigJoined.set(big, 8);
  assert.equal(toHex(sha256Concat([parts[0]!, big])), nodeSha(bigJoined));
  assert.equal(toHex(sha256Concat([])), nodeSha(new Uint8Array(0)));
});

test("a finished hasher refuses more input", () => {
  const h = createSha256().update(enc.encode("x"));
  h.digest();
  assert.throws(() => h.update(enc.encode("y")), TypeError);
  assert.throws(() => h.digest(), TypeError);
});

test("crc32 seed chaining: crc32(b, crc32(a)) === crc32(a ‖ b)", () => {
  const next = rng(6);
  for (let i = 0; i < 100; i++) {
    const a = randomBytes((next() * 300) | 0, next);
    const b = randomBytes((next() * 40000) | 0, next);
    const ab = new Uint8Array(a.length + b.length);
    ab.set(a);
    ab.set(b, a.length);
    assert.equal(crc32(b, crc32(a)), crc32(ab));
  }
});

test("kernel memory is fixed: hashing MiBs never grows it, so views never detach", () => {
  const next = rng(8);
  for (const k of builds) {
    const before = k.exports.memory.buffer.byteLength;
    const big = randomBytes(3 * IO + 5, next);
    crc32With(k, big);
    sha256Many(big, 4096, { kernel: k });
    assert.equal(k.exports.memory.buffer.byteLength, before, k.variant);
    assert.equal(k.mem.buffer, k.exports.memory.buffer, `${k.variant}: the view is still over the live buffer`);
    assert.ok(k.exports.memoryEnd() <= before, `${k.variant}: the layout fits the memory`);
  }
});

test("kernel choice: the best valid build by default, CKPTKIT_KERNEL values checked, no switch after load", () => {
  const k = kernel();
  for (const b of builds) assert.equal(loadKernel(b.variant), b, `${b.variant} is instantiated once`);
  assert.equal(loadKernel("scalar")!.variant, "scalar");
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.CKPTKIT_KERNEL;
  const best = (["simd", "scalar"] as const).find((v) => loadKernel(v) !== undefined);
  if (!env || env === "auto") assert.equal(k.variant, best);
  else assert.equal(k.variant, env);
  for (const v of ["auto", "simd", "scalar"]) assert.equal(parseKernelChoice(v, "test"), v);
  for (const v of ["fast", "relaxed"]) assert.throws(() => parseKernelChoice(v, "CKPTKIT_KERNEL"), UsageError);
  const other = k.variant === "scalar" ? "simd" : "scalar";
  assert.throws(() => useKernel(other), UsageError);
  useKernel(k.variant); // choosing what is already loaded is fine
  assert.equal(kernel(), k);
});
